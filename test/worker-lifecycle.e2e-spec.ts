import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBacktestRequest, runBacktest } from '@app/backtest';
import { Manifest } from '@app/storage';
import { RunRequest } from '@app/common';
import { AppProcess, startApp } from './support/app-process';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import {
  countTaskMessages,
  eventually,
  longTask,
  sleep,
  TaskClient,
  taskLogLines,
  writeLongTaskData,
  writeSyntheticData,
} from './support/task-harness';

/**
 * The worker's task lifecycle end to end (SPEC §6, §7): real redis-server, real worker
 * processes (the built app), tasks submitted the way the API submits them.
 */

const SMALL_TASK: RunRequest = {
  strategy: 'volume_zone_breakout',
  params: { volume_window: 100, hold_period_bars: 3 },
  execution: { fee: 0, slippage: 0, positions: 'overlap' },
  symbols: ['SMALL_A', 'SMALL_B', 'SMALL_C'],
  start_date: '2024-01-01',
  end_date: '2024-02-29',
  timeframe: '5M',
};

describe('worker: task lifecycle (real Redis, real worker processes)', () => {
  let redis: PrivateRedis;
  let dir: string;
  let dataRoot: string;
  let resultsDir: string;
  let baseEnv: Record<string, string>;
  let worker: AppProcess;
  let client: TaskClient;
  const started: AppProcess[] = [];

  const startWorker = async (env: Record<string, string>): Promise<AppProcess> => {
    const app = await startApp('worker', { ...baseEnv, ...env });
    started.push(app);
    return app;
  };
  const manifestOf = (taskId: string): Manifest =>
    JSON.parse(readFileSync(join(resultsDir, taskId, 'manifest.json'), 'utf8')) as Manifest;
  const hasResultFile = (taskId: string): boolean =>
    existsSync(join(resultsDir, taskId, 'result.json'));

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dir = mkdtempSync(join(tmpdir(), 'coin-worker-lifecycle-'));
    dataRoot = join(dir, 'data');
    resultsDir = join(dir, 'results');
    await writeSyntheticData(dataRoot, [
      { symbol: 'SMALL_A', timeframe: '5M', year: 2024, count: 20_000, seed: 1 },
      { symbol: 'SMALL_B', timeframe: '5M', year: 2024, count: 20_000, seed: 2 },
      { symbol: 'SMALL_C', timeframe: '5M', year: 2024, count: 20_000, seed: 3 },
    ]);
    await writeLongTaskData(dataRoot);
    await mkdir(join(dataRoot, 'BROKEN_BTC', '5M'), { recursive: true });
    writeFileSync(join(dataRoot, 'BROKEN_BTC', '5M', '2024.parquet'), 'this is not parquet');
    baseEnv = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      WORKER_CONCURRENCY: '2',
      // Short locks: a worker whose event loop were blocked by a backtest would lose its job
      // to the stalled checker within a second or two, and the task would start twice.
      LOCK_DURATION_MS: '1000',
    };
    worker = await startWorker({});
    client = await TaskClient.connect(baseEnv);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all(started.map((app) => app.stop('SIGKILL')));
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a multi-symbol task to completed: SPEC §6 hash, events and logs, result folder with md5', async () => {
    const taskId = await client.submit(SMALL_TASK);
    const running = await client.waitFor(taskId, (task) => task.status !== 'queued');
    const hash = await client.redis.hgetall(`task:${taskId}`);
    // SPEC §6's fields, and the run's §12 `execution` (a task's status echoes the request).
    expect(Object.keys(hash).sort()).toEqual(
      [
        'task_id',
        'status',
        'progress',
        'strategy',
        'params',
        'symbols',
        'start_date',
        'end_date',
        'timeframe',
        'created_at',
        'started_at',
        'finished_at',
        'error',
        'execution',
      ].sort(),
    );
    expect(running.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const done = await client.waitForEnd(taskId);
    expect(done).toMatchObject({ status: 'completed', progress: 1, error: null });
    expect(await client.redis.ttl(`task:${taskId}`)).toBeGreaterThan(3000);

    await eventually(
      () => client.eventsOf(taskId).some((event) => event.status === 'completed'),
      5000,
      'the completed event',
    );
    const events = client.eventsOf(taskId);
    expect(events.map((event) => event.status)).toEqual([
      'queued',
      'running',
      ...events.slice(2, -1).map(() => 'running'),
      'completed',
    ]);
    expect(events.at(-1)?.progress).toBe(1);

    const resultBytes = readFileSync(join(resultsDir, taskId, 'result.json'));
    const chartBytes = readFileSync(join(resultsDir, taskId, 'chart.json'));
    const manifest = manifestOf(taskId);
    expect(manifest).toMatchObject({
      task_id: taskId,
      status: 'completed',
      strategy: SMALL_TASK.strategy,
      symbols: SMALL_TASK.symbols,
      error: { occurred: false, message: null },
      result_files: [
        {
          name: 'result.json',
          path: `${taskId}/result.json`,
          size_bytes: resultBytes.length,
          checksum: createHash('md5').update(resultBytes).digest('hex'),
        },
        // The report's data (SPEC §14), with its own md5.
        {
          name: 'chart.json',
          path: `${taskId}/chart.json`,
          size_bytes: chartBytes.length,
          checksum: createHash('md5').update(chartBytes).digest('hex'),
        },
      ],
    });
    expect(manifest.metadata.worker_id).toMatch(/:\d+$/);
    // The same numbers as the engine run in this process on the same files.
    const request = parseBacktestRequest(SMALL_TASK);
    const reference = await runBacktest(request, {
      dataRoot,
      runId: taskId,
      origin: { environment: 'test', executionHost: 'here', workerId: null },
    });
    const result = JSON.parse(resultBytes.toString('utf8')) as typeof reference.result;
    expect(result.symbols).toEqual(reference.result.symbols);
    expect(result.total_signals).toBe(reference.result.total_signals);
    expect(manifest.summary.total_signals).toBe(reference.result.total_signals);

    const lines = taskLogLines(worker, taskId);
    const messages = lines.map((line) => String(line.msg));
    expect(messages).toEqual(
      expect.arrayContaining([
        `[Task ${taskId}] Starting backtest: volume_zone_breakout`,
        `[Task ${taskId}] Processing SMALL_A (1/3)`,
        `[Task ${taskId}] Processing SMALL_C (3/3)`,
        `[Task ${taskId}] Backtest completed successfully`,
      ]),
    );
    expect(messages.filter((m) => /^\[Task [\w-]+\] Data loaded: \d+ rows$/.test(m))).toHaveLength(
      3,
    );
    const completion = lines.find((line) => String(line.msg).endsWith('completed successfully'));
    expect(typeof completion?.execution_time).toBe('number');
    // Every line that names the task in its message carries task_id as a field.
    const mentioning = worker
      .logLines()
      .filter((line) => String(line.msg).includes(`[Task ${taskId}]`));
    expect(mentioning.every((line) => line.task_id === taskId)).toBe(true);
  }, 60_000);

  it('keeps a long task on one worker (the thread pool leaves the event loop free to renew a 1 s lock), its progress rising', async () => {
    const taskId = await client.submit(longTask(20));
    const done = await client.waitForEnd(taskId, 90_000);
    expect(done.status).toBe('completed');
    // Progress is written at most every PROGRESS_INTERVAL_MS: a run of seconds shows many
    // steps, never falling, ending at 1 with the completion.
    await eventually(
      () => client.eventsOf(taskId).some((event) => event.status === 'completed'),
      5000,
      'the completed event',
    );
    const progress = client.eventsOf(taskId).map((event) => event.progress);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
    const runningProgress = client
      .eventsOf(taskId)
      .filter((event) => event.status === 'running' && event.progress > 0 && event.progress < 1);
    expect(new Set(runningProgress.map((event) => event.progress)).size).toBeGreaterThanOrEqual(5);
    expect(progress.at(-1)).toBe(1);
    expect(countTaskMessages(worker, taskId, 'Starting backtest')).toBe(1);
    expect(worker.output()).not.toContain(`[Task ${taskId}] Its worker stopped renewing the lock`);
    expect(manifestOf(taskId).summary.symbols_processed).toBe(20);
  }, 120_000);

  it('fails bad data at once, without retrying: no data (no_data) and a broken file (data_file)', async () => {
    const noData = await client.submit({ ...SMALL_TASK, symbols: ['NOPE_BTC'] });
    const broken = await client.submit({ ...SMALL_TASK, symbols: ['BROKEN_BTC'] });
    const [noDataTask, brokenTask] = await Promise.all([
      client.waitForEnd(noData),
      client.waitForEnd(broken),
    ]);
    expect(noDataTask.status).toBe('failed');
    expect(noDataTask.error).toContain('No data found for symbols [NOPE_BTC]');
    expect(brokenTask.status).toBe('failed');
    expect(brokenTask.error).toContain('BROKEN_BTC/5M/2024.parquet');
    await eventually(
      () => client.eventsOf(broken).some((event) => event.status === 'failed'),
      5000,
      'the failed event',
    );
    expect(client.eventsOf(noData).find((e) => e.status === 'failed')?.error_code).toBe('no_data');
    expect(client.eventsOf(broken).find((e) => e.status === 'failed')?.error_code).toBe(
      'data_file',
    );
    for (const taskId of [noData, broken]) {
      expect(countTaskMessages(worker, taskId, 'Starting backtest')).toBe(1);
      expect(hasResultFile(taskId)).toBe(false);
      const manifest = manifestOf(taskId);
      expect(manifest.status).toBe('failed');
      expect(manifest.error.occurred).toBe(true);
      expect(manifest.error.message).toBe((await client.tasks.get(taskId))?.error);
      // The hash is settled first, then BullMQ records the job as failed: once, no retry.
      await eventually(
        async () => (await (await client.queue.getJob(taskId))?.getState()) === 'failed',
        5000,
        'the job to be failed',
      );
      expect((await client.queue.getJob(taskId))?.attemptsMade).toBe(1);
    }
  }, 60_000);

  it('cancels running tasks within seconds and never runs a task cancelled while queued', async () => {
    // Both slots busy with long tasks, a third task waits behind them.
    const first = await client.submit(longTask(100));
    const second = await client.submit(longTask(100));
    await client.waitFor(first, (task) => task.progress > 0, 60_000);
    await client.waitFor(second, (task) => task.status === 'running', 60_000);
    const queued = await client.submit(SMALL_TASK);
    await sleep(300);
    expect((await client.tasks.get(queued))?.status).toBe('queued');
    // The API's cancel: the hash flips to cancelled (and publishes). The job is left in the
    // queue here, as when a worker takes it at the moment the API tries to remove it.
    expect((await client.tasks.cancel(queued)).ok).toBe(true);

    const cancelledAt = Date.now();
    expect((await client.tasks.cancel(first)).ok).toBe(true);
    expect((await client.tasks.cancel(second)).ok).toBe(true);
    for (const taskId of [first, second]) {
      await eventually(
        () => existsSync(join(resultsDir, taskId, 'manifest.json')),
        10_000,
        'manifest',
      );
      expect(manifestOf(taskId)).toMatchObject({
        status: 'cancelled',
        result_files: [],
        error: { occurred: true, message: 'Cancelled by request' },
      });
      expect(hasResultFile(taskId)).toBe(false);
      expect((await client.tasks.get(taskId))?.status).toBe('cancelled');
      expect(countTaskMessages(worker, taskId, 'Cancelled: stopped, no result written')).toBe(1);
    }
    // Liveness, not speed: the flag is seen at the next boundary (at most CHUNK_BARS = 4,096 bars away).
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);

    await eventually(
      () => countTaskMessages(worker, queued, 'Skipped: the task is no longer queued') === 1,
      10_000,
      'the worker to skip the cancelled task',
    );
    expect(countTaskMessages(worker, queued, 'Starting backtest')).toBe(0);
    expect(manifestOf(queued).status).toBe('cancelled');
    expect(hasResultFile(queued)).toBe(false);
    expect((await client.tasks.get(queued))?.status).toBe('cancelled');
  }, 120_000);

  it('fails a task that runs past JOB_TIMEOUT_S with a timeout error, a failed manifest and no retry', async () => {
    const env = { QUEUE_NAME: 'timeouts', JOB_TIMEOUT_S: '1' };
    const timeoutWorker = await startWorker(env);
    const timeouts = await TaskClient.connect({ ...baseEnv, ...env });
    try {
      const taskId = await timeouts.submit(longTask(100));
      const task = await timeouts.waitForEnd(taskId, 30_000);
      expect(task.status).toBe('failed');
      expect(task.error).toContain('JOB_TIMEOUT_S (1 s)');
      await eventually(
        () => timeouts.eventsOf(taskId).some((event) => event.status === 'failed'),
        5000,
        'the failed event',
      );
      expect(timeouts.eventsOf(taskId).find((e) => e.status === 'failed')?.error_code).toBe(
        'timeout',
      );
      expect(manifestOf(taskId)).toMatchObject({ status: 'failed', result_files: [] });
      expect(countTaskMessages(timeoutWorker, taskId, 'Starting backtest')).toBe(1);
      await eventually(
        async () => (await (await timeouts.queue.getJob(taskId))?.getState()) === 'failed',
        5000,
        'the job to be failed',
      );
      const job = await timeouts.queue.getJob(taskId);
      expect(job?.failedReason).toContain('JOB_TIMEOUT_S');
      expect(job?.attemptsMade).toBe(1);
    } finally {
      await timeouts.close();
    }
  }, 60_000);

  it('serves a finished task from its folder after the hash expired, and keeps a long-waiting task alive', async () => {
    // Hashes live 2 s here; a queued task waiting longer must not vanish (the reconciler
    // renews it), a finished one must (its folder remains).
    const env = { QUEUE_NAME: 'short-ttl', TASK_TTL_S: '2', WORKER_CONCURRENCY: '1' };
    await startWorker(env);
    const shortTtl = await TaskClient.connect({ ...baseEnv, ...env });
    try {
      const blocker = await shortTtl.submit(longTask(30));
      await shortTtl.waitFor(blocker, (task) => task.status === 'running', 30_000);
      const waiting = await shortTtl.submit(SMALL_TASK);
      await sleep(4000);
      expect((await shortTtl.tasks.get(waiting))?.status).toBe('queued');
      expect((await shortTtl.tasks.get(blocker))?.status).toBe('running');
      expect((await shortTtl.tasks.cancel(blocker)).ok).toBe(true);

      const done = await shortTtl.waitForEnd(waiting, 60_000);
      expect(done.status).toBe('completed');
      await eventually(
        async () => (await shortTtl.redis.exists(`task:${waiting}`)) === 0,
        10_000,
        'the hash to expire',
      );
      const manifest = manifestOf(waiting);
      expect(manifest.status).toBe('completed');
      const result = JSON.parse(readFileSync(join(resultsDir, waiting, 'result.json'), 'utf8'));
      expect(result).toMatchObject({ run_id: waiting, strategy: SMALL_TASK.strategy });
    } finally {
      await shortTtl.close();
    }
  }, 90_000);

  it('fails a task whose job vanished from the queue instead of leaving it queued forever', async () => {
    // The API recorded the task but died before adding its job.
    const orphan = '00000000-0000-4000-8000-00000000abcd';
    await client.tasks.create(orphan, SMALL_TASK);
    const task = await client.waitForEnd(orphan, 20_000);
    expect(task.status).toBe('failed');
    expect(task.error).toContain('no longer in the queue');
    expect(manifestOf(orphan)).toMatchObject({ status: 'failed', result_files: [] });
  }, 30_000);
});
