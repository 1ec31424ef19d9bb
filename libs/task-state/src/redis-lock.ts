import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { defineLuaCommands } from './lua-scripts';

type LockRedis = Redis & { releaseLock(key: string, token: string): Promise<number> };

/**
 * A lock in one Redis key: `SET key token NX PX ttl` takes it, releaseLock-1.lua releases it
 * (compare and delete). The expiry frees it if its holder dies; the token stops a holder whose
 * lock expired from releasing the next holder's. The reconciler and the cleanup elect their
 * worker with it.
 */
export class RedisLock {
  private readonly redis: LockRedis;

  constructor(
    redis: Redis,
    readonly key: string,
    private readonly ttlMs: number,
  ) {
    defineLuaCommands(redis, ['releaseLock-1.lua']);
    this.redis = redis as LockRedis;
  }

  /** The token of the lock when this caller got it; undefined when someone else holds it. */
  async acquire(): Promise<string | undefined> {
    const token = randomUUID();
    const reply = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    return reply === 'OK' ? token : undefined;
  }

  /**
   * Waits for the lock, trying every `pollMs`, for at most `waitMs`: the token, or undefined
   * when someone else held it all that time.
   */
  async acquireWithin(waitMs: number, pollMs = 20): Promise<string | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const token = await this.acquire();
      if (token !== undefined || Date.now() >= deadline) return token;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Releases the lock if `token` still holds it; false when it had expired or passed on. */
  async release(token: string): Promise<boolean> {
    return (await this.redis.releaseLock(this.key, token)) === 1;
  }
}
