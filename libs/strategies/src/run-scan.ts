import { Candles } from '@app/common';
import { checkCandles } from './candle-checks';
import { scanInChunks, SignalCollector, StrategyRunOptions, StrategySignals } from './signals';

/** One pass of a strategy over a series: fed chunk by chunk, collecting its signals. */
export interface SignalScan {
  readonly signals: SignalCollector;
  scan(from: number, to: number): void;
}

/**
 * Runs a strategy's scan the way every strategy runs: the candles checked (whether their
 * magnitudes allow the fast paths' error bounds is handed to `createScan`), the series
 * scanned in chunks with cancellation checked between them, the signals collected.
 */
export function runScan(
  candles: Candles,
  holdPeriodBars: number,
  options: StrategyRunOptions,
  createScan: (ordinaryMagnitudes: boolean) => SignalScan,
): StrategySignals {
  const { ordinaryMagnitudes } = checkCandles(candles);
  const scan = createScan(ordinaryMagnitudes);
  scanInChunks(candles.length, options.isCancelled, (from, to) => scan.scan(from, to));
  return scan.signals.finish(holdPeriodBars);
}
