import { ConflictError } from '@app/common';
import { TERMINAL_STATUSES } from '@app/common';
import { seededRandom } from '@app/data';
import { BENCH_STRATEGIES, BENCH_SYMBOLS, generateRunManifests } from './bench/run-folders';
import { Catalogue, HistoryQuery } from './catalogue';
import { openCatalogue } from './open-catalogue';
import { CataloguedManifest, PresetRow, presetFileKey, runRowFromManifest, SweepRow } from './rows';
import { SCHEMA_VERSION } from './schema';
import { appliedMigrations, BACKENDS, useBackend } from './testing/backends';
import { referenceCleanup, referenceHistory } from './testing/reference';

// Real databases and files, on a machine others share: seconds, not the default 5.
jest.setTimeout(60_000);
const NOW = new Date('2026-12-10T12:00:00.000Z');

/**
 * 400 seeded runs, with some finish times shared (ties by id) and some runs without trades
 * (avg_return null).
 */
function sampleManifests(): CataloguedManifest[] {
  const manifests = [...generateRunManifests(400, { seed: 7, now: NOW })];
  for (let i = 10; i < manifests.length; i += 10) {
    manifests[i].metadata.finished_at = manifests[i - 1].metadata.finished_at;
    manifests[i + 1].metadata.finished_at = manifests[i - 1].metadata.finished_at;
  }
  return manifests;
}

function preset(name: string, overrides: Partial<PresetRow> = {}): PresetRow {
  return {
    name,
    strategy: 'volume_long_candle',
    params: { vol_ma_window: 30, body_pct: 0.03 },
    description: `about ${name}`,
    created_at: '2026-12-01T00:00:00.000Z',
    updated_at: '2026-12-01T00:00:00.000Z',
    file_fingerprint: null,
    ...overrides,
  };
}

function sweep(sweepId: string, overrides: Partial<SweepRow> = {}): SweepRow {
  return {
    sweep_id: sweepId,
    status: 'completed',
    strategy: 'volume_long_candle',
    symbols: ['BTC_KRW', 'ETH_KRW'],
    timeframe: '1H',
    start_date: '2024-01-01',
    end_date: '2024-06-30',
    combinations: 120,
    done: 120,
    objective: 'sharpe',
    created_at: '2026-12-01T00:00:00.000Z',
    finished_at: '2026-12-01T00:10:00.000Z',
    best: { index: 17, params: { vol_ma_window: 30 }, sharpe: 1.4 },
    error: null,
    ...overrides,
    manifest_fingerprint: overrides.manifest_fingerprint ?? null,
  };
}

