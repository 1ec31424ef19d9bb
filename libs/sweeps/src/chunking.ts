import { TIMEFRAME_MS } from '@app/data';
import type { SweepPlan } from './sweep-request';
import { kstDayCount } from './windows';

/**
 * Bars a worker thread evaluates per second, per strategy (strategy + trades + stats, measured
 * on 100,000 one-minute candles with the defaults: 2.9 ms and 26 ms; see
 * docs/decisions/sweeps.md): the chunk size aims at CHUNK_TARGET_S of work from them.
 */
const BARS_PER_SECOND: Record<string, number> = {
  // With its grid (VolumeLongCandleGrid) a combination costs about its trades and stats.
  volume_long_candle: 600_000_000,
  volume_zone_breakout: 3_800_000,
};
const DEFAULT_BARS_PER_SECOND = 3_800_000;
/** The fixed cost of one run of one symbol over one window (stats, portfolio), in bars. */
const RUN_OVERHEAD_BARS = 2_000;
export const CHUNK_TARGET_S = 1.5;
/** A chunk's result travels through Redis (the child job's return value): keep it modest. */
export const MAX_CHUNK_COMBINATIONS = 500;
/**
 * And bounded in result rows (combination × window × symbol, ~1.2 KB each in the child's
 * return value): 500 combinations of a 20-symbol, 22-window sweep would be one 264 MB value.
 */
export const MAX_CHUNK_ROWS = 10_000;

/**
 * Combinations per chunk: about CHUNK_TARGET_S of work, judged from the bars the range can
 * hold (the timeframe's bars per day × the days × the symbols × the windows' total length).
 */
export function chunkSizeOf(plan: SweepPlan): number {
  const { request } = plan;
  const barsPerDay = 86_400_000 / TIMEFRAME_MS[request.timeframe];
  const windowDays = plan.windows.reduce(
    (sum, w) => sum + kstDayCount(w.start_date, w.end_date),
    0,
  );
  const runs = plan.windows.length * request.symbols.length;
  const barsPerCombination =
    barsPerDay * windowDays * request.symbols.length + runs * RUN_OVERHEAD_BARS;
  const rate = BARS_PER_SECOND[request.strategy] ?? DEFAULT_BARS_PER_SECOND;
  const size = Math.floor((CHUNK_TARGET_S * rate) / barsPerCombination);
  const byRows = Math.floor(MAX_CHUNK_ROWS / runs);
  return Math.max(1, Math.min(MAX_CHUNK_COMBINATIONS, byRows, size));
}

/** The chunks of a sweep: [from, to) ranges of combination indexes, in order. */
export function chunksOf(
  combinations: number,
  size: number,
): Array<{ chunk: number; from: number; to: number }> {
  const chunks = [];
  for (let from = 0, chunk = 0; from < combinations; from += size, chunk++) {
    chunks.push({ chunk, from, to: Math.min(combinations, from + size) });
  }
  return chunks;
}
