/** Candle inputs for the strategy tests (excluded from the build). */
import { readFileSync } from 'node:fs';
import { allocateCandles, Candles } from '@app/common';
import { seededRandom } from '@app/data';

/** [open, high, low, close, volume] per bar; timestamps are one minute apart from 2024-01-01. */
export type Bar = readonly [number, number, number, number, number];

export function candlesOf(bars: readonly Bar[]): Candles {
  const candles = allocateCandles(bars.length);
  bars.forEach(([open, high, low, close, volume], i) => {
    candles.timestamp[i] = Date.UTC(2024, 0, 1) + i * 60_000;
    candles.open[i] = open;
    candles.high[i] = high;
    candles.low[i] = low;
    candles.close[i] = close;
    candles.volume[i] = volume;
  });
  return candles;
}

/** A CSV with the header timestamp,open,high,low,close,volume and ISO-8601 UTC timestamps. */
export function readCandleCsv(path: string): Candles {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  if (lines[0].trim() !== 'timestamp,open,high,low,close,volume') {
    throw new Error(`${path}: unexpected header ${lines[0]}`);
  }
  const candles = allocateCandles(lines.length - 1);
  for (let i = 1; i < lines.length; i++) {
    const [timestamp, open, high, low, close, volume] = lines[i].split(',');
    candles.timestamp[i - 1] = Date.parse(timestamp);
    candles.open[i - 1] = Number(open);
    candles.high[i - 1] = Number(high);
    candles.low[i - 1] = Number(low);
    candles.close[i - 1] = Number(close);
    candles.volume[i - 1] = Number(volume);
  }
  return candles;
}

/**
 * Seeded data built to hit every tie the strategies compare at: prices on a coarse tick grid
 * inside a narrow band (so bin edges and levels land exactly on prices), bodies of exactly
 * 2% and wicks of exactly twice that, flat bars, runs of zero volume, runs of a constant
 * volume of 0.1 (whose sums are inexact, so a sloppy running mean flips `>=`) and small
 * integer volumes (whose profile sums are exact, so the top-percentile walk ties).
 */
export function adversarialCandles(seed: number, count: number): Candles {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const tick = pick([1, 0.5, 0.25, 0.01]);
  const candles = allocateCandles(count);
  let price = 100;
  let volumeRegime: 'zero' | 'constant' | 'integer' | 'mixed' = 'mixed';
  for (let i = 0; i < count; i++) {
    if (random() < 0.02) volumeRegime = pick(['zero', 'constant', 'integer', 'mixed'] as const);
    const toGrid = (value: number) => Math.round(value / tick) * tick;
    let open = toGrid(price);
    let close: number;
    let high: number;
    let low: number;
    const kind = random();
    if (kind < 0.15) {
      close = high = low = open;
    } else if (kind < 0.35) {
      // A long candle at the body threshold: 100 -> 102 is a body of exactly 0.02.
      open = 100;
      close = pick([102, 102.5, 101, 104]);
      high = close + pick([0, 0.5, 4, 8]);
      low = open - pick([0, 0.5, 4, 8]);
    } else {
      close = toGrid(open + tick * Math.round((random() - 0.5) * 8));
      high = Math.max(open, close) + tick * Math.floor(random() * 3);
      low = Math.min(open, close) - tick * Math.floor(random() * 3);
    }
    const volume =
      volumeRegime === 'zero'
        ? 0
        : volumeRegime === 'constant'
          ? 0.1
          : volumeRegime === 'integer'
            ? Math.floor(random() * 5)
            : pick([0, 0.1, 0.3, 1, 2, 3, 7.7, Math.round(random() * 1e4) / 100]);
    candles.timestamp[i] = Date.UTC(2024, 0, 1) + i * 60_000;
    candles.open[i] = open;
    candles.high[i] = high;
    candles.low[i] = Math.max(low, tick);
    candles.close[i] = close;
    candles.volume[i] = volume;
    // A walk kept inside a narrow band, so windows share their ranges and edges repeat.
    price = Math.min(120, Math.max(90, close));
  }
  return candles;
}

/**
 * Bars alternating with their mirror image around 100, all with the same inexact volume
 * (0.1, 0.3, ...), so every window of an even number of bars is symmetric: at
 * top_percentile 0.5 the volume above the centre edge equals T in exact arithmetic, while
 * the naive bin sums and any other summation order round differently. Only an error bound
 * that really covers both orders gets these bars right. The span changes now and then.
 */
export function mirroredCandles(seed: number, count: number): Candles {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const volume = pick([0.1, 0.3, 0.7, 1.1, 2.9]);
  const candles = allocateCandles(count);
  let low = 99;
  let high = 101;
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0 && random() < 0.05) {
      low = 96 + Math.floor(random() * 16) * 0.25;
      high = low + 0.25 + Math.floor(random() * 16) * 0.25;
    }
    const [barLow, barHigh] = i % 2 === 0 ? [low, high] : [200 - high, 200 - low];
    const rising = random() < 0.5;
    candles.timestamp[i] = Date.UTC(2024, 0, 1) + i * 60_000;
    candles.open[i] = rising ? barLow : barHigh;
    candles.close[i] = rising ? barHigh : barLow;
    candles.high[i] = barHigh;
    candles.low[i] = barLow;
    candles.volume[i] = volume;
  }
  return candles;
}
