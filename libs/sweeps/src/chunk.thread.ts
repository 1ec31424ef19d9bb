import { workerData } from 'node:worker_threads';
import { CancelledError } from '@app/common';
import { CandleFileCache } from '@app/data';
import { evaluateChunk } from './evaluate-chunk';
import { planOf, SweepPlan } from './sweep-request';
import type { SweepChunkOutcome, SweepChunkTask, SweepThreadSettings } from './chunk-pool';

/**
 * A thread of a ChunkPool (piscina): evaluates one chunk off the main thread's event loop
 * (the worker's stays free to renew the chunk job's lock; the CLI's draws the progress bar).
 * Parsed candle files stay cached in the thread between chunks: a sweep's chunks read the
 * same files. Plain libraries only: no Nest, no BullMQ.
 */
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
