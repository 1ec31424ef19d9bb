import { performance } from 'node:perf_hooks';
import { generateCandles } from '@app/data';
import {
  computeEquityCurve,
  computeMetrics,
  computeTrades,
  DEFAULT_EXECUTION,
  evaluateSymbol,
  ExecutionSettings,
  resolveParams,
} from '@app/strategies';
import { median, roundMs } from './stats';

export interface StatisticsBenchResult {
  strategy: 'volume_long_candle';
  candles: number;
  /** The strategy and SPEC §3's trades, metrics and curve: the work before §12. */
  strategy_and_metrics_ms: number;
  /** The same and every §12 figure, with a fee and slippage, overlapping trades. */
  with_stats_overlap_ms: number;
  /** The same with one position per symbol (the account's bar equity and its figures). */
  with_stats_single_ms: number;
  /** with_stats_overlap / strategy_and_metrics: the target is at most 1.10. */
  overlap_ratio: number;
  single_ratio: number;
}

const COSTS = { fee: 0.001, slippage: 0.0005 };

/**
 * What SPEC §12 adds to a run, side by side in one process: volume_long_candle with its
 * defaults on one year of seeded one-minute candles, the three variants alternating in each
 * round so that a change in the machine's load slows them alike; medians of `runs` rounds.
 */
export function benchStatistics(options: {
  candles: number;
  runs: number;
  seed: number;
}): StatisticsBenchResult {
  const { candles: count, runs, seed } = options;
  const candles = generateCandles({ count, startMs: Date.UTC(2024, 0, 1), stepMs: 60_000, seed });
  const { strategy, params } = resolveParams('volume_long_candle', {});
  const overlap: ExecutionSettings = { ...COSTS, positions: 'overlap' };
  const single: ExecutionSettings = { ...COSTS, positions: 'single' };
  const variants = {
    before: (): number => {
      const trades = computeTrades(candles, strategy.run(candles, params), DEFAULT_EXECUTION);
      computeEquityCurve(trades);
      return computeMetrics(trades).samples;
    },
    overlap: (): number =>
      evaluateSymbol(candles, strategy.run(candles, params), overlap, '1M').stats.trades,
    single: (): number =>
      evaluateSymbol(candles, strategy.run(candles, params), single, '1M').stats.trades,
  };
  const times: Record<keyof typeof variants, number[]> = { before: [], overlap: [], single: [] };
  for (const variant of Object.values(variants)) variant(); // warm-up: the JIT compiles each
  for (let run = 0; run < runs; run++) {
    for (const [name, variant] of Object.entries(variants) as Array<
      [keyof typeof variants, () => number]
    >) {
      const started = performance.now();
      variant();
      times[name].push(performance.now() - started);
    }
  }
  const before = median(times.before);
  return {
    strategy: 'volume_long_candle',
    candles: count,
    strategy_and_metrics_ms: roundMs(before),
    with_stats_overlap_ms: roundMs(median(times.overlap)),
    with_stats_single_ms: roundMs(median(times.single)),
    overlap_ratio: Math.round((median(times.overlap) / before) * 1000) / 1000,
    single_ratio: Math.round((median(times.single) / before) * 1000) / 1000,
  };
}
