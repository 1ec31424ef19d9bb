import { once } from 'node:events';
import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig, redisOptions } from '@app/config';
import { APP_CONFIG } from './config.module';

/** How a process's Redis commands behave while Redis is away. */
export type RedisRole = 'api' | 'worker';

/**
 * The API fails fast while Redis is down (readiness says 503, requests get 503 rather than
 * hanging); the worker queues commands and carries on when Redis is back, so no state
 * update of a running task is lost to a blip.
 */
export function redisClientOptions(config: AppConfig, role: RedisRole): RedisOptions {
  return {
    ...redisOptions(config.redis),
    lazyConnect: false,
    connectionName: `coin-backtest-${role}`,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    ...(role === 'api'
      ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }
      : { maxRetriesPerRequest: null, enableOfflineQueue: true }),
  };
}

export const REDIS_ROLE = Symbol('REDIS_ROLE');

/** How long start-up waits for Redis before serving anyway (readiness then says 503). */
export const REDIS_STARTUP_WAIT_MS = 5000;

/**
 * Resolves when `ready` does or after `ms`, whichever is first: start-up waits a moment for
 * Redis, so the first requests after a start do not meet a connection still opening, yet a
 * process whose Redis is down still starts and answers its probes.
 */
export async function waitAtMost(ready: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ready.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

/** The process's command connection and its pub/sub connection, closed on shutdown. */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  readonly client: Redis;
  /** In subscriber mode a connection can do nothing else, hence a second one. */
  readonly subscriber: Redis;
  private readonly logger = new Logger('Redis');
  private readonly displayUrl: string;
  private lastError: Error | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS_ROLE) role: RedisRole) {
    this.displayUrl = config.redis.displayUrl;
    this.client = new Redis({
      ...redisClientOptions(config, role),
      // The API's many small concurrent reads (status polls) share round trips: ioredis
      // sends the commands issued in one tick as one pipeline. BullMQ's own connections
      // (the queue, the workers) are left as they are.
      enableAutoPipelining: role === 'api',
    });
    // Subscriptions must survive restarts: ioredis re-subscribes after reconnecting.
    this.subscriber = new Redis({
      ...redisClientOptions(config, 'worker'),
      connectionName: `coin-backtest-${role}-events`,
    });
    // Errors surface through health checks and failing commands; without a listener
    // ioredis would print each reconnect attempt as an unhandled error.
    this.client.on('error', (error: Error) => (this.lastError = error));
    this.subscriber.on('error', () => undefined);
  }

  async onModuleInit(): Promise<void> {
    const ready = (redis: Redis): Promise<unknown> =>
      redis.status === 'ready' ? Promise.resolve() : once(redis, 'ready');
    await waitAtMost(
      Promise.all([ready(this.client), ready(this.subscriber)]),
      REDIS_STARTUP_WAIT_MS,
    );
    // Said once at start (issue 10, item 9): the API used to say nothing until a request
    // failed. The process serves anyway; readiness answers 503 until Redis does.
    if (this.client.status !== 'ready') {
      this.logger.warn(
        `Redis at ${this.displayUrl} is unreachable (${this.lastError?.message ?? 'no answer'} after ${REDIS_STARTUP_WAIT_MS / 1000} s); starting anyway: /health/ready answers 503 and submissions get 503 until it answers`,
      );
      this.client.once('ready', () => this.logger.log(`Redis at ${this.displayUrl} answers now`));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // QUIT only over a live connection: while Redis is away a queued QUIT would wait for it
    // forever and the process would never exit.
    const connections = [this.client, this.subscriber];
    await Promise.allSettled(
      connections.filter((redis) => redis.status === 'ready').map((redis) => redis.quit()),
    );
    for (const redis of connections) redis.disconnect();
  }
}

@Global()
@Module({})
export class RedisModule {
  static forRoot(role: RedisRole): import('@nestjs/common').DynamicModule {
    return {
      module: RedisModule,
      providers: [{ provide: REDIS_ROLE, useValue: role }, RedisConnections],
      exports: [RedisConnections, REDIS_ROLE],
    };
  }
}
