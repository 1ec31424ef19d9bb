import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getQueueToken } from '@nestjs/bullmq';
import { INestApplicationContext, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { loadConfig } from '@app/config';
import {
  BACKTEST_QUEUE,
  MetricsModule,
  MetricsService,
  platformModules,
  RedisConnections,
} from '@app/platform';
import { CATALOG_FILE_NAME, indexRunFolder, openCatalogue } from '@app/catalogue';
import { newRunId, ResultStore } from '@app/storage';
import { manifestFields } from '../../../../libs/storage/src/testing/fixtures';
import { RunRequest } from '@app/common';
import { redisKeys, TASK_JOB_NAME, TaskStateStore } from '@app/task-state';
import { PrivateRedis, startPrivateRedis } from '../../../../test/support/redis-server';
import { CleanupModule } from './cleanup.module';
import { CleanupScheduler } from './cleanup.scheduler';
import { ResultsCleanup } from './results-cleanup.service';

const DAY_MS = 24 * 3600 * 1000;
const REQUEST: RunRequest = {
  strategy: 'volume_long_candle',
  params: {},
  execution: { fee: 0, slippage: 0, positions: 'overlap' },
  symbols: ['ETH_BTC'],
  start_date: '2018-01-01',
  end_date: '2018-01-31',
  timeframe: '5M',
};

/** A worker's cleanup, wired as the worker wires it (without the backtest processor). */
async function startCleanupWorker(env: Record<string, string>): Promise<INestApplicationContext> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  @Module({
    imports: [...platformModules(config, 'worker'), MetricsModule, CleanupModule],
  })
  class CleanupTestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [CleanupTestModule] }).compile();
  return moduleRef.init();
}

async function exists(path: string): Promise<boolean> {
  return readdir(path).then(
    () => true,
    () => false,
  );
}

