import { workerData } from 'node:worker_threads';
import { CancelledError } from '@app/common';
import { CandleFileCache } from '@app/data';
import { ChunkResult, evaluateChunk, planOf, SweepPlan, SweepRequest } from '@app/sweeps';

/**
 * A sweep thread of the worker's chunk pool (piscina): evaluates one chunk off the main
 * thread's event loop, which stays free to renew the chunk job's lock. Parsed candle files
 * stay cached in the thread between chunks: the chunks of one sweep read the same files.
 */
export interface SweepThreadSettings {
  dataRoot: string;
  candleCacheBytes: number;
}

export interface SweepChunkTask {
  sweepId: string;
  request: SweepRequest;
  from: number;
  to: number;
  /** Non-zero once the main thread asks the chunk to stop (a cancel, a failure elsewhere). */
  stopFlag: Int32Array;
}

export type SweepChunkOutcome =
  | { kind: 'completed'; result: ChunkResult }
  | { kind: 'stopped' }
  | { kind: 'failed'; message: string };

const settings = workerData as SweepThreadSettings;
const cache = new CandleFileCache({ maxBytes: settings.candleCacheBytes });
/** The last sweep's plan: a sweep's chunks usually follow one another on a thread. */
let planned: { sweepId: string; plan: SweepPlan } | undefined;

export default async function runSweepChunk(task: SweepChunkTask): Promise<SweepChunkOutcome> {
  try {
    if (planned?.sweepId !== task.sweepId)
      planned = { sweepId: task.sweepId, plan: planOf(task.request) };
    const result = await evaluateChunk(
      task.request,
      task.from,
      task.to,
      {
        dataRoot: settings.dataRoot,
        cache,
        isCancelled: () => Atomics.load(task.stopFlag, 0) !== 0,
      },
      planned.plan,
    );
    return { kind: 'completed', result };
  } catch (error) {
    if (error instanceof CancelledError) return { kind: 'stopped' };
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}
