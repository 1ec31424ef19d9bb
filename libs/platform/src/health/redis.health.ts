import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { HealthIndicatorService } from '@nestjs/terminus';
import { RedisConnections } from '../redis.module';
import { errorMessage, withTimeout } from './with-timeout';

/** Longest a readiness probe waits for Redis to answer PING. */
export const REDIS_PING_TIMEOUT_MS = 1000;

/** Right after start-up the connection is still being made: worth waiting a moment for. */
const FIRST_CONNECT_STATES = new Set(['wait', 'connecting', 'connect']);

/**
 * Pings Redis over the process's own command connection, the one its requests and jobs use.
 * A connection that is reconnecting is reported at once: the API's connection rejects commands
 * while Redis is away, the worker's would queue them, and a probe must not wait for either.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisConnections,
  ) {}

  async ping(key = 'redis') {
    const check = this.indicators.check(key);
    const client = this.redis.client;
    const started = performance.now();
    try {
      if (client.status !== 'ready') {
        if (!FIRST_CONNECT_STATES.has(client.status)) {
          return check.down({ message: `not connected to Redis (connection ${client.status})` });
        }
        await untilReady(client);
      }
      await withTimeout(client.ping(), REDIS_PING_TIMEOUT_MS, 'Redis PING');
      return check.up({ latency_ms: Math.round((performance.now() - started) * 10) / 10 });
    } catch (error) {
      return check.down({ message: errorMessage(error) });
    }
  }
}

async function untilReady(client: Redis): Promise<void> {
  let onReady: (() => void) | undefined;
  try {
    await withTimeout(
      new Promise<void>((resolve) => client.once('ready', (onReady = resolve))),
      REDIS_PING_TIMEOUT_MS,
      'Redis connection',
    );
  } finally {
    if (onReady) client.off('ready', onReady);
  }
}
