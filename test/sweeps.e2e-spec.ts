import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Job, Queue } from 'bullmq';
import { parquetReadObjects } from 'hyparquet';
import { parseBacktestRequest, runBacktest } from '@app/backtest';
import { getStrategy } from '@app/strategies';
import { combinationParams, parseSweepRequest } from '@app/sweeps';
import { ApiResponse, call } from './support/api-client';
import { OpenApiDocument } from './support/openapi';
import { OpenApiValidator, SeenResponse } from './support/openapi-validator';
import { AppProcess, REPO_ROOT, startApp } from './support/app-process';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { openSse } from './support/sse';
import { eventually, sleep, writeSyntheticData } from './support/task-harness';

/**
 * Sweeps end to end (SPEC §13): real redis-server, the built API and two real worker
 * processes; sweeps submitted over HTTP, followed by SSE, read back as files.
 */

interface SweepView {
  sweep_id: string;
  status: string;
  progress: number;
  combinations: number;
  done: number;
  chunks: number;
  best: { index: number; params: Record<string, unknown>; score: number | null } | null;
  top: Array<{ index: number; score: number | null; in_sample?: unknown; out_of_sample?: unknown }>;
  validation: Record<string, unknown> | null;
  request: Record<string, unknown>;
  error: string | null;
}

