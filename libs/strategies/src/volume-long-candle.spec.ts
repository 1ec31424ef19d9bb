import { Bar, candlesOf } from './testing/candle-fixtures';
import { VolumeLongCandleParams, volumeLongCandle } from './volume-long-candle';

const DEFAULTS: VolumeLongCandleParams = {
  vol_ma_window: 20,
  vol_multiplier: 1.5,
  body_pct: 0.02,
  hold_period_bars: 1,
};

const QUIET: Bar = [100, 100, 100, 100, 10];

/** Signals of a series of quiet bars followed by `bar`, with a volume that surely surges. */
function signalsAfterQuietBars(bar: readonly [number, number, number, number], params = DEFAULTS) {
  const [open, high, low, close] = bar;
  return volumeLongCandle(
    candlesOf([QUIET, QUIET, QUIET, [open, high, low, close, 1_000]]),
    params,
  );
}

describe('volume_long_candle', () => {
  it('takes the spec example, open 100 / close 102.5 / high 102.8 / low 99.8 at body_pct 0.02, as a long candle', () => {
    // body 0.025 >= 0.02; upper wick 0.3 / 100 = 0.003 < 0.04; lower wick 0.2 / 100 = 0.002 < 0.04.
    const signals = signalsAfterQuietBars([100, 102.8, 99.8, 102.5]);
    expect(Array.from(signals.indices)).toEqual([3]);
    // vol_ma = (3 * 10 + 1000) / 4 = 257.5; 1000 / 257.5 / 1.5 > 1, so the confidence caps at 1.
    expect(Array.from(signals.confidence)).toEqual([1]);
    expect(signals.holdPeriodBars).toBe(1);
  });

  it('counts a body of exactly body_pct (>=) but not a wick of exactly twice it (<)', () => {
    expect(signalsAfterQuietBars([100, 102, 100, 102]).indices).toHaveLength(1);
    expect(signalsAfterQuietBars([100, 106, 100, 102]).indices).toHaveLength(0); // upper wick 0.04
    expect(signalsAfterQuietBars([100, 105.9, 100, 102]).indices).toHaveLength(1); // upper wick 0.039
    expect(signalsAfterQuietBars([100, 102, 96, 102]).indices).toHaveLength(0); // lower wick 0.04
  });

  it('needs a bullish candle: a falling or flat one never signals', () => {
    expect(signalsAfterQuietBars([102.5, 102.8, 99.8, 100]).indices).toHaveLength(0);
    expect(signalsAfterQuietBars([100, 100, 100, 100]).indices).toHaveLength(0);
    expect(signalsAfterQuietBars([100, 101.5, 99.9, 101.5]).indices).toHaveLength(0); // body 0.015
  });

  it('averages the volume over the bars available at the start, the current bar included', () => {
    // Bar 1 of a 20-bar window: vol_ma = (10 + 30) / 2 = 20, and 30 >= 20 * 1.5 exactly.
    const long: Bar = [100, 102.5, 100, 102.5, 30];
    const signals = volumeLongCandle(candlesOf([QUIET, long]), DEFAULTS);
    expect(Array.from(signals.indices)).toEqual([1]);
    // 30 / 20 / 1.5 = 1.
    expect(Array.from(signals.confidence)).toEqual([1]);
    // One unit less and the same bar is no surge: 29 < (10 + 29) / 2 * 1.5 = 29.25.
    const quieter: Bar = [100, 102.5, 100, 102.5, 29];
    expect(volumeLongCandle(candlesOf([QUIET, quieter]), DEFAULTS).indices).toHaveLength(0);
  });

  it('uses only the last vol_ma_window bars once there are enough', () => {
    const bars: Bar[] = [[100, 100, 100, 100, 1000], QUIET, QUIET, [100, 102.5, 100, 102.5, 15]];
    const params = { ...DEFAULTS, vol_multiplier: 1.0 };
    // Window 2 at bar 3: vol_ma = (10 + 15) / 2 = 12.5 <= 15, a surge.
    expect(
      Array.from(volumeLongCandle(candlesOf(bars), { ...params, vol_ma_window: 2 }).indices),
    ).toEqual([3]);
    // Window 4 takes in the 1000: vol_ma = 1035 / 4 = 258.75 > 15.
    expect(volumeLongCandle(candlesOf(bars), { ...params, vol_ma_window: 4 }).indices).toHaveLength(
      0,
    );
  });

  it('counts a zero-volume long candle in a zero-volume window as a surge (0 >= 0), with confidence 1', () => {
    const silent: Bar = [100, 100, 100, 100, 0];
    const signals = volumeLongCandle(
      candlesOf([silent, silent, [100, 102.5, 100, 102.5, 0]]),
      DEFAULTS,
    );
    expect(Array.from(signals.indices)).toEqual([2]);
    expect(Array.from(signals.confidence)).toEqual([1]);
  });

  it('returns no signals for no candles', () => {
    const signals = volumeLongCandle(candlesOf([]), DEFAULTS);
    expect(signals.indices).toHaveLength(0);
    expect(signals.confidence).toHaveLength(0);
  });
});
