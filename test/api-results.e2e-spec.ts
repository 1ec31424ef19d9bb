import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESULT_VERSION } from '@app/backtest';
import { listInventory } from '@app/data';
import { EMPTY_SUMMARY, newRunId, ResultStore } from '@app/storage';
import { manifestFields } from '../libs/storage/src/testing/fixtures';
import type { HistoryPageDto } from '../apps/api/src/backtests/history.dto';
import type { InventoryPageDto } from '../apps/api/src/data/inventory.dto';
import { call, TaskState } from './support/api-client';
import { AppProcess, startApp } from './support/app-process';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { sampleDataRoot } from './support/sample-data';

/**
 * Reading finished runs (SPEC §5, §7): history filters and pagination, latest, one result,
 * downloads and status from the files, over run folders seeded with the storage library,
 * and the data inventory of the sample data. The built API with a private redis-server.
 */

jest.setTimeout(60_000);

interface SeedRun {
  id: string;
  status: 'completed' | 'failed' | 'cancelled';
  strategy: string;
  symbols: string[];
  start_date: string;
  end_date: string;
  total_signals: number;
  avg_return: number | null;
  finished_at: string;
  error?: string;
}

const seed = (overrides: Partial<SeedRun> & Pick<SeedRun, 'finished_at'>): SeedRun => ({
  id: newRunId(),
  status: 'completed',
  strategy: 'volume_long_candle',
  symbols: ['BTC_KRW'],
  start_date: '2020-01-01',
  end_date: '2020-01-31',
  total_signals: 1,
  avg_return: 0.1,
  ...overrides,
});

const A = seed({
  symbols: ['ETH_BTC'],
  start_date: '2018-01-01',
  end_date: '2018-01-10',
  total_signals: 3,
  avg_return: 1.5,
  finished_at: '2024-02-01T00:00:01.000Z',
});
const B = seed({
  strategy: 'volume_zone_breakout',
  symbols: ['LTC_BTC', 'ETH_BTC'],
  start_date: '2018-01-15',
  end_date: '2018-01-31',
  total_signals: 10,
  avg_return: -0.5,
  finished_at: '2024-02-01T00:00:02.000Z',
});
const C = seed({
  symbols: ['ADA_BTC'],
  start_date: '2018-02-01',
  end_date: '2018-02-28',
  total_signals: 0,
  avg_return: null,
  finished_at: '2024-02-01T00:00:03.000Z',
});
const D = seed({
  status: 'failed',
  symbols: ['ETH_BTC'],
  start_date: '2018-01-05',
  end_date: '2018-01-06',
  total_signals: 0,
  avg_return: null,
  error: 'Something broke',
  finished_at: '2024-02-01T00:00:04.000Z',
});
const E = seed({
  status: 'cancelled',
  strategy: 'volume_zone_breakout',
  symbols: ['XRP_ETH'],
  start_date: '2019-10-01',
  end_date: '2019-10-31',
  total_signals: 0,
  avg_return: null,
  error: 'Cancelled by request',
  finished_at: '2024-02-01T00:00:05.000Z',
});
const FILLERS = Array.from({ length: 20 }, (_, i) =>
  seed({ finished_at: `2023-06-01T00:00:${String(i).padStart(2, '0')}.000Z` }),
);
const RUNS = [A, B, C, D, E, ...FILLERS];
/** Newest finished first, as the history lists them. */
const NEWEST_FIRST = [...RUNS].sort((x, y) => y.finished_at.localeCompare(x.finished_at));

function resultDocument(run: SeedRun): string {
  return JSON.stringify({
    version: RESULT_VERSION,
    run_id: run.id,
    strategy: run.strategy,
    params: {},
    start_date: run.start_date,
    end_date: run.end_date,
    timeframe: '5M',
    total_signals: run.total_signals,
    execution_time: 0.01,
    symbols: [],
    symbols_failed: [],
    metadata: { execution_date: run.finished_at, environment: 'test', execution_host: 'seed' },
  });
}

async function seedRuns(store: ResultStore): Promise<void> {
  for (const run of RUNS) {
    const base = manifestFields();
    const fields = manifestFields({
      strategy: run.strategy,
      symbols: run.symbols,
      start_date: run.start_date,
      end_date: run.end_date,
      metadata: { ...base.metadata, finished_at: run.finished_at },
      summary:
        run.status === 'completed'
          ? { ...base.summary, total_signals: run.total_signals, avg_return: run.avg_return }
          : EMPTY_SUMMARY,
      error: { occurred: run.error !== undefined, message: run.error ?? null },
    });
    if (run.status === 'completed') await store.saveCompleted(run.id, resultDocument(run), fields);
    else await store.saveUnfinished(run.id, run.status, fields);
  }
}

