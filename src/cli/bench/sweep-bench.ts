import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { candleFileLocation, generateCandles, writeCandleFile } from '@app/data';
import { freePort, startRedis, stopChild, waitForPort } from './bench-processes';

/**
 * `npm run bench:sweep` (SPEC §13's figures): combinations/s of one sweep per strategy, side
 * by side in one run: `cli sweep` on one and two threads (the time it reports itself, without
 * the process start), then through the queue (the built API and worker processes on a
 * private Redis, WORKER_CONCURRENCY=1 each) with one worker and with two, from POST to the
 * completed state. One symbol × one year of one-minute candles (525,600, seeded).
 */

const DIST = join(__dirname, '..', '..', '..');
const CLI = join(DIST, 'src', 'cli', 'main.js');
const API_MAIN = join(DIST, 'apps', 'api', 'src', 'main.js');
const WORKER_MAIN = join(DIST, 'apps', 'worker', 'src', 'main.js');

const RANGE = {
  symbols: ['BENCH_BTC'],
  timeframe: '1M',
  start_date: '2024-01-01',
  end_date: '2024-12-31',
};
const CASES = [
  {
    strategy: 'volume_long_candle',
    // 5 × 10 × 4 × 5 = 1,000 combinations.
    grid: {
      vol_ma_window: [10, 20, 30, 40, 50],
      vol_multiplier: { from: 1, to: 3.25, step: 0.25 },
      body_pct: [0.005, 0.01, 0.02, 0.03],
      hold_period_bars: [1, 3, 6, 12, 24],
    },
  },
  {
    strategy: 'volume_zone_breakout',
    // 5 × 4 × 5 = 100 combinations.
    grid: {
      volume_window: [30, 60, 90, 120, 150],
      top_percentile: [0.1, 0.2, 0.3, 0.4],
      breakout_buffer: [0, 0.005, 0.01, 0.02, 0.03],
    },
  },
];

interface Figures {
  strategy: string;
  combinations: number;
  cli_1_thread: number;
  cli_2_threads: number;
  queue_1_worker: number;
  queue_2_workers: number;
  two_workers_over_one: number;
  queue_overhead_vs_cli_1_thread: number;
}

function cliRate(
  dataRoot: string,
  strategy: string,
  grid: unknown,
  workers: number,
): { combinations: number; rate: number } {
  const result = spawnSync(
    process.execPath,
    [
      CLI,
      'sweep',
      '--strategy',
      strategy,
      '--symbols',
      RANGE.symbols.join(','),
      '--timeframe',
      RANGE.timeframe,
      '--start',
      RANGE.start_date,
      '--end',
      RANGE.end_date,
      '--grid',
      JSON.stringify(grid),
      '--workers',
      String(workers),
      '--data-root',
      dataRoot,
      '--json',
    ],
    {
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '' },
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const match = /(\d+) combinations in ([\d.]+) s/.exec(result.stderr);
  if (result.status !== 0 || !match) throw new Error(`cli sweep failed: ${result.stderr}`);
  return { combinations: Number(match[1]), rate: Number(match[1]) / Number(match[2]) };
}

async function startApp(
  main: string,
  portVariable: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      ENV_FILE: '',
      LOG_LEVEL: 'warn',
      ...env,
      [portVariable]: String(port),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, child);
  return { child, port };
}

async function queueRate(apiUrl: string, strategy: string, grid: unknown): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${apiUrl}/api/sweeps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ strategy, grid, ...RANGE }),
  });
  const accepted = (await response.json()) as { sweep_id: string; combinations: number };
  if (response.status !== 202) throw new Error(`POST /api/sweeps: ${JSON.stringify(accepted)}`);
  for (;;) {
    const state = (await (await fetch(`${apiUrl}/api/sweeps/${accepted.sweep_id}`)).json()) as {
      status: string;
      error: string | null;
    };
    if (state.status === 'completed') break;
    if (state.status !== 'queued' && state.status !== 'running')
      throw new Error(`sweep ${state.status}: ${state.error}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return accepted.combinations / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'coin-bench-sweep-'));
  const dataRoot = join(dir, 'data');
  const children: ChildProcess[] = [];
  const redis = await startRedis(join(dir, 'redis'));
  try {
    const candles = generateCandles({
      count: 525_600,
      startMs: Date.UTC(2023, 11, 31, 15),
      stepMs: 60_000,
      seed: 42,
    });
    await writeCandleFile(
      candleFileLocation(dataRoot, 'BENCH_BTC', '1M', 2024).absolutePath,
      candles,
    );
    const env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: join(dir, 'results'),
      WORKER_CONCURRENCY: '1',
    };
    const api = await startApp(API_MAIN, 'PORT', env);
    children.push(api.child);
    const apiUrl = `http://127.0.0.1:${api.port}`;
    const figures: Figures[] = [];
    const workers: ChildProcess[] = [];
    const measured = new Map<string, Partial<Figures>>();
    for (const { strategy, grid } of CASES) {
      const one = cliRate(dataRoot, strategy, grid, 1);
      const two = cliRate(dataRoot, strategy, grid, 2);
      measured.set(strategy, {
        strategy,
        combinations: one.combinations,
        cli_1_thread: one.rate,
        cli_2_threads: two.rate,
      });
    }
    for (const count of [1, 2]) {
      while (workers.length < count) {
        const worker = await startApp(WORKER_MAIN, 'WORKER_HEALTH_PORT', env);
        workers.push(worker.child);
        children.push(worker.child);
      }
      for (const { strategy, grid } of CASES) {
        // A first sweep warms the workers' candle caches and code, as a running service's are.
        await queueRate(apiUrl, strategy, grid);
        const rate = await queueRate(apiUrl, strategy, grid);
        measured.get(strategy)![count === 1 ? 'queue_1_worker' : 'queue_2_workers'] = rate;
      }
    }
    for (const partial of measured.values()) {
      const row = partial as Figures;
      row.two_workers_over_one = row.queue_2_workers / row.queue_1_worker;
      row.queue_overhead_vs_cli_1_thread = 1 - row.queue_1_worker / row.cli_1_thread;
      figures.push(row);
    }
    const round = (value: number): number => Math.round(value * 100) / 100;
    process.stdout.write(
      `${JSON.stringify({ cpus: cpus().length, candles: 525_600, figures: figures.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]))) }, null, 2)}\n`,
    );
  } finally {
    await Promise.all(children.map((child) => stopChild(child)));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
