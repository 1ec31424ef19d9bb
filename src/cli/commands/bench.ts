import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InvalidInputError } from '@app/common';
import { FlagValues } from '../args';
import { benchAgainstDuckDb } from '../bench/duckdb-bench';
import { benchParquetLoad } from '../bench/parquet-bench';
import { benchStatistics } from '../bench/statistics-bench';
import { benchCliStartup } from '../bench/startup-bench';
import { benchStrategies } from '../bench/strategy-bench';

/** A start-up takes a tenth of a second: three of them per --runs, for a steadier median. */
const STARTUP_RUNS_PER_RUN = 3;

export async function benchCommand(flags: FlagValues): Promise<number> {
  if (flags.queue) return benchQueueCommand(flags);
  if (flags.http) return benchHttpCommand(flags);
  if (flags.catalog) return benchCatalogCommand(flags);
  const runs = positiveInteger(flags.runs, '--runs');
  const candles = positiveInteger(flags.candles, '--candles');
  const seed = positiveInteger(flags.seed, '--seed');
  const files = positiveInteger(flags.files, '--files');
  const tmpDir = mkdtempSync(join(tmpdir(), 'coin-bench-'));
  try {
    // The load average says how much else ran: other processes slow threads most (a busy
    // machine gives this process no more CPU for a second thread).
    const loadAtStart = loadavg()[0];
    // The engine's parts first (--cli: skipped), then the whole CLI and its start-up.
    const engine = flags.cli
      ? {}
      : {
          strategies: benchStrategies({ candles, runs, seed }),
          statistics_overhead: benchStatistics({ candles, runs, seed }),
          parquet_load_one_year: await benchParquetLoad({ tmpDir: join(tmpDir, 'parquet'), runs }),
        };
    const versusDuckDb = await benchAgainstDuckDb({
      tmpDir: join(tmpDir, 'duckdb'),
      symbols: files,
      runs,
    });
    const startup = benchCliStartup(STARTUP_RUNS_PER_RUN * runs);
    const report = {
      machine: {
        node: process.version,
        cpus: availableParallelism(),
        load_average_1m: { start: loadAtStart, end: loadavg()[0] },
      },
      ...engine,
      versus_duckdb: versusDuckDb,
      cli_startup: startup,
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
    // BullMQ and ioredis are loaded for --queue only.
    const { benchQueue } = await import('../bench/queue-bench.js');
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
    // Fastify, ioredis and autocannon are loaded for --http only.
    const { benchHttp } = await import('../bench/http-bench.js');
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

const BACKENDS = ['sqlite', 'postgres'] as const;

async function benchCatalogCommand(
  flags: Record<string, string | boolean | undefined>,
): Promise<number> {
  const backend = flags.backend ?? 'both';
  if (backend !== 'both' && !BACKENDS.includes(backend as (typeof BACKENDS)[number]))
    throw InvalidInputError.of('--backend', backend, 'sqlite, postgres or both');
  const tmpDir = mkdtempSync(join(tmpdir(), 'coin-bench-catalog-'));
  try {
    // pg and the run folders' generator are loaded for --catalog only.
    const { benchCatalogueApi } = await import('../bench/catalogue-api-bench.js');
    const report = await benchCatalogueApi({
      runs: positiveInteger(flags['catalog-runs'], '--catalog-runs'),
      backends: backend === 'both' ? BACKENDS : [backend as (typeof BACKENDS)[number]],
      postgresUrl:
        typeof flags['postgres-url'] === 'string'
          ? flags['postgres-url']
          : 'postgres://postgres@127.0.0.1:5432/test',
      historyCalls: positiveInteger(flags['history-calls'], '--history-calls'),
      clients: 10,
      tmpDir,
    });
    process.stdout.write(
      `${JSON.stringify({ load_average: loadavg().map((n) => Math.round(n * 10) / 10), ...(report as object) }, null, 2)}\n`,
    );
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
