import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultDocument, tradesCsv } from '@app/backtest';
import { generateCandles, readCandleFile, TIMEFRAME_MS, writeCandleFile } from '@app/data';
import { Manifest } from '@app/storage';
import type { ErrorBody } from '../apps/api/src/http/error-response';
import type { PresetDto } from '../apps/api/src/strategies/preset.dto';
import { call, TaskAccepted } from './support/api-client';
import { AppProcess, startApp } from './support/app-process';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { eventually, writeSyntheticData } from './support/task-harness';

/**
 * SPEC §10: what the web client and scripts of the system this replaces send and read, each
 * against the real apps (two API replicas where it matters, a worker, a private Redis, real
 * files): /api/health, form strings, active symbols, presets, uploads, CORS.
 */
jest.setTimeout(120_000);

const SYMBOLS = Array.from({ length: 20 }, (_, i) => `DROP_${String.fromCharCode(65 + i)}`);
const KEY = { 'x-api-key': 'drop-in-key' };
const ORIGIN = 'https://client.example';

describe('drop-in for the system this replaces (SPEC §10)', () => {
  let redis: PrivateRedis;
  let dir: string;
  let dataRoot: string;
  let resultsDir: string;
  let env: Record<string, string>;
  let apis: AppProcess[] = [];
  let worker: AppProcess;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dir = mkdtempSync(join(tmpdir(), 'coin-dropin-'));
    dataRoot = join(dir, 'data');
    resultsDir = join(dir, 'results');
    await writeSyntheticData(
      dataRoot,
      SYMBOLS.map((symbol, seed) => ({ symbol, timeframe: '5M', year: 2024, count: 3000, seed })),
    );
    env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      API_KEY: KEY['x-api-key'],
      CORS_ORIGINS: ORIGIN,
      UPLOAD_MAX_MB: '1',
    };
    apis = [await startApp('api', env), await startApp('api', env)];
    worker = await startApp('worker', { ...env, WORKER_CONCURRENCY: '2' });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...apis, worker].map((app) => app?.stop()));
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers GET /api/health like /health, without a key (§10.1)', async () => {
    const [api] = apis;
    const health = await call<{ status: string }>(api.url, 'GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect(Object.keys(health.body).sort()).toEqual(
      Object.keys((await call(api.url, 'GET', '/health')).body as object).sort(),
    );
    // Every other /api route still needs it.
    expect((await call(api.url, 'GET', '/api/strategies')).status).toBe(401);
  });

  it('takes parameters typed into a form as their numbers, and refuses what is no plain decimal (§10.3)', async () => {
    const [api] = apis;
    const run = (params: object) =>
      call<ResultDocument>(api.url, 'POST', '/api/backtests/run', {
        headers: KEY,
        body: {
          strategy: 'volume_long_candle',
          params,
          execution: { fee: '0.001', positions: 'single' },
          symbols: ['DROP_A'],
          timeframe: '5M',
          start_date: '2024-01-01',
          end_date: '2024-01-05',
        },
      });
    const ok = await run({ vol_ma_window: '20.0', vol_multiplier: '1.2', body_pct: '0.005' });
    expect(ok.status).toBe(200);
    expect(ok.body.params).toMatchObject({
      vol_ma_window: 20,
      vol_multiplier: 1.2,
      body_pct: 0.005,
    });
    expect(ok.body.execution).toEqual({ fee: 0.001, slippage: 0, positions: 'single' });
    const bad = await run({ vol_ma_window: '1e3', vol_multiplier: ' 5', body_pct: '0x10' });
    expect(bad.status).toBe(422);
    expect((bad.body as unknown as ErrorBody).errors?.map((p) => [p.field, p.value])).toEqual([
      ['params.vol_ma_window', '1e3'],
      ['params.vol_multiplier', ' 5'],
      ['params.body_pct', '0x10'],
    ]);
  });

  it('lets twenty PATCHes of twenty symbols on two replicas all land, the md5 true, the portfolio recomputed (§10.6)', async () => {
    const [api] = apis;
    const run = await call<ResultDocument>(api.url, 'POST', '/api/backtests/run', {
      headers: KEY,
      body: {
        strategy: 'volume_long_candle',
        params: { vol_multiplier: 1.1, body_pct: 0.001 },
        symbols: SYMBOLS,
        timeframe: '5M',
        start_date: '2024-01-01',
        end_date: '2024-01-10',
      },
    });
    expect(run.status).toBe(200);
    const runId = run.body.run_id;
    expect(run.body.symbols.every((symbol) => symbol.is_active)).toBe(true);
    expect(run.body.portfolio.trades).toBe(run.body.total_signals);

    const patches = await Promise.all(
      SYMBOLS.map((symbol, i) =>
        call<{ symbol: string; is_active: boolean }>(
          apis[i % 2].url,
          'PATCH',
          `/api/backtests/${runId}/symbols/${symbol.toLowerCase()}`,
          { headers: KEY, body: { is_active: false } },
        ),
      ),
    );
    expect(patches.map((patch) => [patch.status, patch.body])).toEqual(
      SYMBOLS.map((symbol) => [200, { symbol, is_active: false }]),
    );
    const bytes = readFileSync(join(resultsDir, runId, 'result.json'));
    const stored = JSON.parse(bytes.toString('utf8')) as ResultDocument;
    // No lost update: every one of the twenty changes is in the file.
    expect(stored.symbols.map((symbol) => symbol.is_active)).toEqual(SYMBOLS.map(() => false));
    // No symbol active: no portfolio figure.
    expect(Object.values(stored.portfolio).every((figure) => figure === null)).toBe(true);
    const manifest = JSON.parse(
      readFileSync(join(resultsDir, runId, 'manifest.json'), 'utf8'),
    ) as Manifest;
    expect(manifest.result_files[0]).toMatchObject({
      size_bytes: bytes.length,
      checksum: createHash('md5').update(bytes).digest('hex'),
    });
    expect(manifest.summary.portfolio).toEqual(stored.portfolio);
    // The result the API serves is the file, ETag and all.
    const served = await call<ResultDocument>(apis[1].url, 'GET', `/api/backtests/${runId}`, {
      headers: KEY,
    });
    expect(served.headers.get('etag')).toBe(`"${manifest.result_files[0].checksum}"`);

    const back = await call(api.url, 'PATCH', `/api/backtests/${runId}/symbols/DROP_A`, {
      headers: KEY,
      body: { is_active: true },
    });
    expect(back.status).toBe(200);
    const one = JSON.parse(
      readFileSync(join(resultsDir, runId, 'result.json'), 'utf8'),
    ) as ResultDocument;
    expect(one.portfolio.trades).toBe(one.symbols[0].samples);

    const unknownSymbol = await call(api.url, 'PATCH', `/api/backtests/${runId}/symbols/NOPE_X`, {
      headers: KEY,
      body: { is_active: true },
    });
    expect(unknownSymbol.status).toBe(404);
    const unknownRun = await call(
      api.url,
      'PATCH',
      '/api/backtests/0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3/symbols/DROP_A',
      { headers: KEY, body: { is_active: true } },
    );
    expect(unknownRun.status).toBe(404);
    const badBody = await call(api.url, 'PATCH', `/api/backtests/${runId}/symbols/DROP_A`, {
      headers: KEY,
      body: { is_active: 'yes' },
    });
    expect(badBody.status).toBe(422);
    expect(badBody.body.errors?.[0]).toMatchObject({ field: 'is_active', value: 'yes' });
  });

  describe('presets (§10.7)', () => {
    const preset = {
      name: 'Surge 1.2',
      strategy: 'volume_long_candle',
      params: { vol_multiplier: '1.2', body_pct: 0.001 },
      description: 'A small surge',
    };

    it('creates, lists, reads, replaces and deletes, the same on every replica, as files', async () => {
      const [first, second] = apis;
      const created = await call<PresetDto>(first.url, 'POST', '/api/strategies/presets', {
        headers: KEY,
        body: preset,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'Surge 1.2',
        strategy: 'volume_long_candle',
        params: { vol_ma_window: 20, vol_multiplier: 1.2, body_pct: 0.001, hold_period_bars: 1 },
        description: 'A small surge',
      });
      const file = join(
        resultsDir,
        'presets',
        `${createHash('sha256').update('Surge 1.2').digest('hex')}.json`,
      );
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(created.body);

      const again = await call(second.url, 'POST', '/api/strategies/presets', {
        headers: KEY,
        body: preset,
      });
      expect(again.status).toBe(409);
      const other = await call<PresetDto>(second.url, 'POST', '/api/strategies/presets', {
        headers: KEY,
        body: { ...preset, name: '돌파 v2', strategy: 'volume_zone_breakout', params: {} },
      });
      expect(other.status).toBe(201);

      const listed = await call<PresetDto[]>(second.url, 'GET', '/api/strategies/presets', {
        headers: KEY,
      });
      expect(listed.body.map((item) => item.name).sort()).toEqual(['Surge 1.2', '돌파 v2']);
      // Newest created first (the two may share a millisecond: then by name).
      const newestFirst = [...listed.body].sort((a, b) =>
        a.created_at === b.created_at
          ? a.name < b.name
            ? -1
            : 1
          : a.created_at < b.created_at
            ? 1
            : -1,
      );
      expect(listed.body).toEqual(newestFirst);
      const read = await call<PresetDto>(
        second.url,
        'GET',
        `/api/strategies/presets/${encodeURIComponent('Surge 1.2')}`,
        { headers: KEY },
      );
      expect(read.body).toEqual(created.body);

      const replaced = await call<PresetDto>(
        second.url,
        'PUT',
        `/api/strategies/presets/${encodeURIComponent('Surge 1.2')}`,
        { headers: KEY, body: { strategy: 'volume_long_candle', params: { vol_multiplier: 2 } } },
      );
      expect(replaced.status).toBe(200);
      expect(replaced.body).toMatchObject({
        description: null,
        created_at: created.body.created_at,
      });
      expect(replaced.body.params.vol_multiplier).toBe(2);
      const renamed = await call(
        first.url,
        'PUT',
        `/api/strategies/presets/${encodeURIComponent('Surge 1.2')}`,
        { headers: KEY, body: { name: 'Other', strategy: 'volume_long_candle' } },
      );
      expect(renamed.status).toBe(422);
      const missing = await call(first.url, 'PUT', '/api/strategies/presets/nope', {
        headers: KEY,
        body: { strategy: 'volume_long_candle' },
      });
      expect(missing.status).toBe(404);

      const deleted = await call(
        first.url,
        'DELETE',
        `/api/strategies/presets/${encodeURIComponent('돌파 v2')}`,
        {
          headers: KEY,
        },
      );
      expect(deleted.status).toBe(204);
      expect(
        (
          await call(
            second.url,
            'GET',
            `/api/strategies/presets/${encodeURIComponent('돌파 v2')}`,
            { headers: KEY },
          )
        ).status,
      ).toBe(404);
      expect(readdirSync(join(resultsDir, 'presets'))).toHaveLength(1);
    });

    it('refuses bad names and bodies naming every field', async () => {
      const [api] = apis;
      const bad = await call(api.url, 'POST', '/api/strategies/presets', {
        headers: KEY,
        body: { name: ' x', strategy: 'moon', params: {}, colour: 'red' },
      });
      expect(bad.status).toBe(422);
      expect(bad.body.errors?.map((p) => p.field).sort()).toEqual(['colour', 'name', 'strategy']);
    });

    it('runs a request that names a preset; its own params override the preset’s', async () => {
      const [api] = apis;
      const body = {
        preset: 'Surge 1.2',
        params: { hold_period_bars: 3 },
        symbols: ['DROP_B'],
        timeframe: '5M',
        start_date: '2024-01-01',
        end_date: '2024-01-05',
      };
      const run = await call<ResultDocument>(api.url, 'POST', '/api/backtests/run', {
        headers: KEY,
        body,
      });
      expect(run.status).toBe(200);
      expect(run.body.strategy).toBe('volume_long_candle');
      expect(run.body.params).toEqual({
        vol_ma_window: 20,
        vol_multiplier: 2,
        body_pct: 0.02,
        hold_period_bars: 3,
      });
      const clash = await call(api.url, 'POST', '/api/backtests/run-async', {
        headers: KEY,
        body: { ...body, strategy: 'volume_zone_breakout' },
      });
      expect(clash.status).toBe(422);
      expect(clash.body.errors?.[0].field).toBe('strategy');
      const unknown = await call(api.url, 'POST', '/api/backtests/run-async', {
        headers: KEY,
        body: { ...body, preset: 'Nope' },
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors?.[0].field).toBe('preset');
    });
  });

  describe('uploads (§10.8)', () => {
    const year = 2023;
    const candles = generateCandles({
      count: 500,
      startMs: Date.UTC(year, 0, 1),
      stepMs: TIMEFRAME_MS['1H'],
      seed: 5,
    });
    const csvOf = (rows: typeof candles, step = 1): string =>
      [
        'timestamp,open,high,low,close,volume',
        ...Array.from({ length: Math.floor(rows.length / step) }, (_, k) => {
          const i = k * step;
          return `${new Date(rows.timestamp[i]).toISOString()},${rows.open[i]},${rows.high[i]},${rows.low[i]},${rows.close[i]},${rows.volume[i]}`;
        }),
      ].join('\n');
    const upload = (
      fields: Record<string, string>,
      file?: { bytes: Buffer | string; name: string },
    ) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      if (file) form.append('file', new Blob([file.bytes]), file.name);
      return fetch(`${apis[0].url}/api/data/upload`, {
        method: 'POST',
        headers: KEY,
        body: form,
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as ErrorBody & { success: boolean; file_path?: string },
      }));
    };
    const target = (symbol: string) => join(dataRoot, symbol, '1H', `${year}.parquet`);

    it('stores a CSV as the year file, then refuses to overwrite it unless asked', async () => {
      const first = await upload(
        { symbol: 'up_csv', timeframe: '1h', year: String(year) },
        { bytes: csvOf(candles), name: 'candles.csv' },
      );
      expect(first).toEqual({
        status: 200,
        body: {
          success: true,
          message: expect.stringContaining('500 candles (csv)'),
          file_path: `UP_CSV/1H/${year}.parquet`,
        },
      });
      const stored = await readCandleFile(target('UP_CSV'));
      expect(Array.from(stored.close)).toEqual(Array.from(candles.close));
      const before = statSync(target('UP_CSV')).mtimeMs;
      const refused = await upload(
        { symbol: 'UP_CSV', timeframe: '1H', year: String(year) },
        { bytes: csvOf(candles), name: 'candles.csv' },
      );
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ success: false, statusCode: 409 });
      expect(statSync(target('UP_CSV')).mtimeMs).toBe(before);
      const replaced = await upload(
        { symbol: 'UP_CSV', timeframe: '1H', year: String(year), overwrite: 'true' },
        { bytes: csvOf(candles), name: 'candles.csv' },
      );
      expect(replaced.status).toBe(200);
    });

    it('stores a Parquet file as it is, told by its content whatever its name', async () => {
      const parquetPath = join(dir, 'upload.parquet');
      await writeCandleFile(parquetPath, candles);
      const response = await upload(
        { symbol: 'UP_PQ', timeframe: '1H', year: String(year) },
        { bytes: readFileSync(parquetPath), name: 'data.csv' },
      );
      expect(response.status).toBe(200);
      expect(readFileSync(target('UP_PQ')).equals(readFileSync(parquetPath))).toBe(true);
    });

    it('leaves nothing behind and replaces no good file when the upload is wrong', async () => {
      const good = await upload(
        { symbol: 'UP_BAD', timeframe: '1H', year: String(year) },
        { bytes: csvOf(candles), name: 'good.csv' },
      );
      expect(good.status).toBe(200);
      const goodBytes = readFileSync(target('UP_BAD'));
      const cases: Array<[Record<string, string>, string, number, RegExp]> = [
        // A year's candles labelled with another year: how many, the first one.
        [
          { year: String(year + 1) },
          csvOf(candles),
          422,
          /500 of 500 rows fall outside, the first at 2023-01-01T00:00:00.000Z/,
        ],
        // Hourly rows sent as 5-minute candles, and every other hour as 1H.
        [{ timeframe: '5M' }, csvOf(candles), 422, /5 minute\(s\) apart for timeframe 5M/],
        [{}, csvOf(candles, 2), 422, /closest two are 2 hour\(s\) apart/],
        [{}, 'not,a,candle\n1,2,3', 422, /readable candle file/],
        [{}, 'x'.repeat(2 * 1024 * 1024), 413, /UPLOAD_MAX_MB \(1 MB\)/],
      ];
      for (const [fields, bytes, status, message] of cases) {
        const response = await upload(
          { symbol: 'UP_BAD', timeframe: '1H', year: String(year), overwrite: 'true', ...fields },
          { bytes, name: 'bad.csv' },
        );
        expect({ status: response.status, success: response.body.success }).toEqual({
          status,
          success: false,
        });
        expect(response.body.message).toMatch(message);
        // SPEC §10.2: the drop-in client shows `detail` alone.
        expect(response.body.detail).toBe(response.body.message);
      }
      expect(readFileSync(target('UP_BAD')).equals(goodBytes)).toBe(true);
      expect(readdirSync(join(dataRoot, '.uploads'))).toEqual([]);
      const fields = await upload({ symbol: '../etc', timeframe: '7M', year: 'soon' });
      expect(fields.status).toBe(422);
      expect(fields.body.errors?.map((p) => p.field)).toEqual([
        'file',
        'symbol',
        'timeframe',
        'year',
      ]);
      expect(existsSync(join(dataRoot, '..', 'etc'))).toBe(false);
    });
  });

  it('allows the other origin every method, header and exposed header the client uses (§10.10)', async () => {
    const preflight = await fetch(`${apis[0].url}/api/strategies/presets/x`, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'content-type,x-api-key,prefer',
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const methods = preflight.headers
      .get('access-control-allow-methods')!
      .split(',')
      .map((m) => m.trim());
    expect(methods).toEqual(
      expect.arrayContaining(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
    );
    const headers = preflight.headers.get('access-control-allow-headers')!.toLowerCase();
    for (const header of ['content-type', 'x-api-key', 'prefer']) expect(headers).toContain(header);
    const response = await fetch(`${apis[0].url}/api/strategies`, {
      headers: { ...KEY, origin: ORIGIN },
    });
    const exposed = response.headers.get('access-control-expose-headers')!.toLowerCase();
    for (const header of ['location', 'retry-after', 'preference-applied', 'content-disposition']) {
      expect(exposed).toContain(header);
    }
  });

  it('serves a run’s trades as SPEC §12’s CSV, the same rows as the document', async () => {
    const run = await call<ResultDocument>(apis[0].url, 'POST', '/api/backtests/run', {
      headers: KEY,
      body: {
        strategy: 'volume_long_candle',
        params: { vol_multiplier: 1.1, body_pct: 0.001 },
        execution: { fee: 0.002, slippage: 0.001 },
        symbols: ['DROP_D', 'DROP_E'],
        timeframe: '5M',
        start_date: '2024-01-01',
        end_date: '2024-01-10',
      },
    });
    expect(run.body.total_signals).toBeGreaterThan(0);
    const csv = await fetch(`${apis[1].url}/api/backtests/${run.body.run_id}/trades.csv`, {
      headers: KEY,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(await csv.text()).toBe(tradesCsv(run.body));
    // The temp file it was streamed from goes as soon as it is open.
    await eventually(
      () => readdirSync(tmpdir()).filter((name) => name.startsWith('coin-trades-')).length === 0,
      5000,
      'the trades temp file removed',
    );
  });

  it('answers a failed synchronous run with status failed in its body (§10.9)', async () => {
    const response = await call<ErrorBody>(apis[0].url, 'POST', '/api/backtests/run', {
      headers: KEY,
      body: {
        strategy: 'volume_long_candle',
        symbols: ['NODATA_X'],
        timeframe: '5M',
        start_date: '2024-01-01',
        end_date: '2024-01-05',
      },
    });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 'failed', task_id: expect.any(String) });
    const accepted = await call<TaskAccepted>(apis[0].url, 'POST', '/api/backtests/run', {
      headers: { ...KEY, prefer: 'respond-async' },
      body: {
        strategy: 'volume_long_candle',
        symbols: ['DROP_C'],
        timeframe: '5M',
        start_date: '2024-01-01',
        end_date: '2024-01-02',
      },
    });
    expect(accepted.status).toBe(202);
  });
});
