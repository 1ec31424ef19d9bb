import { join } from 'node:path';
import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { fromThreadError } from '@app/common';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';
import type {
  ApiThreadReply,
  ApiThreadResults,
  ApiThreadSettings,
  ApiThreadTask,
} from './api-thread-protocol';

const MIB = 1024 * 1024;

/** The compiled thread file beside this one. */
const THREAD_FILE = join(__dirname, 'api.thread.js');

/** Two threads: one request's file work never waits long behind another's on two cores. */
const API_THREADS = 2;

/**
 * The API's worker threads (piscina) for work that parses files — candle windows for zooming
 * charts, Parquet footers for the inventory, uploads to check, a whole result.json to rewrite
 * or turn into CSV — so the event loop (SPEC §14: it never decodes Parquet) hands the work over
 * and answers other requests, and its probes, meanwhile.
 */
@Injectable()
export class ApiThreads implements OnApplicationShutdown {
  private readonly pool: Piscina<ApiThreadTask, ApiThreadReply<ApiThreadTask['kind']>>;

  constructor(@InjectConfig() config: AppConfig) {
    const workerData: ApiThreadSettings = {
      dataRoot: config.dataRoot,
      candleCacheBytes: Math.floor((config.candleCacheMb * MIB) / API_THREADS),
    };
    this.pool = new Piscina({
      filename: THREAD_FILE,
      // One thread starts with the API; the second joins under load.
      minThreads: 1,
      maxThreads: API_THREADS,
      // A parsed year file is what makes the next zoom fast: keep idle threads a while.
      idleTimeout: 10 * 60_000,
      workerData,
    });
  }

  async run<K extends ApiThreadTask['kind']>(
    task: Extract<ApiThreadTask, { kind: K }>,
  ): Promise<ApiThreadResults[K]> {
    const reply = (await this.pool.run(task)) as ApiThreadReply<K>;
    if (!reply.ok) throw fromThreadError(reply.error);
    return reply.value;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}

@Global()
@Module({ providers: [ApiThreads], exports: [ApiThreads] })
export class ApiThreadsModule {}