describe('API results: history, latest, one run, download, inventory', () => {
  let redis: PrivateRedis;
  let api: AppProcess;
  let resultsDir: string;
  let dataRoot: string;
  let store: ResultStore;

  const history = async (query: string): Promise<HistoryPageDto> => {
    const response = await call<HistoryPageDto>(api.url, 'GET', `/api/backtests/history${query}`);
    expect(response.status).toBe(200);
    return response.body;
  };
  const ids = (page: HistoryPageDto): string[] => page.items.map((item) => item.task_id);
  const idsOf = (runs: SeedRun[]): string[] =>
    NEWEST_FIRST.filter((run) => runs.includes(run)).map((run) => run.id);

  beforeAll(async () => {
    redis = await startPrivateRedis();
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-api-results-'));
    dataRoot = await sampleDataRoot();
    store = new ResultStore(resultsDir);
    await seedRuns(store);
    api = await startApp('api', {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: 'api-results-e2e',
    });
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await redis?.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
  });

  describe('GET /api/backtests/history', () => {
    it('lists finished runs newest first with their summaries, 20 to a page by default', async () => {
      const page = await history('');
      expect(page).toMatchObject({ total: RUNS.length, limit: 20, offset: 0 });
      expect(ids(page)).toEqual(NEWEST_FIRST.slice(0, 20).map((run) => run.id));
      expect(page.items.find((item) => item.task_id === B.id)).toMatchObject({
        status: 'completed',
        strategy: 'volume_zone_breakout',
        symbols: ['LTC_BTC', 'ETH_BTC'],
        start_date: '2018-01-15',
        end_date: '2018-01-31',
        finished_at: B.finished_at,
        total_signals: 10,
        avg_return: -0.5,
        error: null,
      });
      expect(page.items.find((item) => item.task_id === D.id)).toMatchObject({
        status: 'failed',
        error: 'Something broke',
      });
    });

    it('pages with limit and offset', async () => {
      const last = await history('?limit=10&offset=20');
      expect(last).toMatchObject({ total: RUNS.length, limit: 10, offset: 20 });
      expect(ids(last)).toEqual(NEWEST_FIRST.slice(20).map((run) => run.id));
      expect(ids(await history('?limit=1&offset=1'))).toEqual([NEWEST_FIRST[1].id]);
      expect((await history('?limit=100')).items).toHaveLength(RUNS.length);
      expect(await history('?offset=500')).toMatchObject({ items: [], total: RUNS.length });
    });

    it('filters by strategy, symbol (any case) and status', async () => {
      expect(ids(await history('?strategy=volume_zone_breakout'))).toEqual(idsOf([B, E]));
      expect(ids(await history('?symbol=eth_btc'))).toEqual(idsOf([A, B, D]));
      expect(ids(await history('?symbol=ETH_BTC&status=completed'))).toEqual(idsOf([A, B]));
      expect(ids(await history('?status=failed'))).toEqual(idsOf([D]));
    });

    it('filters by date range: runs whose dates overlap it', async () => {
      expect(ids(await history('?start_date=2018-01-08&end_date=2018-01-20'))).toEqual(
        idsOf([A, B]),
      );
      expect(ids(await history('?start_date=2018-01-31&end_date=2018-01-31'))).toEqual(idsOf([B]));
      expect(ids(await history('?start_date=2019-01-01&end_date=2019-12-31'))).toEqual(idsOf([E]));
      expect(ids(await history('?end_date=2018-01-05'))).toEqual(idsOf([A, D]));
    });

    it('filters by average return and signal count; runs without trades match no return filter', async () => {
      expect(ids(await history('?min_return=1'))).toEqual(idsOf([A]));
      expect(ids(await history('?min_return=-1&max_return=0'))).toEqual(idsOf([B]));
      expect(ids(await history('?min_signals=5'))).toEqual(idsOf([B]));
      expect(ids(await history('?max_signals=0'))).toEqual(idsOf([C, D, E]));
      expect(ids(await history('?min_signals=1&max_signals=3&limit=100'))).toEqual(
        idsOf([A, ...FILLERS]),
      );
    });

    it('refuses reversed ranges and bad filters with 422 naming the fields', async () => {
      const dates = await call(
        api.url,
        'GET',
        '/api/backtests/history?start_date=2018-02-01&end_date=2018-01-01',
      );
      expect(dates.status).toBe(422);
      expect(dates.body.errors?.map((p) => p.field)).toEqual(['start_date', 'end_date']);
      const returns = await call(
        api.url,
        'GET',
        '/api/backtests/history?min_return=2&max_return=1',
      );
      expect(returns.status).toBe(422);
      expect(returns.body.errors?.map((p) => p.field)).toEqual(['min_return', 'max_return']);
      const bad = await call(
        api.url,
        'GET',
        '/api/backtests/history?strategy=nope&symbol=a/b&status=lost&start_date=2018-13-01&min_return=lots&offset=-1&limit=0',
      );
      expect(bad.status).toBe(422);
      expect(bad.body.errors?.map((p) => p.field).sort()).toEqual(
        ['limit', 'min_return', 'offset', 'start_date', 'status', 'strategy', 'symbol'].sort(),
      );
      expect(bad.body.errors?.find((p) => p.field === 'strategy')?.allowed).toBe(
        'one of volume_long_candle, volume_zone_breakout',
      );
    });
  });

  describe('one run', () => {
    it('serves the newest completed run at /latest', async () => {
      const latest = await call(api.url, 'GET', '/api/backtests/latest');
      expect(latest.status).toBe(200);
      expect(latest.text).toBe(resultDocument(C));
    });

    it('serves a completed run’s result document and its download with the manifest’s md5', async () => {
      const result = await call(api.url, 'GET', `/api/backtests/${A.id.toUpperCase()}`);
      expect(result.status).toBe(200);
      expect(result.headers.get('content-type')).toMatch(/^application\/json/);
      expect(result.text).toBe(resultDocument(A));

      const download = await call(api.url, 'GET', `/api/backtests/${A.id}/download`);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-disposition')).toBe(
        `attachment; filename="backtest-${A.id}.json"`,
      );
      expect(download.headers.get('content-length')).toBe(String(download.bytes.length));
      const md5 = createHash('md5').update(download.bytes).digest('hex');
      const manifest = await store.readManifest(A.id);
      expect(md5).toBe(manifest?.result_files[0].checksum);
      expect(download.headers.get('etag')).toBe(`"${md5}"`);
      expect(download.headers.get('content-md5')).toBe(
        createHash('md5').update(download.bytes).digest('base64'),
      );
    });

    it('answers a failed or cancelled run with 404 saying so and why', async () => {
      const failed = await call(api.url, 'GET', `/api/backtests/${D.id}`);
      expect(failed.status).toBe(404);
      expect(failed.body.message).toBe(`Run ${D.id} has no result: it failed: Something broke`);
      const cancelled = await call(api.url, 'GET', `/api/backtests/${E.id}/download`);
      expect(cancelled.status).toBe(404);
      expect(cancelled.body.message).toMatch(/it was cancelled/);
    });

    it('serves the status of tasks whose Redis state is gone from their run folders', async () => {
      const completed = await call<TaskState>(api.url, 'GET', `/api/backtests/status/${A.id}`);
      expect(completed.status).toBe(200);
      expect(completed.body).toEqual({
        task_id: A.id,
        status: 'completed',
        progress: 1,
        result: JSON.parse(resultDocument(A)),
        error: null,
        result_url: `/api/backtests/${A.id}`,
      });
      const failed = await call<TaskState>(api.url, 'GET', `/api/backtests/status/${D.id}`);
      expect(failed.body).toEqual({
        task_id: D.id,
        status: 'failed',
        progress: 0,
        result: null,
        error: 'Something broke',
      });
    });
  });

  describe('GET /api/data/inventory', () => {
    it('answers the shape of SPEC §10.5: {files, total_count, limit, offset}, newest first', async () => {
      const everything = await listInventory(dataRoot);
      const all = await call<InventoryPageDto>(api.url, 'GET', '/api/data/inventory?limit=200');
      expect(all.status).toBe(200);
      expect(all.body).toEqual({
        files: everything,
        total_count: everything.length,
        limit: 200,
        offset: 0,
      });
      // Newest change first, ties by path.
      const order = all.body.files.map((file) => [file.modified_at, file.relative_path]);
      const sorted = [...order].sort((a, b) =>
        a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? 1 : -1,
      );
      expect(order).toEqual(sorted);
      // Field by field, what the client of the system this replaces reads.
      const eth = all.body.files.find(
        (file) => file.symbol === 'ETH_BTC' && file.timeframe === '5M',
      );
      expect(Object.keys(eth!).sort()).toEqual(
        [
          'first_timestamp',
          'last_timestamp',
          'modified_at',
          'relative_path',
          'rows',
          'size_bytes',
          'symbol',
          'timeframe',
          'year',
        ].sort(),
      );
      expect(eth).toMatchObject({
        year: 2018,
        rows: expect.any(Number),
        first_timestamp: expect.stringMatching(/^2018-01-/),
        relative_path: 'ETH_BTC/5M/2018.parquet',
        modified_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });

      const defaults = await call<InventoryPageDto>(api.url, 'GET', '/api/data/inventory');
      expect(defaults.body).toMatchObject({ limit: 50, offset: 0 });
      const one = await call<InventoryPageDto>(
        api.url,
        'GET',
        '/api/data/inventory?symbol=eth_btc&timeframe=5m&year=2018',
      );
      expect(one.body.files).toEqual(
        everything.filter((e) => e.symbol === 'ETH_BTC' && e.timeframe === '5M' && e.year === 2018),
      );
      const page = await call<InventoryPageDto>(
        api.url,
        'GET',
        '/api/data/inventory?limit=1&offset=1',
      );
      expect(page.body).toEqual({
        files: [everything[1]],
        total_count: everything.length,
        limit: 1,
        offset: 1,
      });
      const none = await call<InventoryPageDto>(api.url, 'GET', '/api/data/inventory?year=1999');
      expect(none.body).toMatchObject({ files: [], total_count: 0 });
      const tooMany = await call(api.url, 'GET', '/api/data/inventory?limit=201');
      expect(tooMany.status).toBe(422);
      const bad = await call(
        api.url,
        'GET',
        '/api/data/inventory?symbol=../x&timeframe=2M&year=soon',
      );
      expect(bad.status).toBe(422);
      expect(bad.body.errors?.map((p) => p.field)).toEqual(['symbol', 'timeframe', 'year']);
    });
  });
});
