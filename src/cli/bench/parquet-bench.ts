import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { candleFileLocation, generateCandles, loadCandles, writeCandleFile } from '@app/data';
import { connectDuckDb } from './duckdb-bench';
import { median, roundMs } from './stats';

export interface ParquetBenchOptions {
  /** Scratch data root; the bench writes one year file into it. */
  tmpDir: string;
  runs: number;
}

export interface ParquetLoadTiming {
  file_bytes: number;
  median_ms: number;
  rows_per_s: number;
  runs_ms: number[];
}

export interface ParquetBenchResult extends ParquetLoadTiming {
  rows: number;
  /**
   * The same year rewritten by DuckDB, as most tools write Parquet: every column nullable
   * (OPTIONAL), TIMESTAMP micros. Skipped when @duckdb/node-api (a dev dependency) is absent.
   */
  other_writers: Record<string, ParquetLoadTiming> | { skipped: string };
}

/** DuckDB copies of the bench file: symbol directory and COPY options. */
const DUCKDB_COPIES = {
  duckdb_snappy: { symbol: 'DUCKSNAPPY_KRW', options: 'COMPRESSION snappy' },
  duckdb_zstd: { symbol: 'DUCKZSTD_KRW', options: 'COMPRESSION zstd' },
} as const;

const BENCH_SYMBOL = 'BENCH_KRW';
const BENCH_YEAR = 2024;
const MINUTES_PER_YEAR = 365 * 24 * 60;

/**
 * Times loading one year of one-minute candles (525,600 rows, written by our own writer:
 * snappy, TIMESTAMP millis, DOUBLE prices) through `loadCandles`, without a cache, so each
 * run reads, decompresses and decodes the whole file. Reports the median of `runs`.
 */
export async function benchParquetLoad(options: ParquetBenchOptions): Promise<ParquetBenchResult> {
  const { tmpDir, runs } = options;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`runs must be an integer >= 1, got ${runs}`);
  }
  // The KST year 2024, so the file name and the loader's calendar agree.
  const startMs = Date.UTC(BENCH_YEAR - 1, 11, 31, 15);
  const candles = generateCandles({ count: MINUTES_PER_YEAR, startMs, stepMs: 60_000, seed: 42 });
  const file = candleFileLocation(tmpDir, BENCH_SYMBOL, '1M', BENCH_YEAR);
  await writeCandleFile(file.absolutePath, candles);
  const range = { startMs, endMs: startMs + MINUTES_PER_YEAR * 60_000 };

  const own = await timeLoads(tmpDir, BENCH_SYMBOL, range, candles.length, runs);
  return {
    rows: candles.length,
    ...own,
    other_writers: await timeOtherWriters(tmpDir, file.absolutePath, range, candles.length, runs),
  };
}

async function timeLoads(
  dataRoot: string,
  symbol: string,
  range: { startMs: number; endMs: number },
  expectedRows: number,
  runs: number,
): Promise<ParquetLoadTiming> {
  const runsMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const loaded = await loadCandles(dataRoot, symbol, '1M', range);
    runsMs.push(performance.now() - started);
    if (loaded.length !== expectedRows) {
      throw new Error(`Parquet bench loaded ${loaded.length} candles, expected ${expectedRows}`);
    }
  }
  const medianMs = median(runsMs);
  return {
    file_bytes: (await stat(candleFileLocation(dataRoot, symbol, '1M', BENCH_YEAR).absolutePath))
      .size,
    median_ms: roundMs(medianMs),
    rows_per_s: Math.round(expectedRows / (medianMs / 1000)),
    runs_ms: runsMs.map(roundMs),
  };
}

async function timeOtherWriters(
  dataRoot: string,
  ownFile: string,
  range: { startMs: number; endMs: number },
  expectedRows: number,
  runs: number,
): Promise<ParquetBenchResult['other_writers']> {
  const duckdb = await connectDuckDb();
  if ('skipped' in duckdb) return duckdb;
  const timings: Record<string, ParquetLoadTiming> = {};
  try {
    for (const [name, { symbol, options }] of Object.entries(DUCKDB_COPIES)) {
      const target = candleFileLocation(dataRoot, symbol, '1M', BENCH_YEAR).absolutePath;
      await mkdir(dirname(target), { recursive: true });
      await duckdb.connection.run(
        `COPY (SELECT * FROM read_parquet('${ownFile}')) TO '${target}' (FORMAT parquet, ${options})`,
      );
      timings[name] = await timeLoads(dataRoot, symbol, range, expectedRows, runs);
    }
  } finally {
    duckdb.close();
  }
  return timings;
}
