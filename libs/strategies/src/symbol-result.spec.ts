import { allocateCandles, Candles } from '@app/common';
import { DEFAULT_EXECUTION, ExecutionSettings } from './execution';
import { resolveParams } from './registry';
import { StrategySignals } from './signals';
import { buildSymbolResult, evaluateSymbol } from './symbol-result';
import { candlesOf } from './testing/candle-fixtures';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2024-01-01, a Monday. */
const MONDAY = Date.UTC(2024, 0, 1);

/** Candles with the given closes (open = high = low = close) at the given times. */
function closesAt(times: number[], closes: number[]): Candles {
  const candles = allocateCandles(closes.length);
  closes.forEach((close, i) => {
    candles.timestamp[i] = times[i];
    candles.open[i] = candles.high[i] = candles.low[i] = candles.close[i] = close;
    candles.volume[i] = 1;
  });
  return candles;
}

const daily = (count: number) => Array.from({ length: count }, (_, i) => MONDAY + i * DAY);

function signalsAt(indices: number[], holdPeriodBars: number): StrategySignals {
  return {
    indices: Int32Array.from(indices),
    confidence: Float64Array.from(indices, (_, t) => 0.5 + t / 10),
    holdPeriodBars,
  };
}

function expectRelative(actual: number | null, expected: number, tolerance = 1e-9): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual! - expected) / expected)).toBeLessThan(tolerance);
}

const SINGLE: ExecutionSettings = { fee: 0, slippage: 0, positions: 'single' };

