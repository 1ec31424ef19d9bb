import { constants } from 'node:fs';
import { FileHandle, lstat, mkdir, open, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ResultStore, writeFileAtomic } from '@app/storage';
import { generateRunManifests, writeRunFolders } from './bench/run-folders';
import { Catalogue } from './catalogue';
import { openCatalogue } from './open-catalogue';
import { indexRunFolder, MAX_OPEN_FILES, rebuildCatalogue, RebuildCounts } from './rebuild';
import {
  CataloguedManifest,
  fileFingerprint,
  presetFileName,
  RunRow,
  runRowFromManifest,
  SweepRow,
} from './rows';
import { BACKENDS, useBackend } from './testing/backends';
import { referenceHistory } from './testing/reference';

// Real databases and files, on a machine others share: seconds, not the default 5.
jest.setTimeout(60_000);
const NOW = new Date('2026-12-10T12:00:00.000Z');
const RUN_COUNT = 300;

const counts = (overrides: Partial<RebuildCounts> = {}): RebuildCounts => ({
  indexed: 0,
  removed: 0,
  unchanged: 0,
  unreadable: 0,
  unfinished: 0,
  ...overrides,
});

const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function presetFile(name: string): object {
  return {
    name,
    strategy: 'volume_long_candle',
    params: { vol_ma_window: 30 },
    description: null,
    created_at: '2026-12-01T00:00:00.000Z',
    updated_at: '2026-12-02T00:00:00.000Z',
  };
}

function sweepManifest(sweepId: string): object {
  return {
    sweep_id: sweepId,
    status: 'completed',
    strategy: 'volume_long_candle',
    symbols: ['BTC_KRW'],
    timeframe: '1H',
    start_date: '2024-01-01',
    end_date: '2024-03-31',
    combinations: 8,
    done: 8,
    objective: 'total_return_pct',
    created_at: '2026-12-01T00:00:00.000Z',
    finished_at: '2026-12-01T00:05:00.000Z',
    best: { index: 3, total_return_pct: 12.5 },
    error: null,
  };
}

/**
 * RESULTS_DIR as it is in the field: the run folders, presets and sweeps, and everything a
 * scan must pass over or count as unreadable.
 */
async function writeResultsDir(resultsDir: string): Promise<CataloguedManifest[]> {
  const manifests = [...generateRunManifests(RUN_COUNT, { seed: 21, now: NOW })];
  await writeRunFolders(resultsDir, manifests);
  const [valid] = manifests;
  const validManifest = join(resultsDir, valid.task_id, 'manifest.json');
  const json = (value: unknown) => JSON.stringify(value);

  // Not run folders: skipped without a word.
  await mkdir(join(resultsDir, 'not-a-run'));
  await writeFile(join(resultsDir, 'catalog.sqlite-wal'), 'not ours to read');
  await writeFile(join(resultsDir, `.${uuid(1)}.123.ab.tmp`), 'a temp file');
  const upperCase = 'ABCDEF00-0000-4000-8000-000000000002'; // the store never names a folder so
  await mkdir(join(resultsDir, upperCase));
  await writeFile(join(resultsDir, upperCase, 'manifest.json'), json(valid));
  await symlink(join(resultsDir, valid.task_id), join(resultsDir, uuid(3))); // never followed
  // Run folders that cannot be read: unreadable.
  await mkdir(join(resultsDir, uuid(4)));
  await symlink(validManifest, join(resultsDir, uuid(4), 'manifest.json'));
  await mkdir(join(resultsDir, uuid(5)));
  await writeFile(join(resultsDir, uuid(5), 'manifest.json'), '{"task_id": "trunc');
  await mkdir(join(resultsDir, uuid(6)));
  await writeFile(join(resultsDir, uuid(6), 'manifest.json'), json(valid)); // another run's
  // A run still going: no manifest yet.
  await mkdir(join(resultsDir, uuid(7)));
  await writeFile(join(resultsDir, uuid(7), `.manifest.json.9.cd.tmp`), '{}');

  const presets = join(resultsDir, 'presets');
  await mkdir(presets);
  for (const name of ['Fast', 'Slow', '느린']) {
    await writeFile(join(presets, presetFileName(name)), json(presetFile(name)));
  }
  await writeFile(join(presets, presetFileName('Mislabelled')), json(presetFile('Other')));
  await writeFile(join(presets, `.${presetFileName('Fast')}.1.ab.tmp`), 'half');

  const sweeps = join(resultsDir, 'sweeps');
  for (const sweepId of [uuid(100), uuid(101)]) {
    await mkdir(join(sweeps, sweepId), { recursive: true });
    await writeFile(join(sweeps, sweepId, 'manifest.json'), json(sweepManifest(sweepId)));
  }
  await mkdir(join(sweeps, uuid(102))); // running
  return manifests;
}

