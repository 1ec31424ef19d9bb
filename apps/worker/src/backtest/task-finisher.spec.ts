import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { RunRequest } from '@app/common';
import { RunOrigin, RunTimes } from '@app/backtest';
import {
  Manifest,
  MANIFEST_FILE_NAME,
  ManifestFields,
  newRunId,
  RESULT_FILE_NAME,
  ResultStore,
} from '@app/storage';
import { decodeTaskEvent, TaskEvent, TaskStateStore } from '@app/task-state';
import { manifestFields } from '../../../../libs/storage/src/testing/fixtures';
import { PrivateRedis, startPrivateRedis } from '../../../../test/support/redis-server';
import { TaskFinisher } from './task-finisher';

const REQUEST: RunRequest = {
  strategy: 'volume_long_candle',
  params: { vol_ma_window: 20 },
  execution: { fee: 0, slippage: 0, positions: 'overlap' },
  symbols: ['ETH_BTC'],
  start_date: '2018-01-10',
  end_date: '2018-01-31',
  timeframe: '5M',
};
// Each test takes milliseconds; the margin is for a machine shared with other builds.
jest.setTimeout(20_000);

const ORIGIN: RunOrigin = { executionHost: 'finisher-host', environment: 'test', workerId: 'w:7' };

/** A ResultStore that notes what the task's hash said each time a run folder was written. */
class ObservedResultStore extends ResultStore {
  readonly hashStatusAtWrite: Array<string | undefined> = [];
  tasks!: TaskStateStore;

  override async saveUnfinished(
    id: string,
    status: 'failed' | 'cancelled',
    fields: ManifestFields,
  ): Promise<Manifest> {
    this.hashStatusAtWrite.push((await this.tasks.get(id))?.status);
    return super.saveUnfinished(id, status, fields);
  }
}

