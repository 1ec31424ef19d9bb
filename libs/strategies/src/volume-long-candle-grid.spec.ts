import { generateCandles } from '@app/data';
import {
  volumeLongCandle,
  VolumeLongCandleGrid,
  VolumeLongCandleParams,
} from './volume-long-candle';

/** The sweep grid must give the scan's signals bit for bit, whatever the parameters. */
describe('VolumeLongCandleGrid', () => {
  const candles = generateCandles({
    count: 30_000,
    startMs: Date.UTC(2024, 0, 1),
    stepMs: 60_000,
    seed: 7,
  });
  // Stretches of zero volume: vol_ma 0 gives confidence 1, as the scan does.
  candles.volume.fill(0, 1000, 1400);

  it('equals volumeLongCandle for every combination of a grid, the shared parts reused', () => {
    const grid = new VolumeLongCandleGrid(candles);
    let signals = 0;
    for (const vol_ma_window of [1, 2, 20, 500])
      for (const vol_multiplier of [1, 1.5, 3, 10])
        for (const body_pct of [0.001, 0.002, 0.01, 0.5])
          for (const hold_period_bars of [1, 7]) {
            const params: VolumeLongCandleParams = {
              vol_ma_window,
              vol_multiplier,
              body_pct,
              hold_period_bars,
            };
            const expected = volumeLongCandle(candles, params);
            const actual = grid.run(params);
            expect(actual.holdPeriodBars).toBe(hold_period_bars);
            expect(Array.from(actual.indices)).toEqual(Array.from(expected.indices));
            expect(Array.from(actual.confidence)).toEqual(Array.from(expected.confidence));
            signals += actual.indices.length;
          }
    expect(signals).toBeGreaterThan(1000);
  });

  it('refuses the candles a run refuses', () => {
    const broken = generateCandles({ count: 100, startMs: 0, stepMs: 60_000, seed: 1 });
    broken.low[5] = broken.high[5] + 1;
    expect(() =>
      volumeLongCandle(broken, {
        vol_ma_window: 20,
        vol_multiplier: 1.5,
        body_pct: 0.02,
        hold_period_bars: 1,
      }),
    ).toThrow();
    expect(() => new VolumeLongCandleGrid(broken)).toThrow();
  });
});
