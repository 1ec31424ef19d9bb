import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { RunRequest } from '@app/common';
import { loadConfig } from '@app/config';
import { RedisConnections } from '@app/platform';
import { newRunId, RESULT_FILE_NAME, ResultStore } from '@app/storage';
import {
  enqueueTask,
  redisKeys,
  TASK_JOB_NAME,
  TASK_JOB_SCHEMA,
  TaskJobData,
  taskJobOptions,
  TaskStateStore,
} from '@app/task-state';
import { manifestFields } from '../../../../libs/storage/src/testing/fixtures';
import { PrivateRedis, startPrivateRedis } from '../../../../test/support/redis-server';
import { TaskFinisher } from './task-finisher';
import { TaskReconciler } from './task-reconciler';

// Each test takes well under a second; the margin is for a machine shared with other builds.
jest.setTimeout(20_000);

const REQUEST: RunRequest = {
  strategy: 'volume_long_candle',
  params: { vol_ma_window: 20 },
  execution: { fee: 0, slippage: 0, positions: 'overlap' },
  symbols: ['ETH_BTC'],
  start_date: '2018-01-10',
  end_date: '2018-01-31',
  timeframe: '5M',
};
const TASK_TTL_S = 3600;
/** The reconciler's interval (LOCK_DURATION_MS) unless a test needs its lock to expire. */
const LONG_INTERVAL_MS = 600_000;

interface LogLine {
  level: 'info' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

/** The reconciler logs through pino; this keeps the lines for the tests to read. */
class RecordingLogger {
  readonly lines: LogLine[] = [];
  info = (fields: Record<string, unknown>, message: string) =>
    this.lines.push({ level: 'info', fields, message });
  warn = (fields: Record<string, unknown>, message: string) =>
    this.lines.push({ level: 'warn', fields, message });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('TaskReconciler (real Redis, real BullMQ queue, real run folders)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let root: string;
  let closing: Array<() => Promise<void>>;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    root = await mkdtemp(join(tmpdir(), 'coin-reconciler-'));
  });
  beforeEach(() => {
    closing = [];
  });
  afterEach(async () => {
    for (const close of closing.reverse()) await close();
  });
  afterAll(async () => {
    await redis.quit();
    await server.dispose();
    await rm(root, { recursive: true, force: true });
  });