const sweepId = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe.each(BACKENDS)('catalogue on %s', (backendName) => {
  const backend = useBackend(backendName);
  let catalogue: Catalogue;

  beforeEach(async () => {
    catalogue = await openCatalogue(await backend.freshOptions());
  });
  afterEach(async () => {
    await catalogue.close();
  });

  describe('history', () => {
    const manifests = sampleManifests();
    // Loaded once for the tests that only read; those that write load their own.
    let loaded: Catalogue;

    async function load(target: Catalogue): Promise<void> {
      // Both ways in: the writer's upsert and the rebuild's batch write.
      for (const manifest of manifests.slice(0, 40)) {
        await target.upsertRun(runRowFromManifest(manifest, 'fp'));
      }
      await target.index(
        'runs',
        manifests.slice(40).map((manifest) => ({
          row: runRowFromManifest(manifest, 'fp'),
          when: 'absent' as const,
        })),
      );
    }

    beforeAll(async () => {
      loaded = await openCatalogue(await backend.freshOptions());
      await load(loaded);
    });
    afterAll(async () => {
      await loaded.close();
    });

    async function expectSameAsReference(query: HistoryQuery): Promise<void> {
      const page = await loaded.history(query);
      const expected = referenceHistory(manifests, query);
      expect({ query, ids: page.items.map((row) => row.id), total: page.total }).toEqual({
        query,
        ...expected,
      });
    }

    it('lists completed runs by default, newest finished first, ties by id', async () => {
      const page = await loaded.history({ limit: 100, offset: 0 });
      expect(page.items.every((row) => row.status === 'completed')).toBe(true);
      expect(page.total).toBe(manifests.filter((m) => m.status === 'completed').length);
      const order = page.items.map((row) => [row.finished_at, row.id]);
      const sorted = [...order].sort(([ta, ia], [tb, ib]) =>
        ta === tb ? (ia < ib ? -1 : 1) : ta > tb ? -1 : 1,
      );
      expect(order).toEqual(sorted);
      // The sample shares finish times, so the tie rule is exercised, not assumed.
      const times = page.items.map((row) => row.finished_at);
      expect(new Set(times).size).toBeLessThan(times.length);
      await expectSameAsReference({ limit: 100, offset: 0 });
    });

    it.each([
      { status: 'failed' as const },
      { status: 'cancelled' as const },
      { status: 'all' as const },
      { strategy: BENCH_STRATEGIES[1] },
      { symbol: 'ETH_BTC' },
      { symbol: 'NOT_TRADED' },
      { start_date: '2021-03-01' },
      { end_date: '2019-06-30' },
      { start_date: '2020-01-01', end_date: '2020-03-31' },
      { date_from: '2022-01-01' },
      { date_to: '2019-12-31' },
      { date_from: '2020-01-01', date_to: '2020-12-31' },
      { min_return: 0 },
      { max_return: -1.5 },
      { min_return: -1, max_return: 1 },
      { min_signals: 100 },
      { max_signals: 0 },
      { min_signals: 10, max_signals: 20 },
      { status: 'all' as const, max_return: 100 },
    ])('filters like the reference: %j', async (filters) => {
      await expectSameAsReference({ ...filters, limit: 100, offset: 0 });
      await expectSameAsReference({ ...filters, limit: 7, offset: 5 });
    });

    it('agrees with the reference on random combinations of filters and pages', async () => {
      const random = seededRandom(99);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
      const maybe = <T>(value: () => T): T | undefined => (random() < 0.35 ? value() : undefined);
      const someDate = () => pick(manifests)[random() < 0.5 ? 'start_date' : 'end_date'];
      for (let i = 0; i < 60; i++) {
        const query: HistoryQuery = {
          status: maybe(() => pick([...TERMINAL_STATUSES, 'all' as const])),
          strategy: maybe(() => pick(BENCH_STRATEGIES)),
          symbol: maybe(() => pick(BENCH_SYMBOLS)),
          start_date: maybe(someDate),
          end_date: maybe(someDate),
          date_from: maybe(someDate),
          date_to: maybe(someDate),
          min_return: maybe(() => Math.round((random() * 10 - 5) * 100) / 100),
          max_return: maybe(() => Math.round((random() * 10 - 2) * 100) / 100),
          min_signals: maybe(() => Math.floor(random() * 100)),
          max_signals: maybe(() => Math.floor(random() * 400)),
          limit: 1 + Math.floor(random() * 100),
          offset: pick([0, 0, 3, 50, 500]),
        };
        for (const key of Object.keys(query) as (keyof HistoryQuery)[])
          if (query[key] === undefined) delete query[key];
        await expectSameAsReference(query);
      }
    });

    it('never matches a run without trades (null avg_return) by return', async () => {
      const noTrades = manifests.filter(
        (m) => m.status === 'completed' && m.summary.avg_return === null,
      );
      expect(noTrades.length).toBeGreaterThan(0);
      const page = await loaded.history({ min_return: -1e9, limit: 100, offset: 0 });
      const ids = new Set(page.items.map((row) => row.id));
      expect(noTrades.some((m) => ids.has(m.task_id))).toBe(false);
      expect(page.total).toBe(
        manifests.filter((m) => m.status === 'completed' && m.summary.avg_return !== null).length,
      );
    });

    it('treats filter values as values, never as SQL', async () => {
      const page = await loaded.history({
        strategy: "x' OR '1'='1",
        symbol: "BTC_KRW'; DROP TABLE runs; --",
        limit: 10,
        offset: 0,
      });
      expect(page).toEqual({ items: [], total: 0 });
      expect((await loaded.history({ status: 'all', limit: 1, offset: 0 })).total).toBe(
        manifests.length,
      );
    });

    it('reads back every field as the manifest gave it', async () => {
      for (const manifest of [manifests[0], manifests[100], manifests[399]]) {
        expect(await loaded.getRun(manifest.task_id.toUpperCase())).toEqual(
          runRowFromManifest(manifest, 'fp'),
        );
      }
      expect(await loaded.getRun('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });

    it('finds the latest completed run, passing over newer failed ones', async () => {
      await load(catalogue);
      const latest = referenceHistory(manifests, { limit: 1, offset: 0 }).ids[0];
      const [newer] = generateRunManifests(1, { seed: 11, now: NOW });
      newer.status = 'failed';
      newer.metadata.finished_at = new Date(NOW.getTime() + 1000).toISOString();
      await catalogue.upsertRun(runRowFromManifest(newer));
      expect((await catalogue.history({ status: 'all', limit: 1, offset: 0 })).items[0].id).toBe(
        newer.task_id,
      );
      expect((await catalogue.latestCompletedRun())?.id).toBe(latest);
    });

    it('pages the runs to clean up, oldest cut-off per status, deleting as it goes', async () => {
      await load(catalogue);
      const selection = {
        completedBefore: new Date(NOW.getTime() - 5 * 24 * 3600 * 1000),
        failedBefore: new Date(NOW.getTime() - 1 * 24 * 3600 * 1000),
      };
      const expected = referenceCleanup(manifests, selection);
      expect(expected.length).toBeGreaterThan(50);
      const seen: string[] = [];
      let after: { finished_at: string; id: string } | undefined;
      for (;;) {
        const page = await catalogue.runsToCleanUp({ ...selection, after, limit: 25 });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(25);
        seen.push(...page.map((candidate) => candidate.id));
        for (const candidate of page) await catalogue.removeRun(candidate.id);
        after = page[page.length - 1];
      }
      expect(seen).toEqual(expected);
      expect((await catalogue.history({ status: 'all', limit: 1, offset: 0 })).total).toBe(
        manifests.length - expected.length,
      );
    });

    it('counts the runs of each status', async () => {
      const counts = await loaded.counts();
      for (const status of TERMINAL_STATUSES)
        expect(counts.runs[status]).toBe(manifests.filter((m) => m.status === status).length);
    });
  });

  describe('writes', () => {
    const [first] = generateRunManifests(1, { seed: 3, now: NOW });

    it('replaces a run on upsert, its symbols following the new row', async () => {
      expect(first.status).toBe('completed');
      await catalogue.upsertRun(runRowFromManifest(first, 'v1'));
      expect((await catalogue.history({ limit: 1, offset: 0 })).total).toBe(1);
      const cancelled: CataloguedManifest = {
        ...first,
        status: 'cancelled',
        symbols: ['ZZZ_KRW'],
        error: { occurred: true, message: 'The task was cancelled' },
      };
      await catalogue.upsertRun(runRowFromManifest(cancelled, 'v2'));
      expect(await catalogue.getRun(first.task_id)).toEqual(runRowFromManifest(cancelled, 'v2'));
      const bySymbol = (symbol: string) =>
        catalogue.history({ status: 'all', symbol, limit: 10, offset: 0 });
      expect((await bySymbol('ZZZ_KRW')).total).toBe(1);
      expect((await bySymbol(first.symbols[0])).total).toBe(0);
      // The kept totals (run_counts) follow a status change too.
      const total = async (status: 'completed' | 'cancelled', symbol?: string) =>
        (await catalogue.history({ status, symbol, limit: 1, offset: 0 })).total;
      expect([await total('completed'), await total('cancelled')]).toEqual([0, 1]);
      expect([await total('cancelled', 'ZZZ_KRW'), await total('completed', 'ZZZ_KRW')]).toEqual([
        1, 0,
      ]);
      expect((await catalogue.counts()).runs).toEqual({ completed: 0, failed: 0, cancelled: 1 });
    });

    it('never lets a rebuild write undo a newer row', async () => {
      const row = runRowFromManifest(first, 'writer');
      await catalogue.upsertRun(row);
      const older = { ...runRowFromManifest({ ...first, status: 'failed' }, 'rebuild') };
      expect(await catalogue.index('runs', [{ row: older, when: 'absent' }])).toBe(0);
      expect(
        await catalogue.index('runs', [{ row: older, when: 'unchanged', fingerprint: 'stale' }]),
      ).toBe(0);
      expect(await catalogue.getRun(first.task_id)).toEqual(row);
      expect(
        await catalogue.index('runs', [{ row: older, when: 'unchanged', fingerprint: 'writer' }]),
      ).toBe(1);
      expect((await catalogue.getRun(first.task_id))?.status).toBe('failed');
      expect(await catalogue.fingerprints('runs', [first.task_id, sweepId(1)])).toEqual(
        new Map([[first.task_id, 'rebuild']]),
      );
    });

    it('answers a repeated query afresh once a write has changed its answer', async () => {
      const query = { status: 'all' as const, symbol: first.symbols[0], limit: 5, offset: 0 };
      expect(await catalogue.history(query)).toEqual({ items: [], total: 0 });
      await catalogue.upsertRun(runRowFromManifest(first));
      expect((await catalogue.history(query)).total).toBe(1);
      await catalogue.removeRun(first.task_id);
      expect(await catalogue.history(query)).toEqual({ items: [], total: 0 });
    });

    it('removes a run with its symbols', async () => {
      await catalogue.upsertRun(runRowFromManifest(first));
      expect(await catalogue.removeRun(first.task_id)).toBe(true);
      expect(await catalogue.removeRun(first.task_id)).toBe(false);
      expect(await catalogue.getRun(first.task_id)).toBeUndefined();
      const page = await catalogue.history({ symbol: first.symbols[0], limit: 1, offset: 0 });
      expect(page.total).toBe(0);
    });

    it('walks its keys in order, page by page', async () => {
      const manifests = [...generateRunManifests(25, { seed: 5, now: NOW })];
      await catalogue.index(
        'runs',
        manifests.map((m) => ({ row: runRowFromManifest(m), when: 'absent' as const })),
      );
      const keys: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await catalogue.indexedKeys('runs', after, 10);
        if (page.length === 0) break;
        keys.push(...page);
        after = page[page.length - 1];
      }
      expect(keys).toEqual(manifests.map((m) => m.task_id).sort());
    });
  });

  describe('presets', () => {
    it('creates, refuses a second of the same name, replaces, lists and removes', async () => {
      await catalogue.createPreset(preset('Fast scalp'));
      await expect(catalogue.createPreset(preset('Fast scalp'))).rejects.toThrow(ConflictError);
      await expect(catalogue.createPreset(preset('Fast scalp'))).rejects.toThrow(
        'A preset named "Fast scalp" exists already',
      );
      // Names are case-sensitive and may use any script.
      await catalogue.createPreset(
        preset('fast scalp', { created_at: '2026-12-03T00:00:00.000Z' }),
      );
      await catalogue.createPreset(preset('빠른 돌파', { created_at: '2026-12-02T00:00:00.000Z' }));
      const replaced = preset('Fast scalp', {
        params: { vol_ma_window: 50 },
        description: null,
        updated_at: '2026-12-05T00:00:00.000Z',
      });
      await catalogue.savePreset(replaced);
      expect(await catalogue.getPreset('Fast scalp')).toEqual(replaced);
      expect((await catalogue.listPresets()).map((p) => p.name)).toEqual([
        'fast scalp',
        '빠른 돌파',
        'Fast scalp',
      ]);
      expect(await catalogue.removePreset('Fast scalp')).toBe(true);
      expect(await catalogue.removePreset('Fast scalp')).toBe(false);
      expect(await catalogue.getPreset('Fast scalp')).toBeUndefined();
      expect((await catalogue.counts()).presets).toBe(2);
      // The rebuild addresses presets by their file's name.
      expect(await catalogue.fingerprints('presets', [presetFileKey('빠른 돌파')])).toEqual(
        new Map([[presetFileKey('빠른 돌파'), null]]),
      );
    });

    it('lists presets created at the same time by name', async () => {
      for (const name of ['b', 'c', 'a']) await catalogue.createPreset(preset(name));
      expect((await catalogue.listPresets()).map((p) => p.name)).toEqual(['a', 'b', 'c']);
    });
  });

  describe('sweeps', () => {
    it('lists newest first with filters, a total and pages', async () => {
      const rows = Array.from({ length: 12 }, (_, i) =>
        sweep(sweepId(i), {
          status: i % 3 === 0 ? 'running' : 'completed',
          strategy: i % 2 === 0 ? 'volume_long_candle' : 'volume_zone_breakout',
          // Two sweeps per creation time: ties go by id.
          created_at: new Date(Date.UTC(2026, 11, 1, Math.floor(i / 2))).toISOString(),
          finished_at: i % 3 === 0 ? null : '2026-12-02T00:00:00.000Z',
        }),
      );
      for (const row of rows) await catalogue.upsertSweep(row);
      const all = await catalogue.listSweeps({ limit: 100, offset: 0 });
      expect(all.total).toBe(12);
      expect(all.items.map((s) => s.sweep_id)).toEqual(
        [10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 0, 1].map(sweepId),
      );
      const page = await catalogue.listSweeps({
        limit: 2,
        offset: 1,
        strategy: 'volume_long_candle',
        status: 'completed',
      });
      expect(page).toEqual({ items: [rows[8], rows[4]], total: 4 });
      expect(await catalogue.getSweep(sweepId(3))).toEqual(rows[3]);
      await catalogue.upsertSweep({ ...rows[3], status: 'cancelled', error: 'cancelled' });
      expect((await catalogue.getSweep(sweepId(3)))?.status).toBe('cancelled');
      expect(await catalogue.removeSweep(sweepId(3))).toBe(true);
      expect((await catalogue.counts()).sweeps).toEqual({
        queued: 0,
        running: 3,
        completed: 8,
        failed: 0,
        cancelled: 0,
      });
      // A rebuild may remove only sweeps that have ended: the others have no folder yet.
      const removable = await catalogue.indexedKeys('sweeps', null, 100);
      expect(removable).toEqual(rows.filter((_, i) => i % 3 !== 0).map((r) => r.sweep_id));
    });
  });

  describe('schema', () => {
    it('migrates at open, and opening again changes nothing', async () => {
      expect(catalogue.schemaVersion).toBe(SCHEMA_VERSION);
      const options = await backend.freshOptions();
      const first = await openCatalogue(options);
      await first.createPreset(preset('kept'));
      await first.close();
      const again = await openCatalogue(options);
      expect(again.schemaVersion).toBe(SCHEMA_VERSION);
      expect((await again.listPresets()).map((p) => p.name)).toEqual(['kept']);
      await again.close();
      expect(await appliedMigrations(options)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
    });

    it('migrates once when several processes open a new catalogue at the same moment', async () => {
      const options = await backend.freshOptions();
      const opened = await Promise.all(Array.from({ length: 6 }, () => openCatalogue(options)));
      expect(opened.map((c) => c.schemaVersion)).toEqual(Array(6).fill(SCHEMA_VERSION));
      expect(await appliedMigrations(options)).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await opened[0].createPreset(preset('seen by all'));
      for (const other of opened) expect(await other.getPreset('seen by all')).toBeDefined();
      await Promise.all(opened.map((c) => c.close()));
    });
  });
});
