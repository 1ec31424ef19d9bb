import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChartDocument, decodeDeltaSeconds } from '@app/backtest';
import { Manifest } from '@app/storage';
import type { CandleWindow } from '../apps/api/src/data/candle-window';
import { call, TaskAccepted, waitForTask } from './support/api-client';
import { AppProcess, startApp } from './support/app-process';
import { OpenApiDocument } from './support/openapi';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { sampleDataRoot } from './support/sample-data';
import { LONG_SYMBOLS, writeLongTaskData } from './support/task-harness';

/**
 * The routes the reports read (SPEC §14): a run's chart.json as the worker wrote it, and
 * windows of candles read on the API's reader threads while the event loop stays free.
 * The built API and worker, a private redis-server.
 */

jest.setTimeout(120_000);

const REQUEST = {
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC', 'LTC_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

describe('report data routes (real API, worker, Redis)', () => {
  let redis: PrivateRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let resultsDir: string;
  let dataRoot: string;
  let runId: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dataRoot = mkdtempSync(join(tmpdir(), 'coin-reports-data-'));
    // The sample data beside three years of one-minute candles (a big window to read).
    const { cpSync } = await import('node:fs');
    cpSync(await sampleDataRoot(), dataRoot, { recursive: true });
    await writeLongTaskData(dataRoot);
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-reports-results-'));
    const env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: 'reports-api',
      WORKER_CONCURRENCY: '1',
    };
    [api, worker] = await Promise.all([startApp('api', env), startApp('worker', env)]);
    const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
      body: REQUEST,
    });
    runId = submitted.body.task_id;
    expect((await waitForTask(api.url, runId)).status).toBe('completed');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([worker?.stop(), api?.stop()]);
    await redis?.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('serves chart.json as the worker wrote it, its md5 as the ETag, 304 when unchanged', async () => {
    const response = await call<ChartDocument>(
      api.url,
      'GET',
      `/api/backtests/${runId}/chart.json`,
    );
    expect(response.status).toBe(200);
    const onDisk = readFileSync(join(resultsDir, runId, 'chart.json'));
    expect(response.bytes.equals(onDisk)).toBe(true);
    const manifest = JSON.parse(
      readFileSync(join(resultsDir, runId, 'manifest.json'), 'utf8'),
    ) as Manifest;
    const listed = manifest.result_files.find((file) => file.name === 'chart.json')!;
    expect(listed.checksum).toBe(createHash('md5').update(onDisk).digest('hex'));
    expect(response.headers.get('etag')).toBe(`"${listed.checksum}"`);
    expect(response.body.symbols.map((symbol) => symbol.symbol)).toEqual(REQUEST.symbols);

    const again = await call(api.url, 'GET', `/api/backtests/${runId}/chart.json`, {
      headers: { 'if-none-match': `"${listed.checksum}"` },
    });
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
  });

  it('answers 404 for a run it does not know', async () => {
    const response = await call(
      api.url,
      'GET',
      '/api/backtests/00000000-0000-4000-8000-000000000000/chart.json',
    );
    expect(response.status).toBe(404);
    expect(response.body.message).toMatch(/No run/);
  });

  it('gives a window of candles, and 422 naming each bad field', async () => {
    const window = await call<CandleWindow>(
      api.url,
      'GET',
      '/api/data/candles?symbol=eth_btc&timeframe=5m&from=2018-01-12T00:00:00Z&to=2018-01-13T00:00:00Z&limit=10',
    );
    expect(window.status).toBe(200);
    expect(window.body).toMatchObject({ symbol: 'ETH_BTC', count: 10, truncated: true });
    expect(decodeDeltaSeconds(window.body.time)[0]).toBe(Date.UTC(2018, 0, 12) / 1000);

    const bad = await call(
      api.url,
      'GET',
      '/api/data/candles?symbol=a/b&timeframe=5m&from=soon&to=2018-01-13T00:00:00Z&limit=20001',
    );
    expect(bad.status).toBe(422);
    expect(bad.body.message).toMatch(/symbol/);
    expect(bad.body.message).toMatch(/from/);
    expect(bad.body.message).toMatch(/limit/);
  });

  it('reads a big window off the event loop: /health/live answers promptly meanwhile', async () => {
    // Three years of one-minute candles (three year files to decode), never read before.
    const path = `/api/data/candles?symbol=${LONG_SYMBOLS[1]}&timeframe=1M&from=2021-12-31T15:00:00Z&to=2024-12-31T15:00:00Z&limit=20000`;
    const started = performance.now();
    let windowMs = 0;
    const read = call<CandleWindow>(api.url, 'GET', path).then((response) => {
      windowMs = performance.now() - started;
      return response;
    });
    const probes: number[] = [];
    while (windowMs === 0) {
      const sent = performance.now();
      const live = await call(api.url, 'GET', '/health/live');
      expect(live.status).toBe(200);
      probes.push(performance.now() - sent);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const window = await read;
    expect(window.status).toBe(200);
    expect(window.body).toMatchObject({ count: 20_000, truncated: true });
    const slowest = Math.max(...probes);
    process.stdout.write(
      `candle window: ${windowMs.toFixed(0)} ms; /health/live meanwhile: ${probes.length} probes, slowest ${slowest.toFixed(1)} ms\n`,
    );
    // Relative, not timed: had the read run on the event loop, a probe sent while it ran
    // would have waited for most of it. Off the loop, every probe is a small fraction of the
    // read however fast the machine (a bar of 300 ms failed a quiet run at 299 ms).
    expect(probes.length).toBeGreaterThanOrEqual(3);
    expect(slowest).toBeLessThan(windowMs / 3);
    expect(slowest).toBeLessThan(150);
  });

  it('documents both routes in the OpenAPI document', async () => {
    const { body } = await call<OpenApiDocument>(api.url, 'GET', '/docs-json');
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/api/backtests/{id}/chart.json', '/api/data/candles']),
    );
  });
});