  /**
   * One worker's reconciler with what the worker module gives it (its Redis connections, the
   * task and result stores, the finisher, the BullMQ queue), built directly: Nest would also
   * start its timer, whose passes would race the ones the tests run.
   */
  function workerOn(queueName: string, intervalMs = LONG_INTERVAL_MS) {
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      REDIS_URL: server.url,
      QUEUE_NAME: queueName,
      DATA_ROOT: root,
      TASK_TTL_S: String(TASK_TTL_S),
      LOCK_DURATION_MS: String(intervalMs),
    });
    const connections = new RedisConnections(config, 'worker');
    const tasks = new TaskStateStore(connections.client, { queueName, ttlS: config.taskTtlS });
    const results = new ResultStore(config.resultsDir);
    const finisher = new TaskFinisher(tasks, results, {
      executionHost: 'reconciler-host',
      environment: 'test',
      workerId: 'reconciler-host:1',
    });
    // One try per job: a job failed once is failed for good, as after its last attempt.
    const queue = new Queue<TaskJobData>(queueName, {
      connection: { host: '127.0.0.1', port: server.port },
      defaultJobOptions: taskJobOptions(1),
    });
    const logger = new RecordingLogger();
    const reconciler = new TaskReconciler(
      config,
      tasks,
      results,
      finisher,
      connections,
      queue,
      logger as unknown as PinoLogger,
    );
    closing.push(async () => {
      await queue.close();
      await connections.onApplicationShutdown();
    });
    return { reconciler, tasks, results, queue, logger, queueName, intervalMs };
  }

  type TestWorker = ReturnType<typeof workerOn>;

  const queueName = (): string => `reconciler-${randomUUID().slice(0, 8)}`;

  /** A submitted task (hash queued, job waiting), as the API leaves it. */
  async function submitted(worker: TestWorker): Promise<string> {
    const taskId = newRunId();
    await enqueueTask(worker.queue, worker.tasks, taskId, REQUEST);
    return taskId;
  }

  /** A submitted task that a worker has taken: its job active under `token`, its hash running. */
  async function takenByWorker(worker: TestWorker, token: string) {
    const taskId = await submitted(worker);
    // A worker without a processor: it takes jobs only when asked, so the test can fail one.
    const consumer = new Worker<TaskJobData>(worker.queueName, null, {
      connection: { host: '127.0.0.1', port: server.port },
    });
    closing.push(() => consumer.close(true));
    const job = (await consumer.getNextJob(token)) as Job<TaskJobData> | undefined;
    expect(job?.id).toBe(taskId);
    expect(await worker.tasks.markRunning(taskId, REQUEST, job!.data.created_at)).toMatchObject({
      ok: true,
    });
    return { taskId, job: job! };
  }

  const isActive = async (worker: TestWorker, taskId: string): Promise<boolean> =>
    (await redis.zscore(redisKeys.activeTasks(worker.queueName), taskId)) !== null;

  describe('a task whose job BullMQ will still run', () => {
    it('renews the TTL of a waiting, a delayed and an active task, changing nothing else', async () => {
      const worker = workerOn(queueName());
      // Taken first: a worker takes the oldest waiting job.
      const { taskId: active } = await takenByWorker(worker, 'token-1');
      const waiting = await submitted(worker);
      // A job waiting for its retry after a transient fault.
      const delayed = newRunId();
      await worker.tasks.create(delayed, REQUEST);
      await worker.queue.add(
        TASK_JOB_NAME,
        {
          schema: TASK_JOB_SCHEMA,
          task_id: delayed,
          created_at: new Date().toISOString(),
          request: REQUEST,
        },
        { jobId: delayed, delay: 60_000 },
      );
      for (const taskId of [waiting, delayed, active]) {
        await redis.expire(redisKeys.task(taskId), 5);
      }

      const report = await worker.reconciler.reconcile();
      expect(report).toEqual({ checked: 3, touched: 3, completed: 0, failed: 0, forgotten: 0 });
      for (const taskId of [waiting, delayed, active]) {
        expect(await redis.ttl(redisKeys.task(taskId))).toBeGreaterThan(TASK_TTL_S - 60);
        expect(await isActive(worker, taskId)).toBe(true);
      }
      expect((await worker.tasks.get(waiting))?.status).toBe('queued');
      expect((await worker.tasks.get(active))?.status).toBe('running');
    });
  });

  describe('a task whose job ended while its hash still says queued or running', () => {
    it('fails a running task whose job BullMQ failed, with its reason and a failed manifest', async () => {
      const worker = workerOn(queueName());
      const { taskId, job } = await takenByWorker(worker, 'token-1');
      // What BullMQ does to a job whose worker died once too often.
      await job.moveToFailed(new Error('job stalled more than allowable limit'), 'token-1');

      const report = await worker.reconciler.reconcile();
      expect(report).toMatchObject({ checked: 1, failed: 1, completed: 0 });
      const message = "The task's job failed: job stalled more than allowable limit";
      expect(await worker.tasks.get(taskId)).toMatchObject({ status: 'failed', error: message });
      expect(await worker.results.readManifest(taskId)).toMatchObject({
        status: 'failed',
        result_files: [],
        error: { occurred: true, message },
        metadata: { worker_id: 'reconciler-host:1' },
      });
      expect(await isActive(worker, taskId)).toBe(false);
      expect(worker.logger.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: `[Task ${taskId}] Was still running after its job ended: marked failed`,
        }),
      );
      // Settled: the next pass has nothing left to look at.
      expect(await worker.reconciler.reconcile()).toMatchObject({ checked: 0 });
    });

    it('waits before failing a task whose job is missing: it may be a moment from being added', async () => {
      const worker = workerOn(queueName());
      const taskId = await submitted(worker);
      await worker.queue.remove(taskId);

      // A young task: its job counts as missing only once the task is two intervals old.
      expect(await worker.reconciler.reconcile()).toMatchObject({ checked: 1, failed: 0 });
      expect((await worker.tasks.get(taskId))?.status).toBe('queued');
      expect(await worker.results.readManifest(taskId)).toBeUndefined();
      expect(await isActive(worker, taskId)).toBe(true);

      const twoIntervalsLater = Date.now() + 2 * worker.intervalMs;
      expect(await worker.reconciler.reconcile(twoIntervalsLater)).toMatchObject({ failed: 1 });
      const message = "The task's job is no longer in the queue";
      expect(await worker.tasks.get(taskId)).toMatchObject({ status: 'failed', error: message });
      expect(await worker.results.readManifest(taskId)).toMatchObject({
        status: 'failed',
        error: { occurred: true, message },
      });
      expect(await isActive(worker, taskId)).toBe(false);
    });

    it('completes, not fails, a task whose folder holds its completed run', async () => {
      const worker = workerOn(queueName());
      const { taskId, job } = await takenByWorker(worker, 'token-1');
      // The worker wrote the run's folder and died before marking the hash completed.
      await worker.results.saveCompleted(taskId, '{"total_signals":3}', manifestFields());
      await job.moveToFailed(new Error('job stalled more than allowable limit'), 'token-1');

      expect(await worker.reconciler.reconcile()).toMatchObject({ completed: 1, failed: 0 });
      expect(await worker.tasks.get(taskId)).toMatchObject({
        status: 'completed',
        progress: 1,
        error: null,
      });
      expect(await worker.results.readManifest(taskId)).toMatchObject({ status: 'completed' });
      expect(await worker.results.readResultText(taskId)).toBe('{"total_signals":3}');
      expect(await isActive(worker, taskId)).toBe(false);
    });
  });

  describe('an index entry with nothing left to settle', () => {
    it('drops a task whose hash expired after its job went', async () => {
      const worker = workerOn(queueName());
      const taskId = await submitted(worker);
      await worker.queue.remove(taskId);
      await redis.del(redisKeys.task(taskId));

      expect(await worker.reconciler.reconcile()).toMatchObject({ checked: 1, forgotten: 1 });
      expect(await isActive(worker, taskId)).toBe(false);
      // Nothing written for a task nobody knows any more.
      expect(existsSync(join(worker.results.resultsDir, taskId))).toBe(false);
    });

    it('drops a terminal task left in the index, leaving its hash and folder alone', async () => {
      const worker = workerOn(queueName());
      const { taskId, job } = await takenByWorker(worker, 'token-1');
      await worker.results.saveCompleted(taskId, '{"total_signals":3}', manifestFields());
      expect(await worker.tasks.complete(taskId)).toMatchObject({ ok: true });
      await job.moveToCompleted({ status: 'completed' }, 'token-1', false);
      // A stray entry (the completion itself takes the task out of the index).
      await redis.zadd(redisKeys.activeTasks(worker.queueName), Date.now(), taskId);

      expect(await worker.reconciler.reconcile()).toMatchObject({
        checked: 1,
        forgotten: 1,
        failed: 0,
      });
      expect(await isActive(worker, taskId)).toBe(false);
      expect((await worker.tasks.get(taskId))?.status).toBe('completed');
      expect(await worker.results.readManifest(taskId)).toMatchObject({ status: 'completed' });
      expect(existsSync(join(worker.results.runDir(taskId), RESULT_FILE_NAME))).toBe(true);
    });
  });

  describe('two workers', () => {
    it('run one pass per interval between them: the lock elects one and lapses by the next', async () => {
      const intervalMs = 4000;
      const name = queueName();
      const first = workerOn(name, intervalMs);
      const second = workerOn(name, intervalMs);
      const taskId = await submitted(first);
      const lockKey = redisKeys.reconcilerLock(name);

      const ticks = await Promise.all([first.reconciler.tick(), second.reconciler.tick()]);
      const ran = ticks.filter((report) => report !== undefined);
      expect(ran).toEqual([{ checked: 1, touched: 1, completed: 0, failed: 0, forgotten: 0 }]);
      // Held for half an interval and not released, so even the winner's next tick waits.
      const heldMs = await redis.pttl(lockKey);
      expect(heldMs).toBeGreaterThan(0);
      expect(heldMs).toBeLessThanOrEqual(intervalMs / 2);
      const winner = ticks[0] ? first : second;
      expect(await winner.reconciler.tick()).toBeUndefined();

      // By the next interval the lock has lapsed: again exactly one of the two passes.
      await until('the reconciler lock to lapse', async () => (await redis.exists(lockKey)) === 0);
      const next = await Promise.all([first.reconciler.tick(), second.reconciler.tick()]);
      expect(next.filter((report) => report !== undefined)).toHaveLength(1);
      expect(await isActive(first, taskId)).toBe(true);
    });
  });
});
