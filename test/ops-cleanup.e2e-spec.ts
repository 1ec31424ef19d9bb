import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { newRunId } from '@app/storage';
import { TaskStateStore } from '@app/task-state';
import { startApp } from './support/app-process';
import { sumOf } from '../libs/platform/src/metrics/testing/prometheus-text';
import {
  backdatedRun,
  OpsSystem,
  runCli,
  scrape,
  SMALL_REQUEST,
  startOpsSystem,
  until,
} from './ops-support/system';

/**
 * SPEC §8 as an operator sees it: the worker's scheduled cleanup (a cron of every second here)
 * and `cli cleanup`, on back-dated run folders, with the rules for queued/running tasks and
 * a dry run that deletes nothing.
 */

jest.setTimeout(90_000);

/** What the worker logs after each cleanup it ran (apps/worker/src/cleanup). */
interface CleanupLogLine {
  occurrence: string;
  removed_count: number;
  removed_mb: number;
  removed_ids: string[];
  kept_active_ids: string[];
}

describe('scheduled cleanup in the workers', () => {
  let system: OpsSystem;
  let redis: Redis;
  const ids = {
    oldCompleted: newRunId(),
    oldFailed: newRunId(),
    freshCompleted: newRunId(),
    oldButQueued: newRunId(),
  };

  beforeAll(async () => {
    system = await startOpsSystem({ api: false, workers: 0 });
    redis = new Redis(system.env.REDIS_URL);
    const tasks = new TaskStateStore(redis, { queueName: 'backtests', ttlS: 3600 });
    await backdatedRun(system.resultsDir, ids.oldCompleted, 'completed', 8);
    await backdatedRun(system.resultsDir, ids.oldFailed, 'failed', 2);
    await backdatedRun(system.resultsDir, ids.freshCompleted, 'completed', 6);
    // Its folder is old, but the task is queued again (e.g. resubmitted under its id).
    await backdatedRun(system.resultsDir, ids.oldButQueued, 'completed', 30);
    await tasks.create(ids.oldButQueued, SMALL_REQUEST);
  });
  afterAll(async () => {
    redis?.disconnect();
    await system?.stop();
  });

  it('removes folders past their TTL on the next occurrence, on exactly one of two workers', async () => {
    for (let i = 0; i < 2; i++) {
      system.workers.push(
        await startApp('worker', {
          ...system.env,
          CLEANUP_CRON: '* * * * * *',
          // The reconciler would settle the queued task that has no job; not what this tests.
          LOCK_DURATION_MS: '600000',
        }),
      );
    }
    const dir = (id: string) => join(system.resultsDir, id);
    await until(
      () => Promise.resolve([ids.oldCompleted, ids.oldFailed].map((id) => existsSync(dir(id)))),
      (present) => present.every((exists) => !exists),
      15_000,
      'the back-dated folders to be removed',
    );
    expect(existsSync(dir(ids.freshCompleted))).toBe(true);
    expect(existsSync(dir(ids.oldButQueued))).toBe(true);

    // Let a few more occurrences pass, then read what each worker logged.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const runs = system.workers.flatMap((worker) =>
      worker
        .logLines()
        .filter((line) => String(line.msg).startsWith('Results cleanup removed'))
        .map((line) => line as unknown as CleanupLogLine),
    );
    const occurrences = runs.map((line) => line.occurrence);
    expect(new Set(occurrences).size).toBe(occurrences.length);
    expect(occurrences.length).toBeGreaterThanOrEqual(2);
    const removedIds = runs.flatMap((line) => line.removed_ids);
    expect(removedIds.sort()).toEqual([ids.oldCompleted, ids.oldFailed].sort());
    const removing = runs.find((line) => line.removed_count > 0)!;
    expect(removing).toMatchObject({ removed_count: 2, kept_active_ids: [ids.oldButQueued] });
    expect(typeof removing.removed_mb).toBe('number');

    const removedTotal = (
      await Promise.all(system.workers.map((worker) => scrape(worker.url)))
    ).reduce((sum, samples) => sum + sumOf(samples, 'backtest_cleanup_removed_runs_total'), 0);
    expect(removedTotal).toBe(2);
    expect(await redis.hget('backtests:cleanup:last-run', 'outcome')).toBe('completed');
  });
});

