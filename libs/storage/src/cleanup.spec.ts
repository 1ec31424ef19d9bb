import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupRuns, CleanupPolicy } from './cleanup';
import { TerminalStatus } from '@app/common';
import { ResultStore } from './result-store';
import { manifestFields } from './testing/fixtures';
import { newRunId } from './run-id';

const NOW = new Date('2024-06-30T00:00:00.000Z');
const daysAgo = (days: number): string => new Date(NOW.getTime() - days * 86_400_000).toISOString();

describe('cleanupRuns', () => {
  let dir: string;
  let store: ResultStore;
  const policy: CleanupPolicy = {
    now: NOW,
    resultTtlDays: 7,
    failedTtlDays: 1,
    unfinishedGraceMs: 3_600_000,
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coin-cleanup-'));
    store = new ResultStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(
    status: TerminalStatus,
    finishedDaysAgo: number,
    resultSize = 100,
  ): Promise<string> {
    const id = newRunId();
    const fields = manifestFields({
      metadata: { ...manifestFields().metadata, finished_at: daysAgo(finishedDaysAgo) },
    });
    if (status === 'completed') await store.saveCompleted(id, 'x'.repeat(resultSize), fields);
    else await store.saveUnfinished(id, status, fields);
    return id;
  }

  it('removes completed runs past TASK_RESULT_TTL_DAYS and failed/cancelled past FAILED_TASK_TTL_DAYS', async () => {
    const oldCompleted = await run('completed', 8, 2 * 1024 * 1024);
    const recentCompleted = await run('completed', 6);
    const oldFailed = await run('failed', 1.5);
    const oldCancelled = await run('cancelled', 2);
    const recentFailed = await run('failed', 0.5);

    const report = await cleanupRuns(store, policy);

    expect(report.removed.map((e) => e.id).sort()).toEqual(
      [oldCompleted, oldFailed, oldCancelled].sort(),
    );
    expect(report.count).toBe(3);
    expect(report.size_mb).toBeGreaterThanOrEqual(2);
    for (const id of [oldCompleted, oldFailed, oldCancelled])
      expect(existsSync(join(dir, id))).toBe(false);
    for (const id of [recentCompleted, recentFailed]) expect(existsSync(join(dir, id))).toBe(true);
  });

  it('deletes nothing on a dry run but reports the same', async () => {
    const id = await run('completed', 30);
    const report = await cleanupRuns(store, policy, true);
    expect(report).toMatchObject({ dry_run: true, count: 1 });
    expect(report.removed[0]?.id).toBe(id);
    expect(existsSync(join(dir, id, 'result.json'))).toBe(true);
  });

  it('never removes the folder of a queued or running task', async () => {
    const id = await run('completed', 30);
    const report = await cleanupRuns(store, {
      ...policy,
      isActive: (candidate) => Promise.resolve(candidate === id),
    });
    expect(report.count).toBe(0);
    expect(report.skipped_active).toEqual([id]);
    expect(existsSync(join(dir, id))).toBe(true);
  });

  it('removes a folder without manifest only once it is older than both the failed TTL and the grace', async () => {
    const stale = newRunId();
    const fresh = newRunId();
    for (const id of [stale, fresh]) {
      mkdirSync(join(dir, id));
      writeFileSync(join(dir, id, '.result.json.1.ab.tmp'), 'partial');
    }
    const staleTime = new Date(NOW.getTime() - 3 * 86_400_000);
    utimesSync(join(dir, stale), staleTime, staleTime);
    const freshTime = new Date(NOW.getTime() - 60_000);
    utimesSync(join(dir, fresh), freshTime, freshTime);

    const report = await cleanupRuns(store, policy);
    expect(report.removed.map((e) => [e.id, e.status])).toEqual([[stale, 'unfinished']]);
    expect(existsSync(join(dir, fresh))).toBe(true);
  });

  it('leaves anything that is not a run folder alone, and never follows links', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'coin-outside-'));
    try {
      writeFileSync(join(outside, 'precious.txt'), 'keep me');
      const linkId = newRunId();
      symlinkSync(outside, join(dir, linkId));
      mkdirSync(join(dir, 'not-a-run'));
      writeFileSync(join(dir, 'notes.txt'), 'x');
      const old = new Date(NOW.getTime() - 100 * 86_400_000);
      utimesSync(join(dir, 'not-a-run'), old, old);

      const report = await cleanupRuns(store, {
        ...policy,
        resultTtlDays: 0,
        failedTtlDays: 0,
        unfinishedGraceMs: 0,
      });
      expect(report.count).toBe(0);
      expect(existsSync(join(outside, 'precious.txt'))).toBe(true);
      expect(existsSync(join(dir, 'not-a-run'))).toBe(true);
      expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
