import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
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

/** The process's command connection and its pub/sub connection, closed on shutdown. */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  readonly client: Redis;
  /** In subscriber mode a connection can do nothing else, hence a second one. */
  readonly subscriber: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS_ROLE) role: RedisRole) {
    this.client = new Redis(redisClientOptions(config, role));
    // Subscriptions must survive restarts: ioredis re-subscribes after reconnecting.
    this.subscriber = new Redis({
      ...redisClientOptions(config, 'worker'),
      connectionName: `coin-backtest-${role}-events`,
    });
    // Errors surface through health checks and failing commands; without a listener
    // ioredis would print each reconnect attempt as an unhandled error.
    this.client.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
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
      exports: [RedisConnections],
    };
  }
}