describe('cli cleanup', () => {
  let system: OpsSystem;
  let dataRoot: string;
  let resultsDir: string;
  const ids = {
    oldCompleted: newRunId(),
    oldCancelled: newRunId(),
    freshCompleted: newRunId(),
    oldButRunning: newRunId(),
  };

  beforeAll(async () => {
    system = await startOpsSystem({ api: false, workers: 0 });
    // `--data-root DIR`: the results are DIR/tasks.
    dataRoot = join(system.scratch, 'market');
    resultsDir = join(dataRoot, 'tasks');
    mkdirSync(resultsDir, { recursive: true });
    await backdatedRun(resultsDir, ids.oldCompleted, 'completed', 10);
    await backdatedRun(resultsDir, ids.oldCancelled, 'cancelled', 3);
    await backdatedRun(resultsDir, ids.freshCompleted, 'completed', 2);
    await backdatedRun(resultsDir, ids.oldButRunning, 'completed', 40);
    const redis = new Redis(system.env.REDIS_URL);
    const tasks = new TaskStateStore(redis, { queueName: 'backtests', ttlS: 3600 });
    await tasks.create(ids.oldButRunning, SMALL_REQUEST);
    await tasks.markRunning(ids.oldButRunning, SMALL_REQUEST, new Date().toISOString());
    redis.disconnect();
  });
  afterAll(async () => {
    await system?.stop();
  });

  const present = () =>
    Object.fromEntries(
      Object.entries(ids).map(([name, id]) => [name, existsSync(join(resultsDir, id))]),
    );
  const cli = (...args: string[]) =>
    runCli(['cleanup', '--ttl-days', '7', '--data-root', dataRoot, ...args], {
      REDIS_URL: system.env.REDIS_URL,
    });

  it('lists what it would delete with --dry-run, count and MB, and deletes nothing', async () => {
    const result = await cli('--dry-run');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`would delete ${ids.oldCompleted}`);
    expect(result.stdout).toContain(`would delete ${ids.oldCancelled}`);
    expect(result.stdout).toContain(`kept ${ids.oldButRunning}: task still queued or running`);
    expect(result.stdout).toMatch(
      new RegExp(`Dry run: would delete 2 run folder\\(s\\), \\d+\\.\\d\\d MB, from ${resultsDir}`),
    );
    expect(present()).toEqual({
      oldCompleted: true,
      oldCancelled: true,
      freshCompleted: true,
      oldButRunning: true,
    });

    const json = await cli('--dry-run', '--json');
    const report = JSON.parse(json.stdout) as {
      count: number;
      size_bytes: number;
      dry_run: boolean;
    };
    expect(report).toMatchObject({ dry_run: true, count: 2 });
    expect(report.size_bytes).toBeGreaterThan(0);
  });

  it('says which Redis it reads, and deletes nothing when that Redis does not answer', async () => {
    const reachable = await cli('--dry-run');
    expect(reachable.stderr).toContain(`Task states from Redis at ${system.env.REDIS_URL}`);
    const unreachable = await runCli(['cleanup', '--ttl-days', '7', '--data-root', dataRoot], {
      REDIS_URL: 'redis://127.0.0.1:1/0',
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(
      'Redis at redis://127.0.0.1:1/0 (queue backtests) is not reachable',
    );
    expect(unreachable.stderr).toContain('--without-redis');
    expect(unreachable.stderr).not.toMatch(/\n\s+at /);
    expect(present()).toEqual({
      oldCompleted: true,
      oldCancelled: true,
      freshCompleted: true,
      oldButRunning: true,
    });
    const forced = await runCli(
      ['cleanup', '--ttl-days', '7', '--data-root', dataRoot, '--dry-run', '--without-redis'],
      { REDIS_URL: 'redis://127.0.0.1:1/0' },
    );
    expect(forced).toMatchObject({ code: 0 });
    expect(forced.stderr).toContain('Task states not checked (--without-redis)');
  });

  it('deletes the expired folders, prints count and MB, and keeps the rest', async () => {
    const result = await cli();
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`deleted ${ids.oldCompleted}`);
    expect(result.stdout).toMatch(/^Deleted 2 run folder\(s\), \d+\.\d\d MB, from /m);
    expect(present()).toEqual({
      oldCompleted: false,
      oldCancelled: false,
      freshCompleted: true,
      oldButRunning: true,
    });
    // Nothing left to do: a second run deletes nothing.
    expect((await cli()).stdout).toMatch(/^Deleted 0 run folder\(s\), 0\.00 MB/m);
  });

  it('names a bad --ttl-days and deletes nothing', async () => {
    const result = await cli('--ttl-days', 'soon');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--ttl-days');
    expect(result.stderr).toContain('soon');
    expect(present().freshCompleted).toBe(true);
  });
});
