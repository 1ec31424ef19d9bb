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
      const latency = { latency_ms: Math.round((performance.now() - started) * 10) / 10 };
      const memory = parseMemoryInfo(
        await withTimeout(client.info('memory'), REDIS_PING_TIMEOUT_MS, 'Redis INFO memory'),
      );
      if (memory.maxBytes > 0 && memory.usedBytes >= memory.maxBytes) {
        // With noeviction (which BullMQ needs) Redis refuses every write at maxmemory: no task
        // can be submitted or move on, so the process cannot serve.
        return check.down({
          ...latency,
          used_memory_mb: toMb(memory.usedBytes),
          maxmemory_mb: toMb(memory.maxBytes),
          message: `Redis is full: used_memory ${toMb(memory.usedBytes)} MB of maxmemory ${toMb(memory.maxBytes)} MB, so it refuses writes; free memory or raise maxmemory`,
        });
      }
      return check.up(latency);
    } catch (error) {
      return check.down({ message: errorMessage(error) });
    }
  }
}

/** used_memory and maxmemory (0 = no limit) of `INFO memory`. */
function parseMemoryInfo(info: string): { usedBytes: number; maxBytes: number } {
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { usedBytes: field('used_memory'), maxBytes: field('maxmemory') };
}

function toMb(bytes: number): number {
  return Math.round((bytes / (1024 * 1024)) * 10) / 10;
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
