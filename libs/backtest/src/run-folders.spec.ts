import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalogue, catalogueRunIndex, openCatalogue } from '@app/catalogue';
import { newRunId, ResultStore } from '@app/storage';
import { parseBacktestRequest } from './request';
import { runBacktest } from './run-backtest';
import { RunFolders } from './run-folders';

const SAMPLE_DATA = join(__dirname, '../../../data');
const ORIGIN = { environment: 'test', executionHost: 'here', workerId: null };
const REQUEST = parseBacktestRequest({
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
});
const TIMES = { created_at: '2026-12-01T00:00:00.000Z', started_at: '2026-12-01T00:00:01.000Z' };

/** SPEC §11: the writer of a run folder writes the folder, then its catalogue row. */
describe('RunFolders with the catalogue', () => {
  let dir: string;
  let store: ResultStore;
  let catalogue: Catalogue;
  let failures: Array<{ runId: string; error: unknown }>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'coin-run-folders-'));
    store = new ResultStore(dir);
    catalogue = await openCatalogue({
      catalogPath: join(dir, 'catalog.sqlite'),
      sqliteMode: 'inline',
    });
    failures = [];
  });
  afterEach(async () => {
    await catalogue.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const folders = (): RunFolders =>
    new RunFolders(
      store,
      ORIGIN,
      catalogueRunIndex(catalogue, dir, (runId, error) => failures.push({ runId, error })),
    );

  it('indexes a completed run from the manifest it has just written', async () => {
    const runId = newRunId();
    const outcome = await runBacktest(REQUEST, { dataRoot: SAMPLE_DATA, runId, origin: ORIGIN });
    const manifest = await folders().completed(REQUEST, outcome, TIMES);
    const row = await catalogue.getRun(runId);
    expect(row).toMatchObject({
      id: runId,
      status: 'completed',
      symbols: ['ETH_BTC'],
      total_signals: outcome.result.total_signals,
      execution_time: outcome.result.execution_time,
      finished_at: manifest.metadata.finished_at,
    });
    expect((await catalogue.history({ limit: 5, offset: 0 })).items.map((r) => r.id)).toEqual([
      runId,
    ]);
    expect(failures).toEqual([]);
  });

  it('replaces the row when the folder is rewritten (cancelled just as it completed)', async () => {
    const runId = newRunId();
    const outcome = await runBacktest(REQUEST, { dataRoot: SAMPLE_DATA, runId, origin: ORIGIN });
    await folders().completed(REQUEST, outcome, TIMES);
    await folders().unfinished(runId, 'cancelled', REQUEST, TIMES, 'Cancelled by request');
    expect(await catalogue.getRun(runId)).toMatchObject({
      status: 'cancelled',
      error: 'Cancelled by request',
    });
    expect((await catalogue.counts()).runs).toEqual({ completed: 0, failed: 0, cancelled: 1 });
  });

  it('writes the folder even when the row cannot be written, and reports why', async () => {
    await catalogue.close(); // a catalogue that no longer answers
    const runId = newRunId();
    const manifest = await folders().unfinished(
      runId,
      'failed',
      REQUEST,
      TIMES,
      'no data',
      'no_data',
    );
    expect(manifest.status).toBe('failed');
    expect(existsSync(join(dir, runId, 'manifest.json'))).toBe(true);
    expect(failures.map((failure) => failure.runId)).toEqual([runId]);
    expect(failures[0].error).toBeInstanceOf(Error);
  });
});
