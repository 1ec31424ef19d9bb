import { BroadcastChannel, workerData } from 'node:worker_threads';
import { CancelledError, failureCodeOf } from '@app/common';
import { BacktestEvent, RunFolders, runBacktest } from '@app/backtest';
import { catalogueRunIndex, openCatalogue } from '@app/catalogue';
import { CandleFileCache } from '@app/data';
import { ResultStore } from '@app/storage';
import { runFaultOf } from './run-faults';
import type {
  BacktestThreadMessage,
  BacktestThreadOutcome,
  BacktestThreadSettings,
  BacktestThreadTask,
} from './thread-protocol';

/**
 * A backtest thread of the worker's piscina pool: loads the candles, runs the strategy and
 * writes the run folder (result.json, then the manifest) off the main thread's event loop,
 * which stays free to renew the job's BullMQ lock however long this takes.
 *
 * Plain libraries only (no Nest here). Parsed candle files stay cached in the thread between
 * tasks, which is what makes a stream of small tasks over the same files cheap.
 */
const settings = workerData as BacktestThreadSettings;
const cache = new CandleFileCache({ maxBytes: settings.candleCacheBytes });
/** Why the last folder's row could not be written, for the main thread to log. */
const indexErrors = new Map<string, string>();
const folders = new RunFolders(
  new ResultStore(settings.resultsDir, { blockingWrites: true }),
  settings.origin,
  catalogueRunIndex(
    // Opened on the first folder; it lives as long as the thread.
    () =>
      openCatalogue({
        ...settings.catalogue,
        sqliteMode: 'inline',
        poolSize: 1,
        readCacheEntries: 0,
      }),
    settings.resultsDir,
    (runId, error) =>
      indexErrors.set(runId, error instanceof Error ? error.message : String(error)),
  ),
);
const events = new BroadcastChannel(settings.eventsChannel);
// Posting needs no reference; the pool, not this channel, decides how long the thread lives.
events.unref();

export default async function runBacktestTask(
  task: BacktestThreadTask,
): Promise<BacktestThreadOutcome> {
  const { taskId, request, times, stopFlag } = task;
  const post = (event: BacktestEvent | { kind: 'end' }): void => {
    const message: BacktestThreadMessage = { taskId, ...event };
    events.postMessage(message);
  };
  try {
    const outcome = await runBacktest(request, {
      dataRoot: settings.dataRoot,
      runId: taskId,
      origin: settings.origin,
      cache,
      isCancelled: () => Atomics.load(stopFlag, 0) !== 0,
      onEvent: post,
    });
    // Last chance to stop before anything is written.
    if (Atomics.load(stopFlag, 0) !== 0) return { kind: 'stopped' };
    await folders.completed(request, outcome, times);
    const indexError = indexErrors.get(taskId);
    indexErrors.delete(taskId);
    return {
      kind: 'completed',
      ...(indexError !== undefined && { indexError }),
      totalSignals: outcome.result.total_signals,
      candles: outcome.candles,
      symbolsProcessed: outcome.result.symbols.length,
      executionTime: outcome.result.execution_time,
    };
  } catch (error) {
    if (error instanceof CancelledError) return { kind: 'stopped' };
    const fault = runFaultOf(error);
    return {
      kind: 'failed',
      code: failureCodeOf(error),
      message: error instanceof Error ? error.message : String(error),
      ...(fault !== undefined && { fault }),
    };
  } finally {
    post({ kind: 'end' });
  }
}
