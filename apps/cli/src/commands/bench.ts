import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '@app/common';
import { parseFlags } from '../args';
import { benchAgainstDuckDb } from '../bench/duckdb-bench';
import { benchParquetLoad } from '../bench/parquet-bench';
import { benchStrategies } from '../bench/strategy-bench';

export const BENCH_HELP = `Usage: cli bench [--runs N] [--candles N] [--seed N] [--files N]

Benchmarks on seeded one-minute candles (a year = 525,600 per symbol) and prints JSON:
  strategies             candles/s of each strategy on in-memory arrays, one thread
  parquet_load_one_year  loading one year file (Parquet -> typed arrays), rows/s
  versus_duckdb          volume_long_candle over --files one-year files (default 10): the
                         engine on one thread against DuckDB's SQL on all cores, same files
Medians of --runs runs (default 7). Not a test: figures depend on the machine and its load.`;

export async function benchCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      runs: { type: 'string', default: '7' },
      candles: { type: 'string', default: '525600' },
      seed: { type: 'string', default: '42' },
      files: { type: 'string', default: '10' },
    },
    'bench',
  );
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

function positiveInteger(value: string | boolean | undefined, flag: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1)
    throw InvalidInputError.of(flag, value, 'a whole number, 1 or more');
  return number;
}
