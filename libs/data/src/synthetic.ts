import { allocateCandles, Candles } from '@app/common';

/** mulberry32: a small, fast, seeded PRNG, so generated data is the same on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticCandleOptions {
  /** Number of candles. */
  count: number;
  /** First candle's open time, UTC epoch ms. */
  startMs: number;
  /** Candle interval in ms (60_000 for one-minute candles). */
  stepMs: number;
  seed: number;
  /** Starting price; prices are rounded to `tick` like an exchange's book. */
  startPrice?: number;
  tick?: number;
}

/**
 * A seeded random walk with exchange-like candles: prices on a tick grid (so ties happen,
 * as in real data), flat candles, zero-volume candles and occasional volume surges with
 * long bodies (so both strategies fire). For benchmarks and property tests, never for results.
 */
export function generateCandles(options: SyntheticCandleOptions): Candles {
  const { count, startMs, stepMs, seed, startPrice = 30_000, tick = 0.5 } = options;
  const random = seededRandom(seed);
  const gaussian = (): number => {
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const toTick = (price: number): number => Math.max(tick, Math.round(price / tick) * tick);
  const candles = allocateCandles(count);
  let previousClose = toTick(startPrice);
  for (let i = 0; i < count; i++) {
    const surge = random() < 0.02;
    const volatility = surge ? 0.012 : 0.0015;
    const open = random() < 0.9 ? previousClose : toTick(previousClose * (1 + gaussian() * 0.0005));
    // Surges go either way (a long bullish body half of the time) and a weak pull back to the
    // start price keeps a year of one-minute candles in a realistic band (about ±15%).
    const surgeDirection = random() < 0.5 ? 1 : -1;
    const meanReversion = -0.0005 * Math.log(open / startPrice);
    const drift =
      meanReversion +
      (surge
        ? surgeDirection * (Math.abs(gaussian()) * volatility + 0.02)
        : gaussian() * volatility);
    const close = toTick(open * (1 + drift));
    const high = toTick(Math.max(open, close) * (1 + Math.abs(gaussian()) * volatility * 0.3));
    const low = toTick(Math.min(open, close) * (1 - Math.abs(gaussian()) * volatility * 0.3));
    const quiet = random() < 0.03;
    const baseVolume = Math.exp(gaussian() * 0.6) * 12;
    const volume = quiet ? 0 : Math.round(baseVolume * (surge ? 4 + random() * 6 : 1) * 1e4) / 1e4;
    candles.timestamp[i] = startMs + i * stepMs;
    candles.open[i] = open;
    candles.high[i] = Math.max(high, open, close);
    candles.low[i] = Math.min(low, open, close);
    candles.close[i] = close;
    candles.volume[i] = volume;
    previousClose = close;
  }
  return candles;
}
