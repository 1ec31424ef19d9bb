import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { ChunkResult } from './evaluate-chunk';
import type { SweepRequest } from './sweep-request';

/** Set once per pool (piscina `workerData`). */
export interface SweepThreadSettings {
  dataRoot: string;
  /** This thread's share of the candle cache, in bytes. */
  candleCacheBytes: number;
}

export interface SweepChunkTask {
  sweepId: string;
  request: SweepRequest;
  from: number;
  to: number;
  /** Non-zero once the caller asks the chunk to stop (a cancel, a failure elsewhere). */
  stopFlag: Int32Array;
}

export type SweepChunkOutcome =
  | { kind: 'completed'; result: ChunkResult }
  | { kind: 'stopped' }
  | { kind: 'failed'; message: string };

/** The compiled thread file beside this one. */
const THREAD_FILE = join(__dirname, 'chunk.thread.js');

/**
 * Threads that evaluate sweep chunks: the worker's (one per WORKER_CONCURRENCY slot) and
 * `cli sweep`'s (one per core) are the same code. Threads start up front and are kept, with
 * their candle caches, until `destroy`.
 */
export class ChunkPool {
  private readonly pool: Piscina<SweepChunkTask, SweepChunkOutcome>;

  constructor(options: { threads: number; dataRoot: string; candleCacheBytes: number }) {
    const workerData: SweepThreadSettings = {
      dataRoot: options.dataRoot,
      candleCacheBytes: Math.floor(options.candleCacheBytes / options.threads),
    };
    this.pool = new Piscina({
      filename: THREAD_FILE,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Infinity,
      workerData,
    });
  }

  /** Runs a chunk; `stop()` makes it end at its next combination or data chunk. Never rejects. */
  run(task: Omit<SweepChunkTask, 'stopFlag'>): {
    outcome: Promise<SweepChunkOutcome>;
    stop: () => void;
  } {
    const stopFlag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const outcome = this.pool
      .run({ ...task, stopFlag })
      .catch((error: unknown): SweepChunkOutcome => ({
        kind: 'failed',
        message: `The sweep thread failed: ${error instanceof Error ? error.message : String(error)}`,
      }));
    return { outcome, stop: () => void Atomics.store(stopFlag, 0, 1) };
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
