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
import { TerminalStatus } from '@app/common';
import { newRunId, ResultStore } from '@app/storage';
import { manifestFields } from '../../storage/src/testing/fixtures';
import { Catalogue } from './catalogue';
import { cleanupRuns, CleanupPolicy } from './cleanup';
import { openCatalogue } from './open-catalogue';
import { indexRunFolder } from './rebuild';
import { BackendName, useBackend } from './testing/backends';

const NOW = new Date('2024-06-30T00:00:00.000Z');
const daysAgo = (days: number): string => new Date(NOW.getTime() - days * 86_400_000).toISOString();

describe.each<BackendName>(['sqlite-inline', 'postgres'])('cleanupRuns (%s)', (backend) => {
  const backendUnderTest = useBackend(backend);
  let dir: string;
  let store: ResultStore;
  let catalogue: Catalogue;
  const cleanup = (over: Partial<CleanupPolicy> = {}, dryRun = false) =>
    cleanupRuns(catalogue, store, { ...policy, ...over }, dryRun);
  const policy: CleanupPolicy = {
    now: NOW,
    resultTtlDays: 7,
    failedTtlDays: 1,
    unfinishedGraceMs: 3_600_000,
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coin-cleanup-'));
    store = new ResultStore(dir);
    catalogue = await openCatalogue(await backendUnderTest.freshOptions());
  });
  afterEach(async () => {
    await catalogue.close();
    rmSync(dir, { recursive: true, force: true });
  });

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
    // The writer's order: the folder, then its row.
    await indexRunFolder(catalogue, dir, id);
    return id;
  }

  it('removes completed runs past TASK_RESULT_TTL_DAYS and failed/cancelled past FAILED_TASK_TTL_DAYS', async () => {
    const oldCompleted = await run('completed', 8, 2 * 1024 * 1024);
    const recentCompleted = await run('completed', 6);
    const oldFailed = await run('failed', 1.5);
    const oldCancelled = await run('cancelled', 2);
    const recentFailed = await run('failed', 0.5);

    const report = await cleanup();

    expect(report.removed.map((e) => e.id).sort()).toEqual(
      [oldCompleted, oldFailed, oldCancelled].sort(),
    );
    // The rows went with the folders: history no longer lists them.
    const left = await catalogue.history({ status: 'all', limit: 100, offset: 0 });
    expect(left.items.map((row) => row.id).sort()).toEqual([recentCompleted, recentFailed].sort());
    expect(report.count).toBe(3);
    expect(report.size_mb).toBeGreaterThanOrEqual(2);
    for (const id of [oldCompleted, oldFailed, oldCancelled])
      expect(existsSync(join(dir, id))).toBe(false);
    for (const id of [recentCompleted, recentFailed]) expect(existsSync(join(dir, id))).toBe(true);
  });

  it('deletes nothing on a dry run but reports the same', async () => {
    const id = await run('completed', 30);
    const report = await cleanup({}, true);
    expect(report).toMatchObject({ dry_run: true, count: 1 });
    expect(report.removed[0]?.id).toBe(id);
    expect(existsSync(join(dir, id, 'result.json'))).toBe(true);
    expect(await catalogue.getRun(id)).toBeDefined();
  });

  it('pages through more candidates than one page holds, and drops a row whose folder is gone', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 520; i++) ids.push(await run('failed', 3 + i / 1000, 1));
    const gone = ids[0];
    rmSync(join(dir, gone), { recursive: true });
    const report = await cleanup();
    expect(report.count).toBe(520);
    expect(await catalogue.getRun(gone)).toBeUndefined();
    expect((await catalogue.counts()).runs.failed).toBe(0);
  });

  it('never removes the folder of a queued or running task', async () => {
    const id = await run('completed', 30);
    const report = await cleanup({ isActive: (candidate) => Promise.resolve(candidate === id) });
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

    const report = await cleanup();
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

      mkdirSync(join(dir, 'sweeps'));
      mkdirSync(join(dir, 'presets'));
      const report = await cleanup({ resultTtlDays: 0, failedTtlDays: 0, unfinishedGraceMs: 0 });
      expect(report.count).toBe(0);
      expect(existsSync(join(outside, 'precious.txt'))).toBe(true);
      expect(existsSync(join(dir, 'not-a-run'))).toBe(true);
      expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
      for (const reserved of ['sweeps', 'presets', 'catalog.sqlite'])
        if (reserved !== 'catalog.sqlite' || backend !== 'postgres')
          expect(existsSync(join(dir, reserved))).toBe(reserved !== 'catalog.sqlite');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