/** Every run row, through the public history (all statuses), newest first. */
async function allRuns(catalogue: Catalogue): Promise<RunRow[]> {
  const rows: RunRow[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await catalogue.history({ status: 'all', limit: 100, offset });
    rows.push(...page.items);
    if (page.items.length < 100) return rows;
  }
}

describe.each(BACKENDS)('rebuildCatalogue on %s', (backendName) => {
  const backend = useBackend(backendName);
  let catalogue: Catalogue;
  let resultsDir: string;
  let folders = 0;

  beforeEach(async () => {
    catalogue = await openCatalogue(await backend.freshOptions());
    resultsDir = join(backend.scratchDir(), `results-${++folders}`);
    await mkdir(resultsDir);
  });
  afterEach(async () => {
    await catalogue.close();
  });

  it('indexes every entry, skips what is not one, and counts what cannot be read', async () => {
    const manifests = await writeResultsDir(resultsDir);
    const report = await rebuildCatalogue(catalogue, resultsDir);
    expect(report).toMatchObject({
      mode: 'full',
      complete: true,
      results_dir_found: true,
      runs: counts({ indexed: RUN_COUNT, unreadable: 3, unfinished: 1 }),
      presets: counts({ indexed: 3, unreadable: 1 }),
      sweeps: counts({ indexed: 2, unfinished: 1 }),
    });
    expect(report.unreadable_files.map((file) => file.reason)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('symbolic link'),
        expect.stringContaining('not valid JSON'),
        expect.stringContaining('≠ folder'),
        expect.stringContaining('not the sha256'),
      ]),
    );
    for (const query of [
      { status: 'all' as const, limit: 100, offset: 0 },
      { symbol: 'BTC_KRW', min_signals: 5, limit: 20, offset: 3 },
    ]) {
      const page = await catalogue.history(query);
      expect({ ids: page.items.map((r) => r.id), total: page.total }).toEqual(
        referenceHistory(manifests, query),
      );
    }
    const row = await catalogue.getRun(manifests[9].task_id);
    const stats = await lstat(join(resultsDir, manifests[9].task_id, 'manifest.json'));
    expect(row).toEqual(runRowFromManifest(manifests[9], fileFingerprint(stats)));
    expect((await catalogue.listPresets()).map((p) => p.name).sort()).toEqual([
      'Fast',
      'Slow',
      '느린',
    ]);
    expect((await catalogue.listSweeps({ limit: 10, offset: 0 })).total).toBe(2);

    const again = await rebuildCatalogue(catalogue, resultsDir);
    expect(again.runs).toEqual(counts({ unchanged: RUN_COUNT, unreadable: 3, unfinished: 1 }));
    expect(again.presets).toEqual(counts({ unchanged: 3, unreadable: 1 }));
    expect(again.sweeps).toEqual(counts({ unchanged: 2, unfinished: 1 }));
  });

  it('heals a crash between folder and row, and a row whose folder is gone (quick)', async () => {
    const manifests = [...generateRunManifests(20, { seed: 4, now: NOW })];
    await writeRunFolders(resultsDir, manifests);
    expect((await rebuildCatalogue(catalogue, resultsDir, { mode: 'quick' })).runs.indexed).toBe(
      20,
    );
    // The writer wrote a folder and died before its row; cleanup deleted a folder and died
    // before removing the row.
    const store = new ResultStore(resultsDir);
    const [crashed] = generateRunManifests(1, { seed: 5, now: NOW });
    const { task_id: crashedId, status: _status, result_files: _files, ...fields } = crashed;
    await store.saveCompleted(crashedId, '{"version": "1.2.0"}', fields);
    await store.removeRun(manifests[3].task_id);

    const report = await rebuildCatalogue(catalogue, resultsDir, { mode: 'quick' });
    expect(report.runs).toEqual(counts({ indexed: 1, removed: 1, unchanged: 19 }));
    expect((await catalogue.getRun(crashedId))?.status).toBe('completed');
    expect(await catalogue.getRun(manifests[3].task_id)).toBeUndefined();
  });

  it('re-reads a manifest rewritten without its row in full mode only', async () => {
    const manifests = [...generateRunManifests(10, { seed: 8, now: NOW })];
    await writeRunFolders(resultsDir, manifests);
    await rebuildCatalogue(catalogue, resultsDir);
    const rewritten = { ...manifests[2], status: 'cancelled' as const };
    await writeFileAtomic(
      join(resultsDir, rewritten.task_id, 'manifest.json'),
      JSON.stringify(rewritten),
    );
    const quick = await rebuildCatalogue(catalogue, resultsDir, { mode: 'quick' });
    expect(quick.runs).toEqual(counts({ unchanged: 10 }));
    expect((await catalogue.getRun(rewritten.task_id))?.status).toBe(manifests[2].status);

    const full = await rebuildCatalogue(catalogue, resultsDir, { mode: 'full' });
    expect(full.runs).toEqual(counts({ indexed: 1, unchanged: 9 }));
    expect((await catalogue.getRun(rewritten.task_id))?.status).toBe('cancelled');
  });

  it('builds the same catalogue again after the catalogue is deleted', async () => {
    await writeResultsDir(resultsDir);
    const options = await backend.freshOptions();
    const first = await openCatalogue(options);
    await rebuildCatalogue(first, resultsDir);
    const before = await allRuns(first);
    const presetsBefore = await first.listPresets();
    await first.close();
    // SQLite: the file and its -wal/-shm go; PostgreSQL: a new, empty database (schema).
    const again =
      options.databaseUrl === undefined
        ? (await rm(join(options.catalogPath, '..'), { recursive: true }), options)
        : await backend.freshOptions();
    const rebuilt = await openCatalogue(again);
    expect((await rebuilt.history({ status: 'all', limit: 1, offset: 0 })).total).toBe(0);
    const report = await rebuildCatalogue(rebuilt, resultsDir, { mode: 'quick' });
    expect(report.runs.indexed).toBe(RUN_COUNT);
    expect(await allRuns(rebuilt)).toEqual(before);
    expect(await rebuilt.listPresets()).toEqual(presetsBefore);
    await rebuilt.close();
  });

  it(`keeps at most ${MAX_OPEN_FILES} files open at once, and does use them`, async () => {
    await writeRunFolders(resultsDir, generateRunManifests(400, { seed: 9, now: NOW }));
    const watch = (limit?: number) => {
      let open = 0;
      const seen = { opened: 0, mostAtOnce: 0 };
      const openFile = async (path: string): Promise<FileHandle> => {
        const handle = await openCounted(path);
        open++;
        seen.opened++;
        seen.mostAtOnce = Math.max(seen.mostAtOnce, open);
        const close = handle.close.bind(handle);
        handle.close = async () => {
          open--;
          await close();
        };
        return handle;
      };
      return { seen, options: { openFile, maxOpenFiles: limit } };
    };
    const unbounded = watch();
    await rebuildCatalogue(catalogue, resultsDir, unbounded.options);
    expect(unbounded.seen.opened).toBe(400);
    // One descriptor is the directory being listed.
    expect(unbounded.seen.mostAtOnce).toBeLessThanOrEqual(MAX_OPEN_FILES - 1);
    expect(unbounded.seen.mostAtOnce).toBeGreaterThan(8);

    await rm(join(resultsDir), { recursive: true });
    await mkdir(resultsDir);
    await writeRunFolders(resultsDir, generateRunManifests(100, { seed: 10, now: NOW }));
    const narrow = watch(4);
    await rebuildCatalogue(catalogue, resultsDir, narrow.options);
    expect(narrow.seen.opened).toBe(100);
    expect(narrow.seen.mostAtOnce).toBe(3);
  });

  it('removes nothing when RESULTS_DIR is missing (a volume not mounted yet)', async () => {
    await writeRunFolders(resultsDir, generateRunManifests(5, { seed: 12, now: NOW }));
    await rebuildCatalogue(catalogue, resultsDir);
    const report = await rebuildCatalogue(catalogue, join(resultsDir, 'elsewhere'));
    expect(report.results_dir_found).toBe(false);
    expect(report.runs).toEqual(counts());
    expect((await catalogue.history({ status: 'all', limit: 10, offset: 0 })).total).toBe(5);
  });

  it('stops between batches when its signal aborts, saying it did not finish', async () => {
    await writeRunFolders(resultsDir, generateRunManifests(200, { seed: 13, now: NOW }));
    const controller = new AbortController();
    let opened = 0;
    const report = await rebuildCatalogue(catalogue, resultsDir, {
      batchSize: 50,
      signal: controller.signal,
      openFile: (path) => {
        if (++opened === 60) controller.abort();
        return openCounted(path);
      },
    });
    expect(report.complete).toBe(false);
    expect(report.runs.indexed).toBe(100);
  });

  it('keeps the rows of failed and cancelled sweeps (no folder by design), not a gone completed one', async () => {
    // Every start-up rebuilds: a removal pass that took a missing folder for a gone sweep
    // would forget every failed and cancelled sweep on each restart.
    const row = (n: number, status: SweepRow['status']): SweepRow => ({
      ...(sweepManifest(uuid(n)) as Omit<SweepRow, 'manifest_fingerprint'>),
      status,
      best: null,
      error: status === 'failed' ? 'boom' : null,
      manifest_fingerprint: null,
    });
    await catalogue.upsertSweep(row(200, 'failed'));
    await catalogue.upsertSweep(row(201, 'cancelled'));
    await catalogue.upsertSweep(row(202, 'completed')); // its folder was deleted by hand
    await mkdir(join(resultsDir, 'sweeps'));
    for (const mode of ['quick', 'full'] as const) {
      const report = await rebuildCatalogue(catalogue, resultsDir, { mode });
      expect(report.sweeps.removed).toBe(mode === 'quick' ? 1 : 0); // the second pass finds none
      expect((await catalogue.getSweep(uuid(200)))?.status).toBe('failed');
      expect((await catalogue.getSweep(uuid(201)))?.status).toBe('cancelled');
      expect(await catalogue.getSweep(uuid(202))).toBeUndefined();
    }
  });

  it("indexes a folder the writer has just completed, and drops it once it's gone", async () => {
    const store = new ResultStore(resultsDir);
    const [manifest] = generateRunManifests(1, { seed: 14, now: NOW });
    const { task_id: runId, status: _status, result_files: _files, ...fields } = manifest;
    const saved = await store.saveCompleted(runId, '{}', fields);
    expect(await indexRunFolder(catalogue, resultsDir, runId.toUpperCase())).toBe('indexed');
    const stats = await lstat(join(resultsDir, runId, 'manifest.json'));
    expect(await catalogue.getRun(runId)).toEqual(
      runRowFromManifest(saved as CataloguedManifest, fileFingerprint(stats)),
    );
    await store.removeRun(runId);
    expect(await indexRunFolder(catalogue, resultsDir, runId)).toBe('removed');
    expect(await catalogue.getRun(runId)).toBeUndefined();
  });
});

/** What rebuild opens by default: read-only, never through a link. */
function openCounted(path: string): Promise<FileHandle> {
  return open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
}
