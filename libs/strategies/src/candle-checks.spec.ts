import { CancelledError, Candles, InvalidInputError } from '@app/common';
import { checkCandles } from './candle-checks';
import { CHUNK_BARS } from './signals';
import { adversarialCandles, candlesOf } from './testing/candle-fixtures';
import { naiveVolumeLongCandle, naiveVolumeZoneBreakout } from './testing/naive-reference';
import { volumeLongCandle } from './volume-long-candle';
import { volumeZoneBreakout } from './volume-zone-breakout';

const LONG_CANDLE = { vol_ma_window: 3, vol_multiplier: 1.0, body_pct: 0.02, hold_period_bars: 1 };
const ZONE_BREAKOUT = {
  volume_window: 10,
  top_percentile: 0.5,
  breakout_buffer: 0,
  hold_period_bars: 1,
  num_bins: 10,
  include_wicks: true,
};

function scaled(candles: Candles, priceScale: number, volumeScale: number): Candles {
  const scale = (values: Float64Array, by: number) => values.map((value) => value * by);
  return {
    length: candles.length,
    timestamp: candles.timestamp,
    open: scale(candles.open, priceScale),
    high: scale(candles.high, priceScale),
    low: scale(candles.low, priceScale),
    close: scale(candles.close, priceScale),
    volume: scale(candles.volume, volumeScale),
  };
}

describe('checkCandles', () => {
  it('accepts ordinary candles, zero volumes included', () => {
    expect(checkCandles(candlesOf([[100, 101, 99, 100, 0]]))).toEqual({ ordinaryMagnitudes: true });
  });

  it('names the first corrupt row of each column, with its time', () => {
    const candles = candlesOf([
      [100, 101, 99, 100, 5],
      [100, 101, 99, Number.NaN, 5],
      [0, 101, 99, 100, -1],
      [100, 98, 99, 100, 5],
    ]);
    let error: unknown;
    try {
      checkCandles(candles);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).toEqual([
      {
        field: 'candles.open[2] (2024-01-01T00:02:00.000Z)',
        value: 0,
        allowed: 'a finite price > 0',
      },
      {
        field: 'candles.close[1] (2024-01-01T00:01:00.000Z)',
        value: Number.NaN,
        allowed: 'a finite price > 0',
      },
      {
        field: 'candles.volume[2] (2024-01-01T00:02:00.000Z)',
        value: -1,
        allowed: 'a finite volume >= 0',
      },
      {
        field: 'candles.low[3] (2024-01-01T00:03:00.000Z)',
        value: 99,
        allowed: "a low <= the candle's high (98)",
      },
    ]);
  });

  it('is why both strategies refuse corrupt candles', () => {
    const candles = candlesOf([[100, 101, 99, Infinity, 5]]);
    expect(() => volumeLongCandle(candles, LONG_CANDLE)).toThrow(InvalidInputError);
    expect(() => volumeZoneBreakout(candles, ZONE_BREAKOUT)).toThrow(InvalidInputError);
  });

  it('flags magnitudes where the error bounds could fail; the strategies stay exact there', () => {
    for (const [priceScale, volumeScale] of [
      [1e-200, 1],
      [1e200, 1],
      [1, 1e-300],
      [1, 1e200],
    ]) {
      const candles = scaled(adversarialCandles(3, 600), priceScale, volumeScale);
      expect(checkCandles(candles)).toEqual({ ordinaryMagnitudes: false });
      const longCandle = volumeLongCandle(candles, LONG_CANDLE);
      const naiveLong = naiveVolumeLongCandle(candles, LONG_CANDLE);
      expect(Array.from(longCandle.indices)).toEqual(naiveLong.indices);
      expect(Array.from(longCandle.confidence)).toEqual(naiveLong.confidence);
      const zone = volumeZoneBreakout(candles, ZONE_BREAKOUT);
      const naiveZone = naiveVolumeZoneBreakout(candles, ZONE_BREAKOUT);
      expect(Array.from(zone.indices)).toEqual(naiveZone.indices);
      expect(Array.from(zone.confidence)).toEqual(naiveZone.confidence);
      expect(naiveZone.indices.length).toBeGreaterThan(0);
    }
  });
});

describe('cancellation', () => {
  const candles = adversarialCandles(1, 3 * CHUNK_BARS + 10);

  it.each([
    [
      'volume_long_candle',
      (isCancelled: () => boolean) => volumeLongCandle(candles, LONG_CANDLE, { isCancelled }),
    ],
    [
      'volume_zone_breakout',
      (isCancelled: () => boolean) => volumeZoneBreakout(candles, ZONE_BREAKOUT, { isCancelled }),
    ],
  ])('%s asks once per chunk of bars and stops when told', (_, run) => {
    let asked = 0;
    run(() => {
      asked++;
      return false;
    });
    expect(asked).toBe(4);

    asked = 0;
    expect(() => run(() => ++asked === 2)).toThrow(CancelledError);
    expect(asked).toBe(2);
  });
});
