import Redis from 'ioredis';
import { PrivateRedis, startPrivateRedis } from '../../../test/support/redis-server';
import { decodeTaskEvent, TaskStateStore } from './task-state.store';
import { RunRequest } from '@app/common';
import { redisKeys } from './redis-keys';
import { TaskEvent } from './task';

const REQUEST: RunRequest = {
  strategy: 'volume_long_candle',
  params: { vol_ma_window: 20, vol_multiplier: 1.5 },
  execution: { fee: 0, slippage: 0, positions: 'overlap' },
  symbols: ['BTC_KRW', 'ETH_KRW'],
  start_date: '2024-01-01',
  end_date: '2024-03-31',
  timeframe: '1H',
};

describe('TaskStateStore (real Redis)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let subscriber: Redis;
  let store: TaskStateStore;
  let events: TaskEvent[];
  let id = 0;
  const nextId = (): string => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    subscriber = new Redis(server.url);
    store = new TaskStateStore(redis, { queueName: 'backtests', ttlS: 3600 });
    await subscriber.subscribe(store.eventsChannel);
    subscriber.on('message', (_channel, message) => {
      const event = decodeTaskEvent(message);
      if (event) events.push(event);
    });
  });
  beforeEach(() => {
    events = [];
  });
  afterAll(async () => {
    await redis.quit();
    await subscriber.quit();
    await server.dispose();
  });

  const settle = async (count: number): Promise<void> => {
    for (let i = 0; i < 100 && events.length < count; i++)
      await new Promise((r) => setTimeout(r, 10));
  };

  it('writes exactly the SPEC §6 fields (and §12 execution), JSON-encoding params and symbols, with the TTL', async () => {
    const taskId = nextId();
    expect(await store.create(taskId, REQUEST, new Date('2024-04-01T10:00:00.000Z'))).toBe(true);
    const hash = await redis.hgetall(`task:${taskId}`);
    expect(Object.keys(hash).sort()).toEqual([
      'created_at',
      'end_date',
      'error',
      'execution',
      'finished_at',
      'params',
      'progress',
      'start_date',
      'started_at',
      'status',
      'strategy',
      'symbols',
      'task_id',
      'timeframe',
    ]);
    expect(hash).toMatchObject({
      task_id: taskId,
      status: 'queued',
      progress: '0',
      params: '{"vol_ma_window":20,"vol_multiplier":1.5}',
      symbols: '["BTC_KRW","ETH_KRW"]',
      created_at: '2024-04-01T10:00:00.000Z',
    });
    const ttl = await redis.ttl(`task:${taskId}`);
    expect(ttl).toBeGreaterThan(3590);
    expect(await store.create(taskId, REQUEST)).toBe(false);
  });

  it('moves along queued -> running -> completed, renewing the TTL and publishing each change', async () => {
    const taskId = nextId();
    await store.create(taskId, REQUEST);
    await redis.expire(`task:${taskId}`, 100);
    expect(await store.markRunning(taskId, REQUEST, '2024-01-01T00:00:00Z')).toEqual({
      ok: true,
      previous: 'queued',
    });
    expect(await redis.ttl(`task:${taskId}`)).toBeGreaterThan(3590);
    expect(await store.reportProgress(taskId, 0.5)).toBe(true);
    expect(await store.reportProgress(taskId, 0.25)).toBe(false);
    expect(await store.reportProgress(taskId, 0.5)).toBe(false);
    expect(await store.complete(taskId)).toEqual({ ok: true, previous: 'running' });
    const task = await store.get(taskId);
    expect(task).toMatchObject({
      status: 'completed',
      progress: 1,
      error: null,
      params: REQUEST.params,
      symbols: REQUEST.symbols,
    });
    expect(task?.started_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(task?.finished_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    await settle(4);
    expect(events.filter((e) => e.task_id === taskId).map((e) => [e.status, e.progress])).toEqual([
      ['queued', 0],
      ['running', 0],
      ['running', 0.5],
      ['completed', 1],
    ]);
  });

  it('refuses transitions off the lifecycle: a finished task cannot be cancelled or restarted', async () => {
    const taskId = nextId();
    await store.create(taskId, REQUEST);
    expect(await store.complete(taskId)).toEqual({
      ok: false,
      reason: 'conflict',
      current: 'queued',
    });
    await store.markRunning(taskId, REQUEST, '');
    await store.fail(taskId, 'boom', 'data_file');
    expect(await store.cancel(taskId)).toEqual({
      ok: false,
      reason: 'conflict',
      current: 'failed',
    });
    expect(await store.markRunning(taskId, REQUEST, '')).toEqual({
      ok: false,
      reason: 'conflict',
      current: 'failed',
    });
    expect(await store.reportProgress(taskId, 0.9)).toBe(false);
    expect((await store.get(taskId))?.error).toBe('boom');
    await settle(3);
    expect(events.find((e) => e.task_id === taskId && e.status === 'failed')).toEqual({
      task_id: taskId,
      status: 'failed',
      progress: 0,
      error: 'boom',
      error_code: 'data_file',
    });
    expect(await store.cancel(nextId())).toEqual({ ok: false, reason: 'missing' });
  });

  it('lets a cancel win over a later completion', async () => {
    const taskId = nextId();
    await store.create(taskId, REQUEST);
    await store.markRunning(taskId, REQUEST, '');
    expect((await store.cancel(taskId)).ok).toBe(true);
    expect(await store.complete(taskId)).toEqual({
      ok: false,
      reason: 'conflict',
      current: 'cancelled',
    });
    expect((await store.get(taskId))?.status).toBe('cancelled');
  });

  it('rebuilds an expired hash from the job data when the task finally starts', async () => {
    const taskId = nextId();
    await store.create(taskId, REQUEST, new Date('2024-04-01T10:00:00.000Z'));
    await redis.del(`task:${taskId}`);
    expect((await store.markRunning(taskId, REQUEST, '2024-04-01T10:00:00.000Z')).ok).toBe(true);
    expect(await store.get(taskId)).toMatchObject({
      status: 'running',
      created_at: '2024-04-01T10:00:00.000Z',
      strategy: REQUEST.strategy,
    });
  });

  it('keeps an index of queued and running tasks only', async () => {
    await redis.del(redisKeys.activeTasks('backtests'));
    const [a, b] = [nextId(), nextId()];
    await store.create(a, REQUEST);
    await store.create(b, REQUEST);
    await store.markRunning(b, REQUEST, '');
    await store.cancel(a);
    expect((await store.listActive()).map((entry) => entry.taskId)).toEqual([b]);
  });
});
