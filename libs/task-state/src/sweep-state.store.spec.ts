import Redis from 'ioredis';
import { PrivateRedis, startPrivateRedis } from '../../../test/support/redis-server';
import { redisKeys } from './redis-keys';
import { decodeSweepEvent, SweepEvent, SweepStateStore } from './sweep-state.store';

describe('SweepStateStore (real Redis)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let subscriber: Redis;
  let store: SweepStateStore;
  let events: SweepEvent[];
  let id = 0;
  const nextId = (): string => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`;
  const create = async (sweepId: string): Promise<boolean> =>
    store.create({
      sweep_id: sweepId,
      combinations: 10,
      chunks: 3,
      strategy: 'volume_long_candle',
      objective: 'total_return_pct',
      request: '{}',
      created_at: '2026-01-01T00:00:00.000Z',
    });

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    subscriber = new Redis(server.url);
    store = new SweepStateStore(redis, { queueName: 'backtests', ttlS: 3600 });
    await subscriber.subscribe(store.eventsChannel);
    subscriber.on('message', (_channel, message) => {
      const event = decodeSweepEvent(message);
      if (event) events.push(event);
    });
  });
  beforeEach(() => {
    events = [];
  });
  afterAll(async () => {
    redis.disconnect();
    subscriber.disconnect();
    await server.stop();
  });

  it('counts each chunk once, however often it finishes, and progress only rises', async () => {
    const sweepId = nextId();
    expect(await create(sweepId)).toBe(true);
    expect(await create(sweepId)).toBe(false);
    expect(await store.completeChunk(sweepId, 0, 4)).toBe(true);
    // The same chunk again (its worker died after finishing it; it ran again elsewhere).
    expect(await store.completeChunk(sweepId, 0, 4)).toBe(false);
    expect(await store.completeChunk(sweepId, 2, 2)).toBe(true);
    const state = await store.get(sweepId);
    expect(state).toMatchObject({
      status: 'running',
      done: 6,
      progress: 0.6,
      started_at: expect.any(String),
    });
    expect(await redis.ttl(redisKeys.sweep(sweepId))).toBeGreaterThan(3500);
    expect(await redis.ttl(redisKeys.sweepChunks(sweepId))).toBeGreaterThan(3500);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.map((event) => event.progress)).toEqual([0.4, 0.6]);
  });

  it('creates a hash in one command: fields and TTL together, or nothing', async () => {
    // Two steps (HSETNX, then HSET+EXPIRE) could leave a hash of just sweep_id and no TTL,
    // which would block its id and never expire. MONITOR shows what reached Redis.
    const sweepId = nextId();
    // monitor() opens a connection of its own: both must be closed, or the first one keeps
    // reconnecting after the server stops and Jest never exits.
    const client = new Redis(server.url);
    const monitor = await client.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // What the script itself runs shows as from "lua": not a command of the client's.
      if (!source.endsWith('lua') && args.includes(redisKeys.sweep(sweepId))) seen.push(args);
    });
    try {
      expect(await create(sweepId)).toBe(true);
      expect(await create(sweepId)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
    // EVALSHA, or EVAL the first time the script is not yet loaded; no other command.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const args of seen) expect(args[0].toLowerCase()).toMatch(/^eval(sha)?$/);
    expect(await store.get(sweepId)).toMatchObject({ status: 'queued', chunks: 3, done: 0 });
    expect(await redis.ttl(redisKeys.sweep(sweepId))).toBeGreaterThan(3500);
  });

  it('a cancel and a completion race: one wins; a cancelled sweep counts no more chunks', async () => {
    const sweepId = nextId();
    await create(sweepId);
    expect(await store.transition(sweepId, 'cancelled', ['queued', 'running'])).toEqual({
      ok: true,
      previous: 'queued',
    });
    expect(await store.transition(sweepId, 'completed', ['queued', 'running'])).toEqual({
      ok: false,
      reason: 'conflict',
      current: 'cancelled',
    });
    expect(await store.completeChunk(sweepId, 1, 3)).toBe(false);
    expect(await store.get(sweepId)).toMatchObject({ status: 'cancelled', done: 0 });
    expect(await store.transition(nextId(), 'cancelled', ['queued'])).toEqual({
      ok: false,
      reason: 'missing',
    });
  });
});
