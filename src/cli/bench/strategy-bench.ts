import { performance } from 'node:perf_hooks';
import { generateCandles } from '@app/data';
import { resolveParams } from '@app/strategies';
import { median, roundMs } from './stats';

export interface StrategyBenchOptions {
  /** Candles per series; a year of one-minute candles is 525,600. */
  candles: number;
  runs: number;
  seed: number;
}

export interface StrategyBenchResult {
  strategy: string;
  params: object;
  candles: number;
  signals: number;
  median_ms: number;
  candles_per_s: number;
  runs_ms: number[];
}

/**
 * The strategies with their default parameters, then with parameters that make them fire on
 * many bars (the exact per-bar path dominates there). Defaults are what the targets are for.
 */
const BENCH_CASES: ReadonlyArray<{ strategy: string; params: Record<string, unknown> }> = [
  { strategy: 'volume_long_candle', params: {} },
  { strategy: 'volume_zone_breakout', params: {} },
  {
    strategy: 'volume_long_candle',
    params: { vol_ma_window: 500, vol_multiplier: 1.0, body_pct: 0.001 },
  },
  { strategy: 'volume_zone_breakout', params: { top_percentile: 0.5, breakout_buffer: 0 } },
];

/**
 * Times each strategy, single-threaded, on seeded in-memory one-minute candles: the median
 * of `runs` timed runs after one untimed warm-up run (so the JIT has compiled the hot loops).
 */
export function benchStrategies(options: StrategyBenchOptions): StrategyBenchResult[] {
  const { candles: count, runs, seed } = options;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`runs must be an integer >= 1, got ${runs}`);
  }
  const candles = generateCandles({ count, startMs: Date.UTC(2024, 0, 1), stepMs: 60_000, seed });
  return BENCH_CASES.map(({ strategy: name, params: given }) => {
    const { strategy, params } = resolveParams(name, given);
    let signals = strategy.run(candles, params).indices.length;
    const runsMs: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      signals = strategy.run(candles, params).indices.length;
      runsMs.push(performance.now() - started);
    }
    const medianMs = median(runsMs);
    return {
      strategy: name,
      params,
      candles: count,
      signals,
      median_ms: roundMs(medianMs),
      candles_per_s: Math.round(count / (medianMs / 1000)),
      runs_ms: runsMs.map(roundMs),
    };
  });
}