describe('buildSymbolResult', () => {
  // Minute bars from 2024-01-01T00:00Z; bar 3 is the spec's long candle on a volume surge.
  const candles = candlesOf([
    [100, 100, 100, 100, 10],
    [100, 100, 100, 100, 10],
    [100, 100, 100, 100, 10],
    [100, 102.8, 99.8, 102.5, 1_000],
    [102.5, 103, 102, 102.5, 10],
    [102.5, 106, 102, 105, 10],
  ]);

  it('builds the per-symbol part of the result document', () => {
    const { strategy, params } = resolveParams('volume_long_candle', { hold_period_bars: 2 });
    const { result } = buildSymbolResult(
      'BTC_KRW',
      candles,
      strategy.run(candles, params),
      DEFAULT_EXECUTION,
      '1M',
    );
    const r = (105 - 102.5) / 102.5;
    expect(result).toEqual({
      symbol: 'BTC_KRW',
      is_active: true,
      candles: 6,
      samples: 1,
      win_rate: 1,
      avg_return: r * 100,
      max_drawdown: 0,
      avg_hold_bars: 2,
      stats: {
        trades: 1,
        signals_skipped: 0,
        total_return_pct: (1 + (r * 100) / 100 - 1) * 100,
        compounded_max_drawdown_pct: 0,
        best_trade_pct: r * 100,
        worst_trade_pct: r * 100,
        profit_factor: null,
        sqn: null,
        buy_hold_return_pct: 5,
        exposure_pct: (100 * 3) / 6,
        // E_k^(365.25 days / 5 minutes) = 1.024…^105,192 overflows: not finite, so null.
        cagr_pct: null,
        return_ann_pct: null,
        volatility_ann_pct: null,
        sharpe: null,
        sortino: null,
        max_drawdown_pct: null,
        calmar: null,
        max_drawdown_duration_s: null,
      },
      signals: [
        {
          symbol: 'BTC_KRW',
          type: 'buy',
          timestamp: '2024-01-01T00:03:00.000Z',
          exit_timestamp: '2024-01-01T00:05:00.000Z',
          entry_price: 102.5,
          exit_price: 105,
          entry_fill: 102.5,
          exit_fill: 105,
          hold_bars: 2,
          return_pct: r,
          confidence: 1,
        },
      ],
      performance_curve: [{ timestamp: '2024-01-01T00:03:00.000Z', equity: 1 + (r * 100) / 100 }],
    });
  });

  it('reports a symbol without signals with zero metrics, empty lists and the stats of no trade', () => {
    const { strategy, params } = resolveParams('volume_zone_breakout', {});
    const { result, portfolio } = buildSymbolResult(
      'ETH_KRW',
      candles,
      strategy.run(candles, params),
      SINGLE,
      '1M',
    );
    expect(result).toMatchObject({
      samples: 0,
      win_rate: 0,
      avg_return: 0,
      max_drawdown: 0,
      avg_hold_bars: 0,
      signals: [],
      performance_curve: [],
    });
    expect(result.stats).toMatchObject({
      trades: 0,
      total_return_pct: 0,
      compounded_max_drawdown_pct: 0,
      best_trade_pct: null,
      profit_factor: null,
      exposure_pct: 0,
      cagr_pct: 0,
      max_drawdown_pct: 0,
      max_drawdown_duration_s: null,
    });
    expect(portfolio.finalEquity).toBe(1);
    expect(Array.from(portfolio.account!.equity)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('survives JSON as the same document', () => {
    const { strategy, params } = resolveParams('volume_long_candle', {});
    const { result } = buildSymbolResult(
      'BTC_KRW',
      candles,
      strategy.run(candles, params),
      { fee: 0.001, slippage: 0.0005, positions: 'single' },
      '1M',
    );
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});

describe('evaluateSymbol', () => {
  it('gives the figures buildSymbolResult puts in the document, and can reuse a buffer', () => {
    const candles = closesAt(daily(6), [100, 104, 99, 103, 108, 101]);
    const signals = signalsAt([0, 1, 3], 2);
    const execution: ExecutionSettings = { fee: 0.001, slippage: 0.0005, positions: 'single' };
    const { result } = buildSymbolResult('A_B', candles, signals, execution, '1D');
    const buffer = new Float64Array(candles.length).fill(Number.NaN);
    const evaluation = evaluateSymbol(candles, signals, execution, '1D', {
      barEquityBuffer: buffer,
    });
    expect(evaluation.stats).toEqual(result.stats);
    expect(evaluation.metrics.avg_return).toBe(result.avg_return);
    expect(evaluation.portfolio.account!.equity).toBe(buffer);
    expect(buffer.every(Number.isFinite)).toBe(true);
  });
});

describe('buildSymbolResult: SPEC §12 worked by hand', () => {
  it('two trades with fee 0.001 and slippage 0.0005', () => {
    // Daily closes 100, 110, 100, 90, 95 (one candle a day from Monday 2024-01-01); signals
    // at bars 0 and 2, held 1 bar. Worked with a 40-digit decimal calculator:
    // trade 1: entry_fill = 100·1.0005 = 100.05, exit_fill = 110·0.9995 = 109.945,
    //   r1 = (109.945·0.999 − 100.05·1.001) / (100.05·1.001) = 9.685005 / 100.15005
    //      = 0.0967049442311811;
    // trade 2: entry_fill = 100.05, exit_fill = 90·0.9995 = 89.955,
    //   r2 = (89.865045 − 100.15005) / 100.15005 = −10.285005 / 100.15005 = −0.1026959547199427.
    const candles = closesAt(daily(5), [100, 110, 100, 90, 95]);
    const run = (positions: 'overlap' | 'single') =>
      buildSymbolResult(
        'ETH_BTC',
        candles,
        signalsAt([0, 2], 1),
        { fee: 0.001, slippage: 0.0005, positions },
        '1D',
      ).result;
    const result = run('single');
    expect(result.signals.map((s) => [s.entry_fill, s.exit_fill, s.hold_bars])).toEqual([
      [100 * 1.0005, 110 * 0.9995, 1],
      [100 * 1.0005, 90 * 0.9995, 1],
    ]);
    expectRelative(result.signals[0].return_pct, 0.0967049442311811);
    expectRelative(result.signals[1].return_pct, -0.1026959547199427);
    expect(result.signals.map((s) => s.confidence)).toEqual([0.5, 0.6]);
    expect(result.signals[1].exit_timestamp).toBe('2024-01-04T00:00:00.000Z');
    const { stats } = result;
    // E_1 = 1 + r1 = 1.0967049442311811, E_2 = E_1·(1 + r2) = 0.9840777829372784.
    expectRelative(stats.total_return_pct, -1.592221706272158);
    // (1 − E_2/E_1)·100 = −r2·100
    expectRelative(stats.compounded_max_drawdown_pct, 10.26959547199427);
    expectRelative(stats.best_trade_pct, 9.67049442311811);
    expectRelative(stats.worst_trade_pct, -10.26959547199427);
    // r1 / |r2| = 9.685005 / 10.285005
    expectRelative(stats.profit_factor, 0.941662643819813);
    // Two trades: √2·mean / (|r1 − r2| / √2) = (r1 + r2) / |r1 − r2| = −0.6 / 19.97001.
    expectRelative(stats.sqn, -0.03004505255630818);
    // (95 − 100) / 100·100; bars 0..3 of 5 in a trade; E_2^(365.25 / 4 days) − 1.
    expect(stats.buy_hold_return_pct).toBe(-5);
    expect(stats.exposure_pct).toBe(80);
    expectRelative(stats.cagr_pct, -76.9059789182456);
    // Bar equity: units = 1 / 100.15005; B_0 = 100·units = 0.9985017481269355,
    // B_1 = 109.835055·units = E_1, B_2 = B_1·100 / 100.15005 = 1.095061803994288,
    // B_3 = B_1·89.865045 / 100.15005 = E_2, B_4 = B_3. One candle a day, so d =
    // 0.09835055, −0.001498251873064467, −0.10134955, 0: mean −0.001124312968266117,
    // stdev 0.08153066991543263, downside √((0.001498…² + 0.10134955²) / 4).
    expect(stats.signals_skipped).toBe(0);
    expectRelative(stats.volatility_ann_pct, 155.7641261636844);
    expectRelative(stats.sharpe, -0.2634587587811404);
    expectRelative(stats.sortino, -0.4238326148178878);
    // g = exp(mean ln(1 + d)) − 1 = −0.0036311319325786; ((1 + g)^365 − 1)·100
    expectRelative(stats.return_ann_pct, -73.49336960117938, 1e-8);
    // From the peak B_1 to B_3: 1 − E_2/E_1, the same fall as the trades' curve.
    expectRelative(stats.max_drawdown_pct, 10.26959547199427);
    expectRelative(stats.calmar, -7.156403560549164, 1e-8);
    // B_1 is the last peak; bars 2..4 stay below it: the last bar ends a 3-day stretch.
    expect(stats.max_drawdown_duration_s).toBe(3 * 86_400);

    // With overlap the same two trades (they do not overlap) give the same trade figures and
    // no account figures.
    const overlap = run('overlap').stats;
    expect(overlap).toEqual({
      ...stats,
      return_ann_pct: null,
      volatility_ann_pct: null,
      sharpe: null,
      sortino: null,
      max_drawdown_pct: null,
      calmar: null,
      max_drawdown_duration_s: null,
    });
  });

  it('no losing trade: profit_factor null; one trade: sqn null', () => {
    // r = 0.01 and 0.0099…: no loss.
    const candles = closesAt(daily(3), [100, 101, 102]);
    const twoWins = buildSymbolResult(
      'A_B',
      candles,
      signalsAt([0, 1], 1),
      DEFAULT_EXECUTION,
      '1D',
    );
    expect(twoWins.result.stats.profit_factor).toBeNull();
    expect(twoWins.result.stats.sqn).not.toBeNull();
    const oneTrade = buildSymbolResult('A_B', candles, signalsAt([0], 2), DEFAULT_EXECUTION, '1D');
    expect(oneTrade.result.stats.sqn).toBeNull();
    expect(oneTrade.result.stats.profit_factor).toBeNull();
    // A single loss: Σ positive r = 0, so profit_factor is 0, not null.
    const loss = closesAt(daily(2), [100, 99]);
    expect(
      buildSymbolResult('A_B', loss, signalsAt([0], 1), DEFAULT_EXECUTION, '1D').result.stats
        .profit_factor,
    ).toBe(0);
  });

  it('skips signals while a single position is open and counts them', () => {
    // Hold 2: the trade 0→2 is open at the signals 1 and 2 (its exit bar); 3→4 is taken.
    const candles = closesAt(daily(5), [100, 105, 110, 100, 120]);
    const { result } = buildSymbolResult('A_B', candles, signalsAt([0, 1, 2, 3], 2), SINGLE, '1D');
    expect(result.samples).toBe(2);
    expect(result.stats.trades).toBe(2);
    expect(result.stats.signals_skipped).toBe(2);
    expect(result.signals.map((s) => [s.timestamp, s.confidence])).toEqual([
      ['2024-01-01T00:00:00.000Z', 0.5],
      ['2024-01-04T00:00:00.000Z', 0.8],
    ]);
    expect(result.performance_curve).toHaveLength(2);
  });

  it('a drawdown that recovers: its duration from the peak to the new peak', () => {
    // Hourly closes 100, 90, 95, 110, 100, one trade 0→3 without costs: B = 1, 0.9, 0.95, 1.1,
    // 1.1. Drawdown 0 at bars 0, 3, 4; bars 1 and 2 lie between 0 and 3: 3 hours. The fall
    // to 0.9 is 10%.
    const hourly = [0, 1, 2, 3, 4].map((hour) => MONDAY + hour * HOUR);
    const candles = closesAt(hourly, [100, 90, 95, 110, 100]);
    const { stats } = buildSymbolResult('A_B', candles, signalsAt([0], 3), SINGLE, '1H').result;
    expect(stats.max_drawdown_duration_s).toBe(3 * 3600);
    expectRelative(stats.max_drawdown_pct, 10, 1e-12);
    // One UTC day: a single period, so no period returns.
    expect(stats.return_ann_pct).toBeNull();
    expect(stats.sharpe).toBeNull();
  });

  it('1W: weekly periods, 52 a year, whether candles open Monday 00:00 UTC or KST', () => {
    // Weekly closes 100, 120, 90, 108; trades 0→1 and 2→3 without costs: B = 1, 1.2, 1.2,
    // 1.2·108/90 = 1.44; one value a week, d = 0.2, 0, 0.2; g = 1.44^(1/3) − 1, so the annual
    // return is (1.44^(52/3) − 1)·100.
    const expected = (Math.pow(1.44, 52 / 3) - 1) * 100;
    for (const offset of [0, -9 * HOUR]) {
      const weekly = [0, 1, 2, 3].map((week) => MONDAY + offset + week * 7 * DAY);
      const candles = closesAt(weekly, [100, 120, 90, 108]);
      const { stats } = buildSymbolResult(
        'A_B',
        candles,
        signalsAt([0, 2], 1),
        SINGLE,
        '1W',
      ).result;
      expectRelative(stats.return_ann_pct, expected);
      // Taken as days the same values would compound 365 times a year.
      const asDays = buildSymbolResult('A_B', candles, signalsAt([0, 2], 1), SINGLE, '1D').result
        .stats;
      expectRelative(asDays.return_ann_pct, (Math.pow(1.44, 365 / 3) - 1) * 100);
    }
  });

  it('a missing day is skipped, not filled', () => {
    // Days 0, 1, 3, 4 (no candle on day 2); closes 100, 110, 121, 133.1; one trade 0→3
    // without costs: B = 1, 1.1, 1.21, 1.331: three returns of 10%, none of 0 for day 2.
    const days = [0, 1, 3, 4].map((day) => MONDAY + day * DAY);
    const candles = closesAt(days, [100, 110, 121, 133.1]);
    const { stats } = buildSymbolResult('A_B', candles, signalsAt([0], 3), SINGLE, '1D').result;
    expectRelative(stats.return_ann_pct, (Math.pow(1.1, 365) - 1) * 100);
    expect(stats.volatility_ann_pct).toBeCloseTo(0, 10);
    // A filled day 2 would have given d = 0.1, 0, 0.1, 0.1 and a volatility of
    // 0.05·√365·100 ≈ 95.
  });

  it('j = i at the last bar: a trade of costs only, and the exit value wins on that bar', () => {
    // Daily closes 100, 100, 100; fee 0.001, slippage 0.0005; signals at 0 and at 2, the last
    // bar, held 1 bar: the second exits where it enters (j = i = 2, 0 bars). Both trades:
    // r = (100·0.9995·0.999 − 100·1.0005·1.001) / (100·1.0005·1.001)
    //   = (99.850050 − 100.150050) / 100.150050 = −0.3 / 100.15005.
    // Bar equity: B_1 = 1 + r after the first trade; the second enters and exits on bar 2:
    // B_2 = units·exit_fill·(1 − fee) = (1 + r)², not units·close = (1 + r) / (1.0005·1.001).
    const candles = closesAt(daily(3), [100, 100, 100]);
    const { result, portfolio } = buildSymbolResult(
      'A_B',
      candles,
      signalsAt([0, 2], 1),
      { fee: 0.001, slippage: 0.0005, positions: 'single' },
      '1D',
    );
    const r = -0.3 / 100.15005;
    expect(result.signals.map((s) => s.hold_bars)).toEqual([1, 0]);
    expect(result.signals[1].exit_timestamp).toBe(result.signals[1].timestamp);
    expectRelative(result.signals[1].return_pct, r, 1e-12);
    expect(result.stats.signals_skipped).toBe(0);
    expectRelative(portfolio.account!.equity[1], 1 + r, 1e-12);
    expectRelative(portfolio.account!.equity[2], (1 + r) * (1 + r), 1e-12);
    // Every bar is in a trade: 0..1 and 2..2.
    expect(result.stats.exposure_pct).toBe(100);
  });
});
