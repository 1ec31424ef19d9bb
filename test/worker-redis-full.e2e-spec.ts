import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Manifest } from '@app/storage';
import { AppProcess, startApp } from './support/app-process';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import {
  eventually,
  longTask,
  sleep,
  TaskClient,
  writeLongTaskData,
  writeSyntheticData,
} from './support/task-harness';
import { runFolderNames } from './support/results-dir';

/**
 * A full Redis (maxmemory reached, noeviction: every write refused) is an infrastructure
 * fault, never a task's failure (issue 10): queued and running tasks wait, and once Redis
 * accepts writes again every one of them completes, once. The worker's readiness says Redis
 * is full meanwhile.
 */
describe('worker: Redis full for a while', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let dir: string;
  let worker: AppProcess | undefined;
  let client: TaskClient | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    admin = new Redis(redis.url);
    dir = mkdtempSync(join(tmpdir(), 'coin-redis-full-'));
    await writeLongTaskData(join(dir, 'data'));
    await writeSyntheticData(join(dir, 'data'), [
      { symbol: 'SMALL_BTC', timeframe: '5M', year: 2024, count: 2000, seed: 7 },
    ]);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await worker?.stop('SIGKILL');
    await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
    admin.disconnect();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no task: 200 queued and running tasks all complete once Redis has room again', async () => {
    const resultsDir = join(dir, 'results');
    const env = {
      REDIS_URL: redis.url,
      DATA_ROOT: join(dir, 'data'),
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: 'full',
      WORKER_CONCURRENCY: '2',
      // Locks that expire during the outage, so a job whose lock could not be renewed is
      // handed on (stalled) within the test rather than after the default 30 s.
      LOCK_DURATION_MS: '3000',
    };
    client = await TaskClient.connect(env);
    const ids: string[] = [];
    // Long tasks first, so that some are running when Redis fills up.
    for (let i = 0; i < 4; i++) ids.push(await client.submit(longTask(3)));
    for (let i = 0; i < 196; i++) {
      ids.push(
        await client.submit({
          strategy: 'volume_long_candle',
          symbols: ['SMALL_BTC'],
          timeframe: '5M',
          start_date: '2024-01-01',
          end_date: '2024-01-05',
        }),
      );
    }
    worker = await startApp('worker', env);
    await eventually(
      async () => (await client!.tasks.get(ids[0]))?.status === 'running',
      20_000,
      'the first long task running',
    );

    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(Math.max(1, used - 1024 * 1024)));
    try {
      await expect(admin.set('probe', 'x')).rejects.toThrow(/OOM/);
      await eventually(
        async () => {
          const response = await fetch(`${worker!.url}/health/ready`);
          const body = (await response.json()) as {
            failed: string[];
            checks: Record<string, { message?: string }>;
          };
          return (
            response.status === 503 &&
            body.failed.includes('redis') &&
            /Redis is full/.test(String(body.checks.redis.message))
          );
        },
        10_000,
        'readiness saying Redis is full',
      );
      await sleep(6000);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }

    const finals = await Promise.all(ids.map((id) => client!.waitForEnd(id, 180_000)));
    expect(finals.filter((task) => task.status !== 'completed')).toEqual([]);
    // One folder per task, each a completed run with its result.
    expect(runFolderNames(resultsDir)).toEqual([...ids].sort());
    for (const id of ids) {
      const manifest = JSON.parse(
        readFileSync(join(resultsDir, id, 'manifest.json'), 'utf8'),
      ) as Manifest;
      expect(manifest.status).toBe('completed');
    }
    const lines = worker.logLines();
    expect(lines.filter((line) => /Backtest failed/.test(String(line.msg)))).toEqual([]);
    expect((await fetch(`${worker.url}/health/ready`)).status).toBe(200);
  }, 300_000);
});
