import { join } from 'node:path';
import { Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { fromThreadError } from '@app/common';
import type { ApiThreadReply, ApiThreadResults, ApiThreadTask } from './api-thread-protocol';

/** The compiled thread file beside this one. */
const THREAD_FILE = join(__dirname, 'api.thread.js');

/** Two threads: one request's file work never waits long behind another's on two cores. */
const API_THREADS = 2;

/**
 * The API's worker threads (piscina) for work that parses files: Parquet footers for the
 * inventory, a whole result.json to rewrite. The event loop hands the work over and answers
 * other requests (and its probes) meanwhile.
 */
@Injectable()
export class ApiThreads implements OnApplicationShutdown {
  private readonly pool = new Piscina<ApiThreadTask, ApiThreadReply<ApiThreadTask['kind']>>({
    filename: THREAD_FILE,
    minThreads: 0,
    maxThreads: API_THREADS,
    // Idle threads go after a while: a quiet API holds no engine in memory twice.
    idleTimeout: 60_000,
  });

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
