import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';

/** Deletes the key only while it still holds our token: never another holder's lock. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * A lock in one Redis key: `SET key token NX PX ttl` takes it, a compare-and-delete script
 * releases it. The expiry frees it if its holder dies; the token stops a holder whose lock
 * expired from releasing the next holder's.
 */
export class RedisLock {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly ttlMs: number,
  ) {}

  /** The token of the lock when this caller got it; undefined when someone else holds it. */
  async acquire(): Promise<string | undefined> {
    const token = randomUUID();
    const reply = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    return reply === 'OK' ? token : undefined;
  }

  /** Releases the lock if `token` still holds it; false when it had expired or passed on. */
  async release(token: string): Promise<boolean> {
    return (await this.redis.eval(RELEASE_SCRIPT, 1, this.key, token)) === 1;
  }
}
