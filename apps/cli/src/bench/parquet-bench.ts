import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { candleFileLocation, generateCandles, loadCandles, writeCandleFile } from '@app/data';
import { median, roundMs } from './stats';

export interface ParquetBenchOptions {
  /** Scratch data root; the bench writes one year file into it. */
  tmpDir: string;
  runs: number;
}

export interface ParquetBenchResult {
  rows: number;
  file_bytes: number;
  median_ms: number;
  rows_per_s: number;
  runs_ms: number[];
}

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

  const runsMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const loaded = await loadCandles(tmpDir, BENCH_SYMBOL, '1M', range);
    runsMs.push(performance.now() - started);
    if (loaded.length !== candles.length) {
      throw new Error(`Parquet bench loaded ${loaded.length} candles, expected ${candles.length}`);
    }
  }
  const medianMs = median(runsMs);
  return {
    rows: candles.length,
    file_bytes: (await stat(file.absolutePath)).size,
    median_ms: roundMs(medianMs),
    rows_per_s: Math.round(candles.length / (medianMs / 1000)),
    runs_ms: runsMs.map(roundMs),
  };
}
