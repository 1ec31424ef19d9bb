import {
  accountStatistics,
  buyAndHoldReturnPct,
  cagrPct,
  calendarOfTimeframe,
  compoundedMaxDrawdownPct,
  exposurePct,
  periodStart,
  profitFactor,
  systemQualityNumber,
  tradeStatistics,
} from './statistics';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2024-01-01 was a Monday. */
const MONDAY = Date.UTC(2024, 0, 1);

const f64 = (values: number[]) => Float64Array.from(values);

function expectRelative(actual: number | null, expected: number, tolerance = 1e-12): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual! - expected) / expected)).toBeLessThan(tolerance);
}

describe('tradeStatistics', () => {
  it('works out a gain of 10% then a loss of 5%', () => {
    // E = 1.1, 1.1·0.95 = 1.045: total (1.045 − 1)·100 = 4.5; drawdown (1 − 1.045/1.1)·100 = 5;
    // profit factor 0.1 / 0.05 = 2; sqn = √2·0.025 / stdev(0.1, −0.05), the stdev being
    // √((0.075² + 0.075²) / 1) = 0.075·√2, so sqn = 0.025 / 0.075 = 1/3.
    const stats = tradeStatistics(f64([0.1, -0.05]), f64([10, -5]), f64([1.1, 1.1 * 0.95]));
    expectRelative(stats.total_return_pct, 4.5);
    expectRelative(stats.compounded_max_drawdown_pct, 5);
    expect(stats.best_trade_pct).toBe(10);
    expect(stats.worst_trade_pct).toBe(-5);
    expectRelative(stats.profit_factor, 2);
    expectRelative(stats.sqn, 1 / 3);
  });

  it('without trades: no return, no drawdown, the rest null', () => {
    expect(tradeStatistics(f64([]), f64([]), f64([]))).toEqual({
      total_return_pct: 0,
      compounded_max_drawdown_pct: 0,
      best_trade_pct: null,
      worst_trade_pct: null,
      profit_factor: null,
      sqn: null,
    });
  });
});

describe('compoundedMaxDrawdownPct', () => {
  it('counts from E_0 = 1, the account before the first trade', () => {
    // E = 0.9, 0.99: the peak is E_0 = 1, so the drawdown is (1 − 0.9/1)·100 = 10.
    expectRelative(compoundedMaxDrawdownPct(f64([0.9, 0.99])), 10);
  });
});

describe('profitFactor', () => {
  it('is null without a losing trade, zeros included', () => {
    expect(profitFactor(f64([0.1, 0, 0.2]))).toBeNull();
    expect(profitFactor(f64([0, 0]))).toBeNull();
  });

  it('is 0 with losses and no gains; zeros count on neither side', () => {
    expect(profitFactor(f64([-0.1, 0]))).toBe(0);
    // (0.3 + 0.1) / |−0.2| = 2
    expectRelative(profitFactor(f64([0.3, 0, -0.2, 0.1])), 2);
  });
});

describe('systemQualityNumber', () => {
  it('is null for one trade: a sample stdev needs two', () => {
    expect(systemQualityNumber(f64([0.05]))).toBeNull();
  });

  it('is null when every r is the same, even where their computed mean is not', () => {
    const same = f64([0.1, 0.1, 0.1]);
    // The mean of three 0.1 is 0.30000000000000004 / 3, not 0.1: a stdev from it would be
    // rounding noise and the SQN enormous. The rule tests the returns themselves.
    expect((0.1 + 0.1 + 0.1) / 3).not.toBe(0.1);
    expect(systemQualityNumber(same)).toBeNull();
  });

  it('is √k · mean / stdev otherwise', () => {
    // r = 1, 2, 3: mean 2, stdev 1, sqn = √3·2 / 1.
    expectRelative(systemQualityNumber(f64([1, 2, 3])), Math.sqrt(3) * 2);
  });
});

describe('exposurePct', () => {
  it('counts each bar inside at least one trade once', () => {
    // Trades 0..2, 1..3 (overlapping), 6..6 over 10 bars: bars 0, 1, 2, 3, 6 → 50%.
    expect(exposurePct(Int32Array.from([0, 1, 6]), Int32Array.from([2, 3, 6]), 10)).toBe(50);
    expect(exposurePct(Int32Array.from([]), Int32Array.from([]), 10)).toBe(0);
  });
});

