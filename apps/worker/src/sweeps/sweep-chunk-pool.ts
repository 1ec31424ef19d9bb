import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';
import { ChunkPool } from '@app/sweeps';

const MIB = 1024 * 1024;

/**
 * The worker's sweep threads: WORKER_CONCURRENCY of them, beside the backtest threads, with
 * CANDLE_CACHE_MB shared among them (a process running both kinds at once holds both caches).
 */
@Injectable()
export class SweepChunkPool extends ChunkPool implements OnApplicationShutdown {
  constructor(@InjectConfig() config: AppConfig) {
    super({
      threads: config.workerConcurrency,
      dataRoot: config.dataRoot,
      candleCacheBytes: config.candleCacheMb * MIB,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.destroy();
  }
}