describe('TaskFinisher (real Redis, real run folders)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let subscriber: Redis;
  let resultsDir: string;
  let results: ObservedResultStore;
  let tasks: TaskStateStore;
  let finisher: TaskFinisher;
  /** Every task event, with the manifest on disk at the moment it arrived. */
  let events: Array<{ event: TaskEvent; manifestOnDisk: Manifest | undefined }>;

  const manifestPath = (taskId: string): string => join(resultsDir, taskId, MANIFEST_FILE_NAME);
  const resultPath = (taskId: string): string => join(resultsDir, taskId, RESULT_FILE_NAME);
  const readManifestNow = (taskId: string): Manifest | undefined =>
    existsSync(manifestPath(taskId))
      ? (JSON.parse(readFileSync(manifestPath(taskId), 'utf8')) as Manifest)
      : undefined;

  /** A task a worker has started, as the handler leaves it before the run. */
  async function runningTask(): Promise<{ taskId: string; times: RunTimes }> {
    const taskId = newRunId();
    await tasks.create(taskId, REQUEST, new Date('2018-02-01T00:00:00.000Z'));
    expect(await tasks.markRunning(taskId, REQUEST, '2018-02-01T00:00:00.000Z')).toMatchObject({
      ok: true,
    });
    const started = await tasks.get(taskId);
    return { taskId, times: { created_at: started!.created_at, started_at: started!.started_at } };
  }

  /** What a backtest thread writes when its run completes: result.json, then the manifest. */
  async function writeCompletedFolder(taskId: string): Promise<void> {
    await results.saveCompleted(taskId, '{"total_signals":3}', manifestFields());
  }

  async function eventOf(taskId: string, status: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const seen = events.find(({ event }) => event.task_id === taskId && event.status === status);
      if (seen) return seen;
      if (Date.now() > deadline) throw new Error(`no ${status} event for ${taskId}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    // Connected (ready) before it subscribes: ioredis sends a SUBSCRIBE issued while the
    // connection is still in its handshake at once, then fails its own ready check in
    // subscriber mode and reconnects, losing the events published meanwhile (seen under load).
    subscriber = new Redis(server.url, { lazyConnect: true });
    await subscriber.connect();
    resultsDir = await mkdtemp(join(tmpdir(), 'coin-finisher-'));
    results = new ObservedResultStore(resultsDir);
    tasks = new TaskStateStore(redis, { queueName: 'finisher-spec', ttlS: 3600 });
    results.tasks = tasks;
    finisher = new TaskFinisher(tasks, results, ORIGIN);
    subscriber.on('message', (_channel: string, message: string) => {
      const event = decodeTaskEvent(message);
      // Read synchronously, as the event arrives: what a client told of it would find.
      if (event) events.push({ event, manifestOnDisk: readManifestNow(event.task_id) });
    });
    await subscriber.subscribe(tasks.eventsChannel);
  });
  beforeEach(() => {
    events = [];
    results.hashStatusAtWrite.length = 0;
  });
  afterAll(async () => {
    await redis.quit();
    await subscriber.quit();
    await server.dispose();
    await rm(resultsDir, { recursive: true, force: true });
  });

  describe('completed', () => {
    it('marks a running task completed, keeping the folder the run wrote', async () => {
      const { taskId, times } = await runningTask();
      await writeCompletedFolder(taskId);

      expect(await finisher.completed(taskId, REQUEST, times)).toBe('completed');
      expect(await tasks.get(taskId)).toMatchObject({
        status: 'completed',
        progress: 1,
        error: null,
      });
      expect(readManifestNow(taskId)).toMatchObject({ status: 'completed' });
      expect(readFileSync(resultPath(taskId), 'utf8')).toBe('{"total_signals":3}');
    });

    it('turns the folder into a cancelled one when a cancel won the race, with its reason', async () => {
      const { taskId, times } = await runningTask();
      await writeCompletedFolder(taskId);
      // The API cancels just as the run ends: the hash says cancelled, the folder completed.
      await tasks.cancel(taskId, 'Cancelled by alice from the dashboard');

      expect(await finisher.completed(taskId, REQUEST, times)).toBe('cancelled');
      expect(await tasks.get(taskId)).toMatchObject({ status: 'cancelled' });
      expect(existsSync(resultPath(taskId))).toBe(false);
      expect(readManifestNow(taskId)).toMatchObject({
        task_id: taskId,
        status: 'cancelled',
        result_files: [],
        error: { occurred: true, message: 'Cancelled by alice from the dashboard' },
        metadata: {
          started_at: times.started_at,
          worker_id: 'w:7',
          execution_host: 'finisher-host',
        },
      });
    });

    it("answers 'missing' for a hash that is gone, and leaves the run's folder as it is", async () => {
      const taskId = newRunId();
      await writeCompletedFolder(taskId);

      expect(
        await finisher.completed(taskId, REQUEST, { created_at: null, started_at: null }),
      ).toBe('missing');
      expect(await tasks.get(taskId)).toBeUndefined();
      expect(readManifestNow(taskId)).toMatchObject({ status: 'completed' });
      expect(existsSync(resultPath(taskId))).toBe(true);
    });
  });

  describe('failed', () => {
    it('writes the failed manifest before the hash changes', async () => {
      const { taskId, times } = await runningTask();

      expect(
        await finisher.failed(taskId, REQUEST, times, 'No candles for ETH_BTC in range', 'no_data'),
      ).toBe('failed');
      // When the folder was written, the hash still said running ...
      expect(results.hashStatusAtWrite).toEqual(['running']);
      // ... and whoever hears the failed event finds the failed folder already there.
      const failed = await eventOf(taskId, 'failed');
      expect(failed.event).toMatchObject({
        error: 'No candles for ETH_BTC in range',
        error_code: 'no_data',
      });
      expect(failed.manifestOnDisk).toMatchObject({
        status: 'failed',
        result_files: [],
        error: { occurred: true, message: 'No candles for ETH_BTC in range' },
        metadata: { worker_id: 'w:7' },
      });
      expect(await tasks.get(taskId)).toMatchObject({
        status: 'failed',
        error: 'No candles for ETH_BTC in range',
      });
    });

    it('keeps a cancel that got there first: the folder ends cancelled, the hash untouched', async () => {
      const { taskId, times } = await runningTask();
      await tasks.cancel(taskId, 'Cancelled by request');

      expect(await finisher.failed(taskId, REQUEST, times, 'disk on fire', 'internal')).toBe(
        'cancelled',
      );
      expect(await tasks.get(taskId)).toMatchObject({
        status: 'cancelled',
        error: 'Cancelled by request',
      });
      expect(readManifestNow(taskId)).toMatchObject({
        status: 'cancelled',
        error: { occurred: true, message: 'Cancelled by request' },
      });
    });

    it("answers 'missing' for a hash that is gone, the failed folder still written", async () => {
      const taskId = newRunId();
      // A stray result from an earlier try must not survive next to a failed manifest.
      await writeCompletedFolder(taskId);

      expect(
        await finisher.failed(
          taskId,
          REQUEST,
          { created_at: null, started_at: null },
          'The task could not be settled',
          'internal',
        ),
      ).toBe('missing');
      expect(await tasks.get(taskId)).toBeUndefined();
      expect(existsSync(resultPath(taskId))).toBe(false);
      expect(readManifestNow(taskId)).toMatchObject({
        task_id: taskId,
        status: 'failed',
        strategy: REQUEST.strategy,
        symbols: REQUEST.symbols,
        error: { occurred: true, message: 'The task could not be settled' },
      });
    });
  });

  describe('cancelled', () => {
    it("writes the folder of a task the API cancelled, with the hash's reason", async () => {
      const { taskId, times } = await runningTask();
      await tasks.cancel(taskId, 'Too slow, cancelled');

      await finisher.cancelled(taskId, REQUEST, times);
      expect(readManifestNow(taskId)).toMatchObject({
        status: 'cancelled',
        error: { occurred: true, message: 'Too slow, cancelled' },
      });
    });

    it("records when the task was cancelled, as the hash (and the API's own folder) says", async () => {
      const { taskId, times } = await runningTask();
      // The API's cancel, five minutes into the run; the worker writes the folder later.
      const cancelledAt = new Date(Date.parse(times.started_at!) + 300_000);
      const api = new TaskStateStore(redis, {
        queueName: 'finisher-spec',
        ttlS: 3600,
        now: () => cancelledAt,
      });
      await api.cancel(taskId, 'Cancelled by request');

      await finisher.cancelled(taskId, REQUEST, times);
      expect(readManifestNow(taskId)?.metadata).toMatchObject({
        finished_at: cancelledAt.toISOString(),
        duration_ms: 300_000,
      });
    });

    it('falls back to the default reason when the hash has expired', async () => {
      const taskId = newRunId();

      await finisher.cancelled(taskId, REQUEST, { created_at: null, started_at: null });
      expect(readManifestNow(taskId)).toMatchObject({
        status: 'cancelled',
        error: { occurred: true, message: 'Cancelled by request' },
      });
    });
  });
});