describe('buyAndHoldReturnPct and cagrPct', () => {
  it('buy and hold is the first close to the last', () => {
    expect(buyAndHoldReturnPct(f64([100, 80, 150]))).toBe(50);
  });

  it('compounds E_k over years of 365.25 days', () => {
    // E = 1.21 over two years: 1.21^(1/2) = 1.1, a CAGR of 10%.
    expectRelative(cagrPct(1.21, 0, 2 * 365.25 * DAY), 10);
    expect(cagrPct(1.21, 5, 5)).toBeNull();
  });
});

describe('calendarOfTimeframe and periodStart', () => {
  it('takes weeks for 1W only', () => {
    expect(calendarOfTimeframe('1W')).toBe('week');
    expect(calendarOfTimeframe('1w')).toBe('week');
    expect(calendarOfTimeframe('1D')).toBe('day');
    expect(calendarOfTimeframe('1M')).toBe('day');
  });

  it('starts days at 00:00 UTC and weeks on Monday 00:00 UTC', () => {
    expect(periodStart(MONDAY + 23 * HOUR, 'day')).toBe(MONDAY);
    expect(periodStart(MONDAY + 6 * DAY + 23 * HOUR, 'week')).toBe(MONDAY);
    expect(periodStart(MONDAY + 7 * DAY, 'week')).toBe(MONDAY + 7 * DAY);
    expect(periodStart(MONDAY - 1, 'week')).toBe(MONDAY - 7 * DAY);
    expect(new Date(periodStart(Date.UTC(1970, 0, 1), 'week')).toISOString()).toBe(
      '1969-12-29T00:00:00.000Z',
    );
  });
});