const SAMPLE = {
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC', 'LTC_BTC', 'ADA_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

/** 2 × 9 × 4 × 3 = 216 combinations. */
const SAMPLE_GRID = {
  vol_ma_window: [10, 20],
  vol_multiplier: { from: 1, to: 3, step: 0.25 },
  body_pct: [0.002, 0.005, 0.01, 0.02],
  hold_period_bars: [1, 3, 6],
};

/** volume_zone_breakout on 2 × 100,000 one-minute candles: chunks of about a second each. */
const SLOW = {
  strategy: 'volume_zone_breakout',
  symbols: ['SLOW_A', 'SLOW_B'],
  timeframe: '1M',
  start_date: '2024-01-01',
  end_date: '2024-03-09',
};

describe('sweeps (real Redis, real worker processes)', () => {
  jest.setTimeout(240_000);
  let redis: PrivateRedis;
  let dir: string;
  let dataRoot: string;
  let resultsDir: string;
  let env: Record<string, string>;
  let api: AppProcess;
  const workers: AppProcess[] = [];

  const startWorker = async (): Promise<AppProcess> => {
    const worker = await startApp('worker', { ...env, WORKER_CONCURRENCY: '1' });
    workers.push(worker);
    return worker;
  };
  const submit = async (body: unknown) =>
    track<SweepView & { message?: string }>('POST', '/api/sweeps', { body });
  const read = async (id: string): Promise<SweepView> =>
    (await track<SweepView>('GET', `/api/sweeps/${id}`)).body;
  const chunkLines = (worker: AppProcess, id: string) =>
    worker.logLines().filter((line) => line.sweep_id === id && typeof line.chunk === 'number');

  /** Every answer of the API this file sees, checked against its OpenAPI document at the end. */
  const seen: SeenResponse[] = [];
  async function track<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown } = {},
  ): Promise<ApiResponse<T>> {
    const response = await call<T>(api.url, method, path, options);
    seen.push({
      method,
      path: path.split('?')[0],
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: response.body,
    });
    return response;
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dir = mkdtempSync(join(tmpdir(), 'coin-sweeps-'));
    dataRoot = join(dir, 'data');
    resultsDir = join(dir, 'results');
    for (const symbol of SAMPLE.symbols) {
      cpSync(join(REPO_ROOT, 'data', symbol), join(dataRoot, symbol), { recursive: true });
    }
    mkdirSync(join(dataRoot, 'BROKEN_BTC', '5M'), { recursive: true });
    writeFileSync(join(dataRoot, 'BROKEN_BTC', '5M', '2018.parquet'), 'this is not parquet');
    await writeSyntheticData(dataRoot, [
      { symbol: 'SLOW_A', timeframe: '1M', year: 2024, count: 100_000, seed: 11 },
      { symbol: 'SLOW_B', timeframe: '1M', year: 2024, count: 100_000, seed: 12 },
    ]);
    env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      MAX_SWEEP_COMBINATIONS: '300',
      // Short locks: a dead worker's chunk is back in the queue within one to two seconds.
      LOCK_DURATION_MS: '1000',
    };
    api = await startApp('api', env);
    await startWorker();
    await startWorker();
  });

  afterAll(async () => {
    await Promise.all([api, ...workers].map((app) => app?.stop('SIGKILL').catch(() => undefined)));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('216 combinations: progress only rises, and every row equals a single run of that combination', async () => {
    const body = {
      ...SAMPLE,
      grid: SAMPLE_GRID,
      execution: { fee: 0.001, positions: 'single' },
      objective: 'sharpe',
      top: 20,
    };
    const accepted = await submit(body);
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({
      sweep_id: expect.any(String),
      status: 'queued',
      combinations: 216,
    });
    const id = accepted.body.sweep_id;
    const stream = await openSse(`${api.url}/api/sweeps/${id}/events`);
    await stream.ended;
    const events = stream.events.map((event) => JSON.parse(event.data) as SweepView);
    const progress = events.map((event) => event.progress);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(events.at(-1)).toMatchObject({ status: 'completed', progress: 1, done: 216 });

    const sweep = await read(id);
    expect(sweep.request).toMatchObject({
      strategy: 'volume_long_candle',
      grid: SAMPLE_GRID,
      objective: 'sharpe',
    });
    expect(sweep.top).toHaveLength(20);
    expect(sweep.best?.index).toBe(sweep.top[0].index);

    const folder = join(resultsDir, 'sweeps', id);
    expect(readdirSync(folder).sort()).toEqual(['manifest.json', 'results.parquet', 'sweep.json']);
    const download = await track('GET', `/api/sweeps/${id}/results.parquet`);
    expect(download.status).toBe(200);
    const rows = await parquetReadObjects({ file: new Uint8Array(download.bytes).buffer });
    expect(rows).toHaveLength(216 * 3);
    expect(new Set(rows.map((row) => row.index as number)).size).toBe(216);
    // Each combination as a single run, in this process, over the same files.
    const plan = parseSweepRequest(body, 1000);
    const strategy = getStrategy('volume_long_candle')!;
    for (let index = 0; index < 216; index++) {
      const params = combinationParams(plan, strategy, index);
      const run = await runBacktest(
        parseBacktestRequest({ ...SAMPLE, params, execution: plan.request.execution }),
        {
          dataRoot,
          runId: 'x',
          origin: { environment: 'test', executionHost: 'here', workerId: null },
        },
      );
      for (const symbol of run.result.symbols) {
        const row = rows.find((r) => r.index === index && r.symbol === symbol.symbol)!;
        expect(row).toMatchObject({
          ...params,
          window: 'full',
          candles: symbol.candles,
          samples: symbol.samples,
          win_rate: symbol.win_rate,
          avg_return: symbol.avg_return,
          max_drawdown: symbol.max_drawdown,
          ...symbol.stats,
        });
      }
      const ranked = sweep.top.find((entry) => entry.index === index);
      if (ranked) expect(ranked.score).toBe(run.result.portfolio.sharpe);
    }
    // The catalogue lists it.
    const list = await track<{ items: Array<{ sweep_id: string; status: string }>; total: number }>(
      'GET',
      '/api/sweeps?status=completed',
    );
    expect(list.body.items.map((item) => item.sweep_id)).toContain(id);
    expect(list.body.items.find((item) => item.sweep_id === id)).toEqual({
      sweep_id: id,
      status: 'completed',
      strategy: 'volume_long_candle',
      symbols: SAMPLE.symbols,
      timeframe: '5M',
      start_date: SAMPLE.start_date,
      end_date: SAMPLE.end_date,
      combinations: 216,
      done: 216,
      progress: 1,
      objective: 'sharpe',
      created_at: expect.any(String),
      finished_at: expect.any(String),
      best: JSON.parse(JSON.stringify(sweep.best)),
      error: null,
    });
  });

  it('walk-forward and holdout: each fold’s choice, the compounded out-of-sample return, in- beside out-of-sample', async () => {
    const walk = await submit({
      ...SAMPLE,
      grid: { vol_multiplier: [1, 1.5, 2], body_pct: [0.005, 0.01] },
      validation: { method: 'walk_forward', folds: 3 },
    });
    const holdout = await submit({
      ...SAMPLE,
      grid: { vol_multiplier: [1, 1.5, 2], body_pct: [0.005, 0.01] },
      validation: { method: 'holdout', test_ratio: 0.3 },
    });
    await eventually(
      async () =>
        (await read(walk.body.sweep_id)).status === 'completed' &&
        (await read(holdout.body.sweep_id)).status === 'completed',
      60_000,
      'both sweeps complete',
    );
    const { validation } = await read(walk.body.sweep_id);
    expect(validation).toMatchObject({
      method: 'walk_forward',
      oos_total_return_pct: expect.any(Number),
    });
    const folds = validation!.folds as Array<{
      fold: number;
      params: unknown;
      in_sample: { total_return_pct: number };
      out_of_sample: { total_return_pct: number };
    }>;
    expect(folds.map((fold) => fold.fold)).toEqual([1, 2, 3]);
    const compounded =
      (folds.reduce((e, fold) => e * (1 + fold.out_of_sample.total_return_pct / 100), 1) - 1) * 100;
    expect(validation!.oos_total_return_pct).toBeCloseTo(compounded, 10);
    expect('efficiency' in validation!).toBe(true);
    const held = await read(holdout.body.sweep_id);
    expect(held.best).toMatchObject({
      in_sample: expect.any(Object),
      out_of_sample: expect.any(Object),
    });
    expect(held.validation).toMatchObject({
      method: 'holdout',
      windows: [
        { name: 'in_sample', end_date: '2018-01-24' },
        { name: 'out_of_sample', start_date: '2018-01-25' },
      ],
    });
  });

  it('a grid over MAX_SWEEP_COMBINATIONS is a 422 that gives the count; a bad value names the parameter', async () => {
    const tooMany = await submit({
      ...SAMPLE,
      grid: { vol_multiplier: { from: 1, to: 5, step: 0.01 } },
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.message).toMatch(/at most 300 combinations .*this grid gives 401/);
    const bad = await submit({ ...SAMPLE, grid: { body_pct: [0.01, 0.9] } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain(
      'grid.body_pct[1]: got 0.9; expected a number from 0.001 to 0.5',
    );
  });

  it('a chunk that fails fails the sweep with its reason; no files are written', async () => {
    const accepted = await submit({
      ...SAMPLE,
      symbols: ['ETH_BTC', 'BROKEN_BTC'],
      grid: { vol_multiplier: [1, 2] },
    });
    expect(accepted.status).toBe(202);
    const id = accepted.body.sweep_id;
    await eventually(async () => (await read(id)).status === 'failed', 30_000, 'the sweep fails');
    const sweep = await read(id);
    expect(sweep.error).toMatch(/^chunk 0 \(combinations 0–1\): .*BROKEN_BTC/);
    expect(existsSync(join(resultsDir, 'sweeps', id))).toBe(false);
    const list = await track<{
      items: Array<{ sweep_id: string; status: string; error: string | null }>;
    }>('GET', '/api/sweeps?status=failed');
    expect(list.body.items.find((item) => item.sweep_id === id)).toMatchObject({
      status: 'failed',
      error: sweep.error,
    });
  });

  it('a sweep splits over both workers; kill -9 of one mid-chunk: it completes with every combination once', async () => {
    const grid = {
      volume_window: [30, 60, 90, 120],
      top_percentile: [0.1, 0.2, 0.3, 0.4],
      breakout_buffer: [0, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03],
    };
    const accepted = await submit({ ...SLOW, grid });
    expect(accepted.status).toBe(202);
    const id = accepted.body.sweep_id;
    const stream = await openSse(`${api.url}/api/sweeps/${id}/events`);
    const { chunks } = await read(id);
    expect(chunks).toBeGreaterThanOrEqual(4);
    // The victim finishes a chunk (both workers share the sweep), takes the next, and dies in it.
    const [survivor, victim] = workers;
    await eventually(
      () => chunkLines(victim, id).length >= 1,
      60_000,
      'a chunk done on the second worker',
    );
    victim.child.kill('SIGKILL');
    await victim.exited;
    await eventually(
      async () => (await read(id)).status !== 'running' && (await read(id)).status !== 'queued',
      120_000,
      'the sweep ends',
    );
    const sweep = await read(id);
    expect(sweep).toMatchObject({ status: 'completed', done: 128, progress: 1, error: null });
    // Progress over the stream: a step per chunk counted, never back, the rerun not counted twice.
    await stream.ended;
    const progress = stream.events.map((event) => (JSON.parse(event.data) as SweepView).progress);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(new Set(progress).size).toBeGreaterThanOrEqual(3);
    expect(progress.at(-1)).toBe(1);
    expect(chunkLines(survivor, id).length).toBeGreaterThanOrEqual(1);
    // The chunk the victim died in went back to the queue and ran again on the survivor.
    const stalled = survivor
      .logLines()
      .filter((line) => line.stalled === true && String(line.job_id).startsWith(id));
    expect(stalled.length).toBeGreaterThanOrEqual(1);
    // Each chunk counted once: the chunks finished (logged) add up to the sweep's, none twice.
    const finished = [...chunkLines(survivor, id), ...chunkLines(victim, id)].map(
      (line) => line.chunk,
    );
    expect(new Set(finished).size).toBe(chunks);
    expect(finished).toHaveLength(chunks);
    const rows = await parquetReadObjects({
      file: new Uint8Array(readFileSync(join(resultsDir, 'sweeps', id, 'results.parquet'))).buffer,
    });
    const keys = rows.map((row) => `${String(row.index)}/${String(row.symbol)}`);
    expect(keys).toHaveLength(128 * 2);
    expect(new Set(keys).size).toBe(128 * 2);
    workers.splice(1, 1);
    await startWorker();
  });

  it('cancel mid-sweep: every chunk stops, no result files remain, a second cancel is a 409', async () => {
    const accepted = await submit({
      ...SLOW,
      grid: {
        volume_window: [20, 40, 60, 80, 100, 120, 140, 160],
        top_percentile: [0.1, 0.2, 0.3],
        breakout_buffer: [0, 0.005, 0.01, 0.02, 0.03],
      },
    });
    const id = accepted.body.sweep_id;
    await eventually(async () => (await read(id)).done > 0, 60_000, 'a chunk done');
    // Listed as running once it runs, not only at submit (queued) and at its end.
    const running = await track<{ items: Array<{ sweep_id: string }> }>(
      'GET',
      '/api/sweeps?status=running',
    );
    expect(running.body.items.map((item) => item.sweep_id)).toContain(id);
    const cancelled = await track<SweepView>('DELETE', `/api/sweeps/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const doneAtCancel = cancelled.body.done;
    // The chunk jobs not yet taken are gone at once, though chunks were running (holding
    // their locks) when the cancel came.
    const queue = new Queue('backtests-sweeps', { connection: { url: redis.url } });
    try {
      const waiting = await queue.getJobs(['waiting', 'prioritized', 'delayed']);
      expect(waiting.filter((job) => (job.data as { sweep_id?: string }).sweep_id === id)).toEqual(
        [],
      );
    } finally {
      await queue.close();
    }
    // Within a moment no worker works on it any more.
    await sleep(2500);
    const lines = () => workers.reduce((sum, worker) => sum + chunkLines(worker, id).length, 0);
    const settled = lines();
    await sleep(2000);
    expect(lines()).toBe(settled);
    const after = await read(id);
    expect(after).toMatchObject({ status: 'cancelled', done: doneAtCancel });
    expect(after.done).toBeLessThan(after.combinations);
    expect(existsSync(join(resultsDir, 'sweeps', id))).toBe(false);
    expect((await track('DELETE', `/api/sweeps/${id}`)).status).toBe(409);
  });

  it('a sweep whose state expired while it waited is made again from its job and completes', async () => {
    // Its own queue name and a 1 s TTL: no worker of the other tests takes it.
    const shortEnv = { ...env, QUEUE_NAME: 'short', TASK_TTL_S: '1' };
    const shortApi = await startApp('api', shortEnv);
    workers.push(shortApi);
    const client = new Redis(redis.url);
    try {
      const accepted = await call<SweepView>(shortApi.url, 'POST', '/api/sweeps', {
        body: { ...SAMPLE, grid: { vol_multiplier: [1, 2], body_pct: [0.005, 0.01] } },
      });
      expect(accepted.status).toBe(202);
      const id = accepted.body.sweep_id;
      await eventually(
        async () => (await client.exists(`sweep:${id}`)) === 0,
        10_000,
        'the hash expires',
      );
      const worker = await startApp('worker', { ...shortEnv, WORKER_CONCURRENCY: '1' });
      workers.push(worker);
      await eventually(
        async () =>
          (await call<SweepView>(shortApi.url, 'GET', `/api/sweeps/${id}`)).body.status ===
          'completed',
        30_000,
        'the sweep completes',
      );
      const sweep = (await call<SweepView>(shortApi.url, 'GET', `/api/sweeps/${id}`)).body;
      expect(sweep).toMatchObject({ status: 'completed', combinations: 4, done: 4, progress: 1 });
      expect(existsSync(join(resultsDir, 'sweeps', id, 'results.parquet'))).toBe(true);
      expect(
        worker
          .logLines()
          .some(
            (line) => line.sweep_id === id && String(line.msg).includes('made again from the job'),
          ),
      ).toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it('a full sweeps queue is a 503 with Retry-After; a queued sweep whose hash expired is still cancelled', async () => {
    // Its own queue, which no worker takes: the chunk jobs stay waiting.
    const idleEnv = { ...env, QUEUE_NAME: 'idle', MAX_QUEUED_TASKS: '1' };
    const idleApi = await startApp('api', idleEnv);
    workers.push(idleApi);
    const client = new Redis(redis.url);
    const queue = new Queue('idle-sweeps', { connection: { url: redis.url } });
    const body = {
      ...SLOW,
      grid: { volume_window: [20, 40, 60, 80], top_percentile: [0.1, 0.2, 0.3] },
    };
    try {
      const first = await call<SweepView>(idleApi.url, 'POST', '/api/sweeps', { body });
      expect(first.status).toBe(202);
      const id = first.body.sweep_id;
      const sweep = (await call<SweepView>(idleApi.url, 'GET', `/api/sweeps/${id}`)).body;
      expect(sweep.chunks).toBeGreaterThanOrEqual(1); // waiting: the queue is full
      const full = await call<{ message: string }>(idleApi.url, 'POST', '/api/sweeps', { body });
      expect(full.status).toBe(503);
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      // The hash gone (TASK_TTL_S passed while it waited): the catalogue row is its state.
      await client.del(`sweep:${id}`);
      const cancelled = await call<SweepView>(idleApi.url, 'DELETE', `/api/sweeps/${id}`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect((await call<SweepView>(idleApi.url, 'GET', `/api/sweeps/${id}`)).body.status).toBe(
        'cancelled',
      );
      expect(await queue.getJobCounts('waiting', 'prioritized', 'delayed')).toEqual({
        waiting: 0,
        prioritized: 0,
        delayed: 0,
      });
      expect((await call(idleApi.url, 'DELETE', `/api/sweeps/${id}`)).status).toBe(409);
      // Room again.
      expect((await call(idleApi.url, 'POST', '/api/sweeps', { body })).status).toBe(202);
    } finally {
      await queue.close();
      client.disconnect();
    }
  });

  it('a transient fault while the finished sweep is written is tried again, and it completes', async () => {
    const sweeps = join(resultsDir, 'sweeps');
    const aside = join(resultsDir, 'sweeps.aside');
    // `sweeps` a file for a moment: writing the sweep's folder fails (ENOTDIR), as a busy or
    // briefly unwritable disk would.
    mkdirSync(sweeps, { recursive: true });
    renameSync(sweeps, aside);
    writeFileSync(sweeps, 'not a folder');
    const queue = new Queue('backtests-sweeps', { connection: { url: redis.url } });
    let id = '';
    try {
      const accepted = await submit({
        ...SAMPLE,
        grid: { vol_multiplier: [1, 2], body_pct: [0.005] },
      });
      expect(accepted.status).toBe(202);
      id = accepted.body.sweep_id;
      await eventually(
        async () => ((await Job.fromId(queue, id))?.attemptsMade ?? 0) >= 1,
        60_000,
        'the first try of the parent fails',
      );
    } finally {
      rmSync(sweeps, { force: true });
      renameSync(aside, sweeps);
      await queue.close();
    }
    await eventually(
      async () => (await read(id)).status !== 'running' && (await read(id)).status !== 'queued',
      30_000,
      'the sweep ends',
    );
    expect(await read(id)).toMatchObject({ status: 'completed', done: 2, error: null });

    // results.parquet is never served through a link: a 404 in JSON, not the linked file.
    const file = join(sweeps, id, 'results.parquet');
    renameSync(file, `${file}.real`);
    symlinkSync(`${file}.real`, file);
    const linked = await track<{ message: string }>('GET', `/api/sweeps/${id}/results.parquet`);
    expect(linked.status).toBe(404);
    expect(linked.headers.get('content-type')).toContain('application/json');
  });

  it('every answer above agrees with the OpenAPI document (statuses, content types, schemas)', async () => {
    // A few more statuses of the sweeps routes: 404s and a 400.
    await track('GET', '/api/sweeps/0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3');
    await track('GET', '/api/sweeps/0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3/results.parquet');
    await track('DELETE', '/api/sweeps/0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3');
    const document = (await call<OpenApiDocument>(api.url, 'GET', '/docs-json')).body;
    const validator = new OpenApiValidator(document);
    const statuses = new Set(seen.map((response) => `${response.method} ${response.status}`));
    expect([...statuses].sort()).toEqual(
      expect.arrayContaining([
        'DELETE 200',
        'DELETE 404',
        'DELETE 409',
        'GET 200',
        'GET 404',
        'POST 202',
        'POST 422',
      ]),
    );
    expect(seen.flatMap((response) => validator.problems(response))).toEqual([]);
  });
});
