import Redis from 'ioredis';
import { PrivateRedis, startPrivateRedis } from '../../../test/support/redis-server';
import { RedisLock } from './redis-lock';

describe('RedisLock', () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.port, '127.0.0.1');
  });
  afterAll(async () => {
    await redis.quit();
    await server.dispose();
  });

  it('is held by one caller at a time and released only with its token', async () => {
    const first = new RedisLock(redis, 'lock:a', 60_000);
    const second = new RedisLock(redis, 'lock:a', 60_000);
    const token = await first.acquire();
    expect(token).toEqual(expect.any(String));
    expect(await second.acquire()).toBeUndefined();

    expect(await second.release('someone-else')).toBe(false);
    expect(await redis.get('lock:a')).toBe(token);

    expect(await first.release(token!)).toBe(true);
    expect(await redis.exists('lock:a')).toBe(0);
    expect(await second.acquire()).toEqual(expect.any(String));
  });

  it('frees itself when its holder never releases it', async () => {
    const lock = new RedisLock(redis, 'lock:b', 200);
    const stale = await lock.acquire();
    expect(stale).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const fresh = await lock.acquire();
    expect(fresh).toBeDefined();
    // The first holder's late release must not free the new holder's lock.
    expect(await lock.release(stale!)).toBe(false);
    expect(await redis.get('lock:b')).toBe(fresh);
  });
});