describe('worker cleanup', () => {
  let redis: PrivateRedis;
  let root: string;
  let resultsDir: string;
  let store: ResultStore;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'coin-cleanup-'));
    resultsDir = join(root, 'tasks');
    store = new ResultStore(resultsDir);
    env = {
      REDIS_URL: redis.url,
      DATA_ROOT: root,
      QUEUE_NAME: `cleanup-${Math.random().toString(36).slice(2, 8)}`,
      TASK_RESULT_TTL_DAYS: '7',
      FAILED_TASK_TTL_DAYS: '1',
      JOB_TIMEOUT_S: '3600',
      // Far away: tests call the cleanup themselves unless they set a cron of their own.
      CLEANUP_CRON: '0 0 1 1 *',
    };
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A finished run folder whose manifest says it finished `ageDays` ago. */
  async function finishedRun(
    status: 'completed' | 'failed' | 'cancelled',
    ageDays: number,
  ): Promise<string> {
    const id = newRunId();
    const finishedAt = new Date(Date.now() - ageDays * DAY_MS).toISOString();
    const fields = manifestFields({
      metadata: { ...manifestFields().metadata, finished_at: finishedAt },
    });
    if (status === 'completed') await store.saveCompleted(id, '{"version":"1.1.0"}', fields);
    else await store.saveUnfinished(id, status, fields);
    // Then its row, as a writer in another process does: cleanup chooses from the catalogue.
    const catalogue = await openCatalogue({
      catalogPath: join(resultsDir, CATALOG_FILE_NAME),
      sqliteMode: 'inline',
    });
    try {
      await indexRunFolder(catalogue, resultsDir, id);
    } finally {
      await catalogue.close();
    }
    return id;
  }

  it('removes runs past their TTL, keeps fresh ones, active tasks and anything not a run', async () => {
    const app = await startCleanupWorker(env);
    try {
      const tasks = app.get(TaskStateStore);
      const oldCompleted = await finishedRun('completed', 8);
      const freshCompleted = await finishedRun('completed', 6);
      const oldFailed = await finishedRun('failed', 2);
      const freshCancelled = await finishedRun('cancelled', 0.5);
      // Back-dated, but its task runs again (picked up after a worker died): never deleted.
      const running = await finishedRun('completed', 30);
      await tasks.create(running, REQUEST);
      await tasks.markRunning(running, REQUEST, new Date().toISOString());
      // A folder without a manifest, older than the job timeout: a run that died half-way.
      const abandoned = newRunId();
      await mkdir(join(resultsDir, abandoned));
      const longAgo = new Date(Date.now() - 3 * DAY_MS);
      await utimes(join(resultsDir, abandoned), longAgo, longAgo);
      // Old things that are not run folders, and a link to a folder outside RESULTS_DIR.
      const outside = join(root, 'outside');
      await mkdir(outside);
      await writeFile(join(outside, 'keep.txt'), 'precious');
      await symlink(outside, join(resultsDir, newRunId()));
      await writeFile(join(resultsDir, 'notes.txt'), 'operator notes');
      await utimes(join(resultsDir, 'notes.txt'), longAgo, longAgo);

      const { runs } = await app.get(ResultsCleanup).run();

      expect(runs.removed.map((entry) => entry.id).sort()).toEqual(
        [oldCompleted, oldFailed, abandoned].sort(),
      );
      expect(runs.skipped_active).toEqual([running]);
      expect(runs.size_bytes).toBeGreaterThan(0);
      const left = await readdir(resultsDir);
      for (const id of [freshCompleted, freshCancelled, running]) expect(left).toContain(id);
      for (const id of [oldCompleted, oldFailed, abandoned]) expect(left).not.toContain(id);
      expect(left).toContain('notes.txt');
      expect(await readdir(outside)).toEqual(['keep.txt']);
    } finally {
      await app.close();
    }
  });

  it('trims waiting jobs of finished tasks and finished jobs past their retention', async () => {
    const app = await startCleanupWorker(env);
    try {
      const tasks = app.get(TaskStateStore);
      const queue = app.get<Queue>(getQueueToken(BACKTEST_QUEUE));
      const client = app.get(RedisConnections).client;
      const data = (id: string) => ({ ...REQUEST, task_id: id, created_at: '' });

      const cancelled = newRunId();
      await tasks.create(cancelled, REQUEST);
      await tasks.cancel(cancelled);
      const queued = newRunId();
      await tasks.create(queued, REQUEST);
      const hashExpired = newRunId();
      for (const id of [cancelled, queued, hashExpired]) {
        await queue.add(TASK_JOB_NAME, data(id), { jobId: id });
      }
      // Two completed jobs: one finished two hours ago (past the 1 h retention), one just now.
      // BullMQ itself would trim the old one only when another job completes.
      const finishedIds = [newRunId(), newRunId()];
      for (const id of finishedIds) await queue.add(TASK_JOB_NAME, data(id), { jobId: id });
      const [oldDone, newDone] = finishedIds;
      const completedKey = `bull:${env.QUEUE_NAME}:completed`;
      for (const [id, finishedOn] of [
        [oldDone, Date.now() - 2 * 3600 * 1000],
        [newDone, Date.now()],
      ] as const) {
        await client.lrem(`bull:${env.QUEUE_NAME}:wait`, 0, id);
        await client.zadd(completedKey, finishedOn, id);
        await client.hset(`bull:${env.QUEUE_NAME}:${id}`, 'finishedOn', String(finishedOn));
      }

      const jobs = await app.get(ResultsCleanup).trimQueue();

      expect(jobs.orphaned).toEqual([cancelled]);
      expect(jobs.completed).toBe(1);
      expect(await queue.getJobState(cancelled)).toBe('unknown');
      expect(await queue.getJobState(queued)).toBe('waiting');
      expect(await queue.getJobState(hashExpired)).toBe('waiting');
      expect(await queue.getJobState(oldDone)).toBe('unknown');
      expect(await queue.getJobState(newDone)).toBe('completed');
    } finally {
      await app.close();
    }
  });

  it('runs each occurrence on exactly one of several workers', async () => {
    const workers = [await startCleanupWorker(env), await startCleanupWorker(env)];
    try {
      const old = await finishedRun('completed', 10);
      // Cron fires a few milliseconds after the second the occurrence is due.
      const firedAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 5);
      const outcomes = await Promise.all(
        workers.map((worker) => worker.get(CleanupScheduler).runOccurrence(firedAt)),
      );
      expect(outcomes.filter((outcome) => outcome.ran)).toHaveLength(1);
      expect(await exists(join(resultsDir, old))).toBe(false);

      // A worker whose timer fires a little later, once the lock is free: same occurrence.
      const late = await workers[1]
        .get(CleanupScheduler)
        .runOccurrence(new Date(firedAt.getTime() + 200));
      expect(late).toEqual({ ran: false, reason: 'done-elsewhere' });

      const next = await workers[1]
        .get(CleanupScheduler)
        .runOccurrence(new Date(firedAt.getTime() + 60_000));
      expect(next.ran).toBe(true);

      const lastRun = await workers[0]
        .get(RedisConnections)
        .client.hgetall(redisKeys.cleanupLastRun(env.QUEUE_NAME));
      expect(lastRun).toMatchObject({ outcome: 'completed', removed_runs: '0' });
      expect(
        await workers[0].get(RedisConnections).client.exists(redisKeys.cleanupLock(env.QUEUE_NAME)),
      ).toBe(0);
    } finally {
      for (const worker of workers) await worker.close();
    }
  });

  it('runs on the CLEANUP_CRON schedule from the configuration', async () => {
    const app = await startCleanupWorker({ ...env, CLEANUP_CRON: '* * * * * *' });
    try {
      const old = await finishedRun('failed', 3);
      const fresh = await finishedRun('completed', 1);
      const removedRuns = (): Promise<string> =>
        app
          .get(MetricsService)
          .registry.getSingleMetricAsString('backtest_cleanup_removed_runs_total');
      // The counter moves when the pass has finished, after the folder went: wait for it.
      const deadline = Date.now() + 10_000;
      while (!/_total 1$/m.test(await removedRuns()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await removedRuns()).toMatch(/backtest_cleanup_removed_runs_total 1$/m);
      expect(await exists(join(resultsDir, old))).toBe(false);
      expect(await exists(join(resultsDir, fresh))).toBe(true);
    } finally {
      await app.close();
    }
  });
});
