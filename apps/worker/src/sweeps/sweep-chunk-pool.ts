import { join } from 'node:path';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';
import type { SweepChunkOutcome, SweepChunkTask, SweepThreadSettings } from './sweep-chunk.thread';

const MIB = 1024 * 1024;
const THREAD_FILE = join(__dirname, 'sweep-chunk.thread.js');

/**
 * The worker's sweep threads: WORKER_CONCURRENCY of them, beside the backtest threads, each
 * with its share of CANDLE_CACHE_MB (a process running both kinds at once holds both caches).
 */
@Injectable()
export class SweepChunkPool implements OnApplicationShutdown {
  private readonly pool: Piscina<SweepChunkTask, SweepChunkOutcome>;

  constructor(@InjectConfig() config: AppConfig) {
    const threads = config.workerConcurrency;
    const workerData: SweepThreadSettings = {
      dataRoot: config.dataRoot,
      candleCacheBytes: Math.floor((config.candleCacheMb * MIB) / threads),
    };
    this.pool = new Piscina({
      filename: THREAD_FILE,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      workerData,
    });
  }

  /** Runs a chunk; `stop()` makes it end at its next combination or data chunk. */
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

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}
