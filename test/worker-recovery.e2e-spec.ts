import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Manifest } from '@app/storage';
import { AppProcess, startApp } from './support/app-process';
import { freePort, PrivateRedis, startPrivateRedis } from './support/redis-server';
import {
  countTaskMessages,
  eventually,
  longTask,
  sleep,
  TaskClient,
  writeLongTaskData,
} from './support/task-harness';
import { runFolderNames } from './support/results-dir';

/**
 * Nothing lost when a process dies (SPEC §6): a worker killed mid-task, Redis restarted
 * mid-run, a worker shut down with SIGTERM. Real redis-server (append-only, so it survives a
 * restart like a production Redis), real worker processes.
 */

describe('worker: recovery from crashes, Redis restarts and shutdowns', () => {
  let redis: PrivateRedis;
  let dir: string;
  let dataRoot: string;
  const started: AppProcess[] = [];
  const clients: TaskClient[] = [];

  /** A scenario of its own: its queue and results folder, so counts are its own. */
  const scenario = async (
    name: string,
    env: Record<string, string> = {},
  ): Promise<{
    env: Record<string, string>;
    client: TaskClient;
    resultsDir: string;
    startWorker: (extra?: Record<string, string>) => Promise<AppProcess>;
    manifestOf: (taskId: string) => Manifest;
  }> => {
    const resultsDir = join(dir, `results-${name}`);
    const scenarioEnv = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: name,
      WORKER_CONCURRENCY: '2',
      ...env,
    };
    const client = await TaskClient.connect(scenarioEnv);
    clients.push(client);
    return {
      env: scenarioEnv,
      client,
      resultsDir,
      startWorker: async (extra = {}) => {
        const app = await startApp('worker', { ...scenarioEnv, ...extra });
        started.push(app);
        return app;
      },
      manifestOf: (taskId) =>
        JSON.parse(readFileSync(join(resultsDir, taskId, 'manifest.json'), 'utf8')) as Manifest,
    };
  };

  beforeAll(async () => {
    redis = await startPrivateRedis({ appendOnly: true });
    dir = mkdtempSync(join(tmpdir(), 'coin-worker-recovery-'));
    dataRoot = join(dir, 'data');
    await writeLongTaskData(dataRoot);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(started.map((app) => app.stop('SIGKILL')));
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 of a worker mid-task: another worker runs the task to completion, once', async () => {
    const { client, resultsDir, startWorker, manifestOf } = await scenario('killed', {
      LOCK_DURATION_MS: '2000',
    });
    const first = await startWorker();
    const taskId = await client.submit(longTask(30));
    await client.waitFor(taskId, (task) => task.progress > 0, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startWorker();
    const task = await client.waitForEnd(taskId, 120_000);
    expect(task.status).toBe('completed');
    // One run folder, complete, written by the second worker.
    expect(runFolderNames(resultsDir)).toEqual([taskId]);
    expect(existsSync(join(resultsDir, taskId, 'result.json'))).toBe(true);
    const manifest = manifestOf(taskId);
    expect(manifest.status).toBe('completed');
    expect(manifest.metadata.worker_id).toBe(
      `${manifest.metadata.execution_host}:${second.child.pid}`,
    );
    // Started by each worker once; completed once, by the second.
    expect(countTaskMessages(first, taskId, 'Starting backtest')).toBe(1);
    expect(countTaskMessages(second, taskId, 'Starting backtest')).toBe(1);
    expect(countTaskMessages(first, taskId, 'Backtest completed successfully')).toBe(0);
    expect(countTaskMessages(second, taskId, 'Backtest completed successfully')).toBe(1);
  }, 180_000);

  it('a worker that loses its job’s lock stops and writes nothing; the task then runs once more and completes', async () => {
    const { client, resultsDir, startWorker, manifestOf } = await scenario('lost-lock', {
      LOCK_DURATION_MS: '2000',
    });
    const worker = await startWorker();
    const taskId = await client.submit(longTask(30));
    await client.waitFor(taskId, (task) => task.progress > 0, 60_000);
    // What a long Redis outage or partition does: the lock is gone when the worker renews it
    // (by then the stalled-job check may have handed the job to another worker).
    await client.redis.del(`bull:lost-lock:${taskId}:lock`);

    const task = await client.waitForEnd(taskId, 120_000);
    expect(task.status).toBe('completed');
    expect(countTaskMessages(worker, taskId, 'Lost the job')).toBe(1);
    expect(countTaskMessages(worker, taskId, 'Abandoned after losing its lock')).toBe(1);
    // The lost run wrote nothing and stopped; the stalled job ran again and completed once.
    expect(countTaskMessages(worker, taskId, 'Starting backtest')).toBe(2);
    expect(countTaskMessages(worker, taskId, 'Backtest completed successfully')).toBe(1);
    expect(runFolderNames(resultsDir)).toEqual([taskId]);
    expect(manifestOf(taskId)).toMatchObject({ status: 'completed' });
  }, 180_000);

  it('a task cancelled while its worker is dead stays cancelled after its hash expires', async () => {
    const { env, client, resultsDir, startWorker, manifestOf } = await scenario('cancel-orphan', {
      LOCK_DURATION_MS: '2000',
      TASK_TTL_S: '3',
    });
    const api = await startApp('api', env);
    started.push(api);
    const doomed = await startWorker();
    const taskId = await client.submit(longTask(30));
    await client.waitFor(taskId, (task) => task.progress > 0, 60_000);
    doomed.child.kill('SIGKILL');
    await doomed.exited;

    const cancel = await fetch(`${api.url}/api/backtests/tasks/${taskId}`, { method: 'DELETE' });
    expect(cancel.status).toBe(202);
    // Written by the API at once: the cancel must outlive the hash (TASK_TTL_S 3 s here).
    expect(manifestOf(taskId)).toMatchObject({ status: 'cancelled', result_files: [] });
    await eventually(async () => !(await client.tasks.get(taskId)), 20_000, 'the hash to expire');

    const next = await startWorker();
    await eventually(
      () => countTaskMessages(next, taskId, 'Skipped: the task has ended') === 1,
      60_000,
      'the next worker to pick up the dead worker’s job and skip it',
    );
    expect(countTaskMessages(next, taskId, 'Starting backtest')).toBe(0);
    const status = (await (await fetch(`${api.url}/api/backtests/status/${taskId}`)).json()) as {
      status: string;
    };
    expect(status.status).toBe('cancelled');
    expect(existsSync(join(resultsDir, taskId, 'result.json'))).toBe(false);
  }, 180_000);

  it('a task whose worker dies twice is failed (maxStalledCount 1), never left running', async () => {
    const { client, startWorker, manifestOf } = await scenario('killed-twice', {
      LOCK_DURATION_MS: '2000',
    });
    const taskId = await client.submit(longTask(100));
    for (let death = 1; death <= 2; death++) {
      const doomed = await startWorker();
      await client.waitFor(
        taskId,
        () => countTaskMessages(doomed, taskId, 'Starting backtest') === 1,
        60_000,
      );
      doomed.child.kill('SIGKILL');
      await doomed.exited;
    }
    const last = await startWorker();
    const task = await client.waitForEnd(taskId, 60_000);
    expect(task.status).toBe('failed');
    expect(task.error).toContain('stalled more than allowable limit');
    expect(manifestOf(taskId)).toMatchObject({ status: 'failed', result_files: [] });
    expect(countTaskMessages(last, taskId, 'Starting backtest')).toBe(0);
  }, 180_000);

  it('Redis restarting mid-run: the worker reconnects, the task completes and new tasks run', async () => {
    const { client, startWorker, manifestOf } = await scenario('redis-restart', {
      LOCK_DURATION_MS: '10000',
    });
    const worker = await startWorker();
    const taskId = await client.submit(longTask(30));
    await client.waitFor(taskId, (task) => task.progress > 0, 60_000);
    await redis.stop();
    await sleep(1500);
    await redis.start();

    const task = await client.waitForEnd(taskId, 120_000);
    expect(task.status).toBe('completed');
    expect(manifestOf(taskId).summary.symbols_processed).toBe(30);
    expect(countTaskMessages(worker, taskId, 'Starting backtest')).toBe(1);

    const next = await client.submit(longTask(1));
    expect((await client.waitForEnd(next, 60_000)).status).toBe('completed');
  }, 180_000);

  it('SIGTERM: a short running task finishes, a long one is released to the next worker, exit code 0', async () => {
    const { client, startWorker, manifestOf } = await scenario('sigterm', {
      LOCK_DURATION_MS: '2000',
      // Room for the short task even on a busy machine; the long one needs far longer.
      SHUTDOWN_GRACE_S: '10',
    });
    const first = await startWorker();
    const long = await client.submit(longTask(100));
    const short = await client.submit(longTask(6));
    await client.waitFor(long, (task) => task.status === 'running', 60_000);
    await client.waitFor(short, (task) => task.status === 'running', 60_000);

    expect(await first.stop('SIGTERM')).toBe(0);
    expect(
      first.logLines().some((line) => String(line.msg).startsWith('Shutting down: 2 running')),
    ).toBe(true);
    expect((await client.tasks.get(short))?.status).toBe('completed');
    expect(countTaskMessages(first, short, 'Backtest completed successfully')).toBe(1);
    expect(countTaskMessages(first, long, 'Released back to the queue')).toBe(1);
    expect((await client.tasks.get(long))?.status).toBe('running');
    expect(await (await client.queue.getJob(long))?.getState()).toBe('waiting');

    const second = await startWorker();
    const task = await client.waitForEnd(long, 120_000);
    expect(task.status).toBe('completed');
    expect(countTaskMessages(second, long, 'Starting backtest')).toBe(1);
    expect(manifestOf(long).summary.symbols_processed).toBe(100);
  }, 180_000);

  it('SIGTERM while Redis is unreachable: the worker still exits 0', async () => {
    const worker = await startApp('worker', {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: join(dir, 'results-no-redis'),
      SHUTDOWN_GRACE_S: '1',
    });
    started.push(worker);
    expect(await worker.stop('SIGTERM', 30_000)).toBe(0);
  }, 60_000);
});
