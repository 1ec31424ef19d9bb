import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { ResultDocument } from '@app/backtest';
import { Manifest } from '@app/storage';
import type { ErrorBody } from '../apps/api/src/http/error-response';
import type { HistoryPageDto } from '../apps/api/src/backtests/history.dto';
import {
  call,
  cliBacktest,
  comparableResult,
  TaskAccepted,
  TaskState,
  waitForTask,
} from './support/api-client';
import { AppProcess, startApp } from './support/app-process';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { OpenApiDocument, runAsyncExample } from './support/openapi';
import { SAMPLE_SYMBOLS, sampleDataRoot } from './support/sample-data';
import { eventually, linkSymbols, writeSyntheticData } from './support/task-harness';
import { openSse } from './support/sse';

/**
 * The API's backtest endpoints end to end (SPEC §4–§7): the built API over HTTP, a private
 * redis-server, and the real worker process computing what the API queues.
 */

jest.setTimeout(60_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SYNC_TIMEOUT_S = 5;
const QUEUE_NAME = 'api-e2e';

/** Long enough to cancel mid-run: ~1.5 s per symbol (a 500-bar profile over 100,000 bars). */
const LONG_REQUEST = {
  strategy: 'volume_zone_breakout',
  params: { volume_window: 500 },
  symbols: ['LONG_A', 'LONG_B', 'LONG_C', 'LONG_D'],
  timeframe: '5M',
  start_date: '2024-01-01',
  end_date: '2024-12-31',
};

const REQUEST = {
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC', 'LTC_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

describe('API backtests end to end (real Redis, real worker)', () => {
  let redis: PrivateRedis;
  let api: AppProcess;
  let worker: AppProcess | undefined;
  let dataRoot: string;
  let resultsDir: string;
  let env: Record<string, string>;
  let queue: Queue;
  /** The task of a synchronous run that answered 202: it completes once a worker runs. */
  let pendingSyncTask: string;

  const manifestOf = (id: string): Manifest =>
    JSON.parse(readFileSync(join(resultsDir, id, 'manifest.json'), 'utf8')) as Manifest;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    // The sample data plus a long synthetic series, in a data root of this file's own.
    dataRoot = mkdtempSync(join(tmpdir(), 'coin-api-data-'));
    const sample = await sampleDataRoot();
    for (const symbol of SAMPLE_SYMBOLS)
      cpSync(join(sample, symbol), join(dataRoot, symbol), { recursive: true });
    await writeSyntheticData(dataRoot, [
      { symbol: 'LONG_A', timeframe: '5M', year: 2024, count: 100_000, seed: 7 },
    ]);
    await linkSymbols(dataRoot, 'LONG_A', '5M', 2024, LONG_REQUEST.symbols.slice(1));
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-api-results-'));
    env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      QUEUE_NAME,
      SYNC_TIMEOUT_S: String(SYNC_TIMEOUT_S),
      WORKER_CONCURRENCY: '2',
    };
    api = await startApp('api', env);
    queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
  }, 60_000);

  afterAll(async () => {
    await queue?.close();
    await worker?.stop();
    await api?.stop();
    await redis?.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
    rmSync(dataRoot, { recursive: true, force: true });
  });

  describe('before any worker runs', () => {
    it('queues a task: 202 with its id, then cancels it while queued (job removed, folder says cancelled)', async () => {
      const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
        body: REQUEST,
      });
      expect(submitted.status).toBe(202);
      const taskId: string = submitted.body.task_id;
      expect(submitted.body).toEqual({
        task_id: expect.stringMatching(UUID),
        status: 'queued',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      expect(submitted.headers.get('location')).toBe(`/api/backtests/status/${taskId}`);
      expect(await queue.getJob(taskId)).toBeDefined();

      const status = await call<TaskState>(api.url, 'GET', `/api/backtests/status/${taskId}`);
      expect(status.body).toEqual({
        task_id: taskId,
        status: 'queued',
        progress: 0,
        result: null,
        error: null,
      });

      const cancelled = await call<TaskState>(api.url, 'DELETE', `/api/backtests/tasks/${taskId}`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body).toMatchObject({ task_id: taskId, status: 'cancelled', result: null });
      expect(cancelled.body.error).toMatch(/cancel/i);
      expect(await queue.getJob(taskId)).toBeUndefined();
      expect(manifestOf(taskId)).toMatchObject({
        task_id: taskId,
        status: 'cancelled',
        result_files: [],
      });
      expect(existsSync(join(resultsDir, taskId, 'result.json'))).toBe(false);

      const again = await call(api.url, 'DELETE', `/api/backtests/tasks/${taskId}`);
      expect(again.status).toBe(409);
      expect(again.body.message).toContain('cancelled');

      const result = await call(api.url, 'GET', `/api/backtests/${taskId}`);
      expect(result.status).toBe(404);
      expect(result.body.message).toMatch(/no result: it was cancelled/);

      const history = await call<HistoryPageDto>(
        api.url,
        'GET',
        '/api/backtests/history?status=cancelled',
      );
      expect(history.body.items.map((item) => item.task_id)).toContain(taskId);
    });

    it('answers a synchronous run that outlasts SYNC_TIMEOUT_S with 504, status running and the task to follow (SPEC §10.9)', async () => {
      const started = Date.now();
      const response = await call<ErrorBody>(api.url, 'POST', '/api/backtests/run', {
        body: REQUEST,
      });
      expect(response.status).toBe(504);
      expect(Date.now() - started).toBeGreaterThanOrEqual(SYNC_TIMEOUT_S * 1000 - 100);
      const taskId = response.body.task_id!;
      expect(response.body).toMatchObject({
        statusCode: 504,
        error: 'Gateway Timeout',
        task_id: expect.stringMatching(UUID),
        status: 'running',
        status_url: `/api/backtests/status/${taskId}`,
      });
      expect(response.body.message).toMatch(/still queued after SYNC_TIMEOUT_S; it goes on/);
      expect(response.headers.get('location')).toBe(`/api/backtests/status/${taskId}`);
      // Counted apart from faults, so a 5xx alert can leave it out.
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(metrics).toMatch(/backtest_sync_runs_total\{outcome="still_running"\} 1/);
      pendingSyncTask = taskId;
    });

    it('answers at once with Prefer: respond-async: 202, the task, Preference-Applied', async () => {
      const response = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run', {
        body: REQUEST,
        headers: { prefer: 'respond-async, wait=100' },
      });
      expect(response.status).toBe(202);
      expect(response.headers.get('preference-applied')).toBe('respond-async');
      expect(response.body).toEqual({
        task_id: expect.stringMatching(UUID),
        status: 'queued',
        created_at: expect.any(String),
      });
      expect(response.headers.get('location')).toBe(
        `/api/backtests/status/${response.body.task_id}`,
      );
      await call(api.url, 'DELETE', `/api/backtests/tasks/${response.body.task_id}`);
    });

    it('streams a task from queued to completed as Server-Sent Events, then ends the stream', async () => {
      const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
        body: { ...REQUEST, symbols: ['ETH_BTC', 'LTC_BTC', 'ADA_BTC'] },
      });
      const taskId: string = submitted.body.task_id;
      const stream = await openSse(`${api.url}/api/backtests/status/${taskId}/events`);
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      await stream.waitForEvents(1);

      worker = await startApp('worker', env);
      await stream.ended;

      const states = stream.events.map((event) => JSON.parse(event.data) as TaskState);
      expect(states[0]).toEqual({
        task_id: taskId,
        status: 'queued',
        progress: 0,
        result: null,
        error: null,
      });
      const last = states[states.length - 1];
      expect(last.status).toBe('completed');
      expect(last.progress).toBe(1);
      expect(states.map((state) => state.status)).toContain('running');
      // One event per change, in order: the lifecycle never goes back, progress never falls.
      const stage: Record<string, number> = { queued: 0, running: 1, completed: 2 };
      for (let i = 1; i < states.length; i++) {
        expect(stage[states[i].status]).toBeGreaterThanOrEqual(stage[states[i - 1].status]);
        expect(states[i].progress).toBeGreaterThanOrEqual(states[i - 1].progress);
        expect(states[i]).not.toEqual(states[i - 1]);
      }
      expect(states.slice(0, -1).every((state) => state.result === null)).toBe(true);
      expect(stream.events.map((event) => Number(event.id))).toEqual(states.map((_, i) => i + 1));
      const stored = await call<ResultDocument>(api.url, 'GET', `/api/backtests/${taskId}`);
      expect(last.result).toEqual(stored.body);

      // A finished task's stream is its final state and nothing else.
      const replay = await openSse(`${api.url}/api/backtests/status/${taskId}/events`);
      await replay.ended;
      expect(replay.events.map((event) => JSON.parse(event.data) as TaskState)).toEqual([last]);
    });

    it('completes the synchronous run that answered 202 once a worker is there', async () => {
      const final = await waitForTask(api.url, pendingSyncTask);
      expect(final.status).toBe('completed');
      expect(final.result?.run_id).toBe(pendingSyncTask);
    });
  });

  describe('with a worker', () => {
    it('runs synchronously and returns the same result document as the CLI', async () => {
      const response = await call<ResultDocument>(api.url, 'POST', '/api/backtests/run', {
        body: REQUEST,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const document = response.body;
      expect(document).toMatchObject({
        version: '1.2.0',
        run_id: expect.stringMatching(UUID),
        strategy: 'volume_long_candle',
        params: { vol_ma_window: 20, vol_multiplier: 1.5, body_pct: 0.02, hold_period_bars: 1 },
        symbols_failed: [],
      });
      expect(document.symbols.map((symbol) => symbol.symbol)).toEqual(REQUEST.symbols);
      expect(comparableResult(document)).toEqual(comparableResult(cliBacktest(dataRoot, REQUEST)));
      expect(manifestOf(document.run_id).status).toBe('completed');
    });

    it('runs asynchronously with the CLI’s numbers; status, result and download agree', async () => {
      const request = {
        strategy: 'volume_zone_breakout',
        params: { volume_window: 30, top_percentile: 0.3, hold_period_bars: 3 },
        symbols: ['eth_btc', 'LTC_BTC', 'ADA_BTC', 'NONE_BTC'],
        timeframe: '5m',
        start_date: '2018-01-12',
        end_date: '2018-01-25',
      };
      const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
        body: request,
      });
      expect(submitted.status).toBe(202);
      const taskId = submitted.body.task_id;
      const final = await waitForTask(api.url, taskId);
      expect(final).toMatchObject({
        task_id: taskId,
        status: 'completed',
        progress: 1,
        error: null,
      });
      const document = final.result!;
      expect(document.symbols_failed).toEqual([
        { symbol: 'NONE_BTC', reason: expect.stringContaining('No candles') },
      ]);
      expect(document.total_signals).toBeGreaterThan(0);
      expect(comparableResult(document)).toEqual(comparableResult(cliBacktest(dataRoot, request)));

      const stored = await call<ResultDocument>(api.url, 'GET', `/api/backtests/${taskId}`);
      expect(stored.status).toBe(200);
      expect(stored.body).toEqual(document);

      const download = await call(api.url, 'GET', `/api/backtests/${taskId}/download`);
      expect(download.status).toBe(200);
      expect(download.headers.get('content-disposition')).toBe(
        `attachment; filename="backtest-${taskId}.json"`,
      );
      expect(download.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Number(download.headers.get('content-length'))).toBe(download.bytes.length);
      const md5 = createHash('md5').update(download.bytes).digest('hex');
      const [resultFile] = manifestOf(taskId).result_files;
      expect(md5).toBe(resultFile.checksum);
      expect(download.bytes.length).toBe(resultFile.size_bytes);
      expect(download.headers.get('etag')).toBe(`"${md5}"`);
      expect(JSON.parse(download.text)).toEqual(document);

      const latest = await call<ResultDocument>(api.url, 'GET', '/api/backtests/latest');
      expect(latest.status).toBe(200);
      expect(latest.body.run_id).toBe(taskId);
    });

    it('answers a synchronous run without data with 404 and records the run as failed', async () => {
      const response = await call(api.url, 'POST', '/api/backtests/run', {
        body: { ...REQUEST, start_date: '2019-03-01', end_date: '2019-03-02' },
      });
      expect(response.status).toBe(404);
      expect(response.body.message).toMatch(/No data found for symbols \[ETH_BTC, LTC_BTC\]/);
      const taskId = /Task ([0-9a-f-]{36})/.exec(response.body.message)?.[1] ?? '';
      const status = await call<TaskState>(api.url, 'GET', `/api/backtests/status/${taskId}`);
      expect(status.body).toMatchObject({ status: 'failed', result: null });
      expect(status.body.error).toMatch(/No data found/);
      const result = await call(api.url, 'GET', `/api/backtests/${taskId}`);
      expect(result.status).toBe(404);
      expect(result.body.message).toMatch(/no result: it failed: No data found/);
      const cancel = await call(api.url, 'DELETE', `/api/backtests/tasks/${taskId}`);
      expect(cancel.status).toBe(409);
      expect(cancel.body.message).toContain('failed');
    });

    it('cancels a running task: 202, its worker stops it and records it cancelled without a result', async () => {
      const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
        body: LONG_REQUEST,
      });
      const taskId = submitted.body.task_id;
      await eventually(
        async () =>
          (await call<TaskState>(api.url, 'GET', `/api/backtests/status/${taskId}`)).body.status ===
          'running',
        20_000,
        'the long task to start',
      );
      const cancelled = await call<TaskState>(api.url, 'DELETE', `/api/backtests/tasks/${taskId}`);
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toMatchObject({ task_id: taskId, status: 'cancelled', result: null });
      await eventually(
        () => existsSync(join(resultsDir, taskId, 'manifest.json')),
        20_000,
        'the worker to record the cancelled run',
      );
      expect(manifestOf(taskId).status).toBe('cancelled');
      expect(existsSync(join(resultsDir, taskId, 'result.json'))).toBe(false);
      const status = await call<TaskState>(api.url, 'GET', `/api/backtests/status/${taskId}`);
      expect(status.body).toMatchObject({ status: 'cancelled', result: null });
      expect(status.body.progress).toBeLessThan(1);
    });

    it('runs the example of the OpenAPI document to completion (Swagger UI "Try it out")', async () => {
      const document = (await call<OpenApiDocument>(api.url, 'GET', '/docs-json')).body;
      const example = runAsyncExample(document);
      const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
        body: example,
      });
      expect(submitted.status).toBe(202);
      const final = await waitForTask(api.url, submitted.body.task_id);
      expect(final.status).toBe('completed');
      expect(final.result?.symbols.length).toBeGreaterThan(0);
    });
  });
});
