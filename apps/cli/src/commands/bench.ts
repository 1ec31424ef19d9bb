import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '@app/common';
import { parseFlags } from '../args';
import { benchAgainstDuckDb } from '../bench/duckdb-bench';
import { benchHttp } from '../bench/http-bench';
import { benchParquetLoad } from '../bench/parquet-bench';
import { benchQueue } from '../bench/queue-bench';
import { benchStrategies } from '../bench/strategy-bench';

export const BENCH_HELP = `Usage: cli bench [--runs N] [--candles N] [--seed N] [--files N]
       cli bench --queue [--tasks N] [--latency-tasks N] [--rounds N] [--concurrency N] [--results-dir DIR]
       cli bench --http [--rounds N] [--duration S] [--connections N] [--cpu-prof DIR] [--baseline DIR]

Benchmarks on seeded one-minute candles (a year = 525,600 per symbol) and prints JSON:
  strategies             candles/s of each strategy on in-memory arrays, one thread
  parquet_load_one_year  loading one year file (Parquet -> typed arrays), rows/s; also the
                         same year as DuckDB writes it (nullable columns, snappy and zstd)
  versus_duckdb          volume_long_candle over --files one-year files (default 10): the
                         engine on one thread against DuckDB's SQL on all cores, same files
Medians of --runs runs (default 7). Not a test: figures depend on the machine and its load.

With --queue (needs redis-server on the PATH and a build; starts its own private Redis):
the queue's overhead side by side on one Redis: BullMQ alone running --tasks no-op jobs
(default 1000) against the real worker app running as many small backtests (one symbol,
1,152 five-minute candles) submitted as the API submits them; tasks/s, their ratio, and
submit-to-completed latency p50/p99 over --latency-tasks (default 200) run one at a time.
Medians of --rounds (default 3); both systems use --concurrency (default: CPUs).

With --http (needs redis-server on the PATH and a build; starts its own private Redis):
GET /api/backtests/status/{id} of the built API (API_KEY set, LOG_LEVEL=info) against bare
Fastify doing the same HGETALL and answering the same JSON, alternately, --connections
keep-alive connections (default 50) for --duration seconds each (default 5); req/s, their
ratio and p99 latency, medians of --rounds (default 3). --cpu-prof DIR runs the API under
node --cpu-prof and leaves its profile in DIR. --baseline DIR also measures the built API
of another checkout (e.g. a git worktree of an older commit) in the same rounds.`;

export async function benchCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      runs: { type: 'string', default: '7' },
      candles: { type: 'string', default: '525600' },
      seed: { type: 'string', default: '42' },
      files: { type: 'string', default: '10' },
      queue: { type: 'boolean', default: false },
      http: { type: 'boolean', default: false },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      'cpu-prof': { type: 'string' },
      baseline: { type: 'string' },
      tasks: { type: 'string', default: '1000' },
      'latency-tasks': { type: 'string', default: '200' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string' },
      'results-dir': { type: 'string' },
    },
    'bench',
  );
  if (flags.queue) return benchQueueCommand(flags);
  if (flags.http) return benchHttpCommand(flags);
  const runs = positiveInteger(flags.runs, '--runs');
  const candles = positiveInteger(flags.candles, '--candles');
  const seed = positiveInteger(flags.seed, '--seed');
  const files = positiveInteger(flags.files, '--files');
  const tmpDir = mkdtempSync(join(tmpdir(), 'coin-bench-'));
  try {
    const strategies = benchStrategies({ candles, runs, seed });
    const parquet = await benchParquetLoad({ tmpDir: join(tmpDir, 'parquet'), runs });
    const duckdb = await benchAgainstDuckDb({
      tmpDir: join(tmpDir, 'duckdb'),
      symbols: files,
      runs,
    });
    const report = {
      machine: { node: process.version, cpus: availableParallelism() },
      strategies,
      parquet_load_one_year: parquet,
      versus_duckdb: duckdb,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function benchQueueCommand(
  flags: Record<string, string | boolean | undefined>,
): Promise<number> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'coin-bench-queue-'));
  try {
    const report = await benchQueue({
      tasks: positiveInteger(flags.tasks, '--tasks'),
      latencyTasks: positiveInteger(flags['latency-tasks'], '--latency-tasks'),
      rounds: positiveInteger(flags.rounds, '--rounds'),
      ...(flags.concurrency !== undefined && {
        concurrency: positiveInteger(flags.concurrency, '--concurrency'),
      }),
      ...(typeof flags['results-dir'] === 'string' && { resultsDir: flags['results-dir'] }),
      tmpDir,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

async function benchHttpCommand(
  flags: Record<string, string | boolean | undefined>,
): Promise<number> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'coin-bench-http-'));
  try {
    const report = await benchHttp({
      rounds: positiveInteger(flags.rounds, '--rounds'),
      durationS: positiveInteger(flags.duration, '--duration'),
      connections: positiveInteger(flags.connections, '--connections'),
      ...(typeof flags['cpu-prof'] === 'string' && { cpuProfileDir: resolve(flags['cpu-prof']) }),
      ...(typeof flags.baseline === 'string' && { baselineDir: resolve(flags.baseline) }),
      tmpDir,
    });
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

function positiveInteger(value: string | boolean | undefined, flag: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1)
    throw InvalidInputError.of(flag, value, 'a whole number, 1 or more');
  return number;
}