describe('accountStatistics', () => {
  it('works out three daily returns of +10%, −10%, +10%', () => {
    // B = 1, 1.1, 0.99, 1.089 on four days: d = 0.1, −0.1, 0.1; mean 1/30; deviations 1/15,
    // −2/15, 1/15, so stdev = √((1 + 4 + 1)/225 / 2) = 1/√75; downside √(0.01/3) = 0.1/√3.
    const stats = accountStatistics(
      f64([MONDAY, MONDAY + DAY, MONDAY + 2 * DAY, MONDAY + 3 * DAY]),
      f64([1, 1.1, 0.99, 1.089]),
      'day',
    );
    // g = (1.1·0.9·1.1)^(1/3) − 1, so (1 + g)^365 = 1.089^(365/3).
    expectRelative(stats.return_ann_pct, (Math.pow(1.089, 365 / 3) - 1) * 100, 1e-9);
    expectRelative(stats.volatility_ann_pct, 100 * Math.sqrt(365 / 75));
    expectRelative(stats.sharpe, (Math.sqrt(75) / 30) * Math.sqrt(365));
    expectRelative(stats.sortino, (Math.sqrt(3) / 3) * Math.sqrt(365));
    // The fall from 1.1 to 0.99 is 10%.
    expectRelative(stats.max_drawdown_pct, 10);
    expectRelative(stats.calmar, stats.return_ann_pct! / 100 / 0.1);
    // 1.089 is still below 1.1: the stretch from day 1 ends at the last bar, two days on.
    expect(stats.max_drawdown_duration_s).toBe(2 * 86_400);
  });

  it('takes the last value of each day, and skips a day without candles rather than filling it', () => {
    // Days 0, 1 and 3 (day 2 has no candle), several bars a day: the period values are the
    // last of each day, 1.2, 1.32, 1.452: two returns of exactly +10%, not three.
    const stats = accountStatistics(
      f64([MONDAY, MONDAY + HOUR, MONDAY + DAY, MONDAY + DAY + HOUR, MONDAY + 3 * DAY]),
      f64([1, 1.2, 1.1, 1.32, 1.452]),
      'day',
    );
    // Two returns of 10% (up to rounding): volatility ~0 and g = 0.1, so 1.1^365. Had day 2
    // been filled with day 1's value, d = 0.1, 0, 0.1 would give g = 1.21^(1/3) − 1 and a
    // volatility far from 0. No negative d: sortino divides by 0, null.
    expect(stats.volatility_ann_pct).toBeCloseTo(0, 12);
    expectRelative(stats.return_ann_pct, (Math.pow(1.1, 365) - 1) * 100, 1e-9);
    expect(stats.sortino).toBeNull();
  });

  it('takes weeks from Monday 00:00 UTC for 1W, 52 a year', () => {
    // A Sunday-night bar and the Monday bar after it are in two weeks; Monday and the next
    // Sunday are in one. Values per week: 1 (week 0), 1.1 (week 1, its Sunday), 1.21 (week 2).
    const stats = accountStatistics(
      f64([
        MONDAY + 6 * DAY + 23 * HOUR,
        MONDAY + 7 * DAY,
        MONDAY + 13 * DAY + 23 * HOUR,
        MONDAY + 14 * DAY,
      ]),
      f64([1, 1.05, 1.1, 1.21]),
      'week',
    );
    // d = 0.1, 0.1 → g = 0.1, A = 52.
    expectRelative(stats.return_ann_pct, (Math.pow(1.1, 52) - 1) * 100, 1e-9);
    // The same bars taken as days would be four periods of three returns.
    const daily = accountStatistics(
      f64([
        MONDAY + 6 * DAY + 23 * HOUR,
        MONDAY + 7 * DAY,
        MONDAY + 13 * DAY + 23 * HOUR,
        MONDAY + 14 * DAY,
      ]),
      f64([1, 1.05, 1.1, 1.21]),
      'day',
    );
    expectRelative(daily.return_ann_pct, (Math.pow(1.21, 365 / 3) - 1) * 100, 1e-9);
  });

  it('measures drawdown durations as backtesting.py does', () => {
    // Hourly B = 1, 2, 1.5, 1.8, 2, 2.5, 2.0, 2.4: at drawdown 0 on bars 0, 1, 4, 5; the last bar
    // (7) ends the last stretch. Stretches with a bar in between: 1→4 (3 h) and 5→7 (2 h).
    const times = f64([0, 1, 2, 3, 4, 5, 6, 7].map((hour) => MONDAY + hour * HOUR));
    const stats = accountStatistics(times, f64([1, 2, 1.5, 1.8, 2, 2.5, 2.0, 2.4]), 'day');
    expect(stats.max_drawdown_duration_s).toBe(3 * 3600);
    expectRelative(stats.max_drawdown_pct, 25);
  });

  it('gives no duration to a drawdown on the last bar alone, nor without any drawdown', () => {
    // B = 1, 2, 1.5: the zeros are bars 0 and 1, the last bar 2 ends a stretch with no bar
    // strictly inside it (backtesting.py keeps only stretches with iloc > prev + 1).
    const times = f64([MONDAY, MONDAY + HOUR, MONDAY + 2 * HOUR]);
    const dropAtEnd = accountStatistics(times, f64([1, 2, 1.5]), 'day');
    expect(dropAtEnd.max_drawdown_duration_s).toBeNull();
    expectRelative(dropAtEnd.max_drawdown_pct, 25);
    const flat = accountStatistics(times, f64([1, 1, 1]), 'day');
    expect(flat.max_drawdown_pct).toBe(0);
    expect(flat.max_drawdown_duration_s).toBeNull();
    expect(flat.calmar).toBeNull();
  });

  it('has no period figures with a single period, and none for a flat account', () => {
    const oneDay = accountStatistics(f64([MONDAY, MONDAY + HOUR]), f64([1, 1.1]), 'day');
    expect([
      oneDay.return_ann_pct,
      oneDay.volatility_ann_pct,
      oneDay.sharpe,
      oneDay.sortino,
    ]).toEqual([null, null, null, null]);
    // Flat for three days: every d is 0, g is 0, the ratios are 0/0.
    const flat = accountStatistics(
      f64([MONDAY, MONDAY + DAY, MONDAY + 2 * DAY]),
      f64([1, 1, 1]),
      'day',
    );
    expect(flat).toEqual({
      return_ann_pct: 0,
      volatility_ann_pct: 0,
      sharpe: null,
      sortino: null,
      max_drawdown_pct: 0,
      calmar: null,
      max_drawdown_duration_s: null,
    });
  });

  it('has no annual return when some 1 + d is not positive', () => {
    // An account wiped out on day 1: d = −1, so 1 + d = 0 and ln(1 + d) is undefined.
    const stats = accountStatistics(
      f64([MONDAY, MONDAY + DAY, MONDAY + 2 * DAY]),
      f64([1, 0, 0]),
      'day',
    );
    expect(stats.return_ann_pct).toBeNull();
    expect(stats.calmar).toBeNull();
    expect(stats.max_drawdown_pct).toBe(100);
  });
});
