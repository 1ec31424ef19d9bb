import { performance } from 'node:perf_hooks';
import type { DuckDBConnection } from '@duckdb/node-api';
import { candleFileLocation, generateCandles, loadCandles, writeCandleFile } from '@app/data';
import { buildSymbolResult, getStrategy, resolveParams } from '@app/strategies';
import { median, roundMs } from './stats';

export interface DuckDbBenchOptions {
  /** Scratch data root; the bench writes one year file per symbol into it. */
  tmpDir: string;
  symbols: number;
  runs: number;
}

export interface DuckDbBenchResult {
  files: number;
  candles: number;
  engine: { median_ms: number; runs_ms: number[]; threads: 1 };
  duckdb: { median_ms: number; runs_ms: number[]; threads: number } | { skipped: string };
  /** duckdb median / engine median: above 1 means the engine is faster. */
  speedup: number | null;
  /** Signals per symbol agree between the two (a check that both ran the same query). */
  signals_agree: boolean | null;
}

const YEAR = 2024;
const MINUTES_PER_YEAR = 366 * 24 * 60;
const STRATEGY = 'volume_long_candle';

/**
 * The bar ARCHITECTURE.md sets: volume_long_candle over ten one-year files of one-minute
 * candles, our engine (Parquet -> typed arrays -> strategy -> the per-symbol result with
 * signals and metrics, one thread) against DuckDB running the same rule as SQL window
 * functions over the same files (all cores). DuckDB is a dev dependency: without it the
 * comparison is skipped.
 */
export async function benchAgainstDuckDb(options: DuckDbBenchOptions): Promise<DuckDbBenchResult> {
  const { tmpDir, symbols, runs } = options;
  const names = Array.from({ length: symbols }, (_, i) => `SYM${i}_KRW`);
  const startMs = Date.UTC(YEAR - 1, 11, 31, 15); // 2024-01-01 00:00 KST
  for (const [index, symbol] of names.entries()) {
    const candles = generateCandles({
      count: MINUTES_PER_YEAR,
      startMs,
      stepMs: 60_000,
      seed: 1000 + index,
    });
    await writeCandleFile(candleFileLocation(tmpDir, symbol, '1M', YEAR).absolutePath, candles);
  }
  const range = { startMs, endMs: startMs + MINUTES_PER_YEAR * 60_000 };
  const { params } = resolveParams(STRATEGY, {});
  const strategy = getStrategy(STRATEGY)!;

  const engineRuns: number[] = [];
  let engineSignals: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    engineSignals = [];
    for (const symbol of names) {
      const candles = await loadCandles(tmpDir, symbol, '1M', range);
      engineSignals.push(buildSymbolResult(symbol, candles, strategy.run(candles, params)).samples);
    }
    engineRuns.push(performance.now() - started);
  }
  const engineMedian = median(engineRuns);
  const engine = {
    median_ms: roundMs(engineMedian),
    runs_ms: engineRuns.map(roundMs),
    threads: 1 as const,
  };

  const duck = await runDuckDb(tmpDir, params, runs);
  if ('skipped' in duck) {
    return {
      files: symbols,
      candles: symbols * MINUTES_PER_YEAR,
      engine,
      duckdb: duck,
      speedup: null,
      signals_agree: null,
    };
  }
  const duckMedian = median(duck.runsMs);
  return {
    files: symbols,
    candles: symbols * MINUTES_PER_YEAR,
    engine,
    duckdb: {
      median_ms: roundMs(duckMedian),
      runs_ms: duck.runsMs.map(roundMs),
      threads: duck.threads,
    },
    speedup: Math.round((duckMedian / engineMedian) * 100) / 100,
    signals_agree: names.every((symbol, i) => duck.signals.get(symbol) === engineSignals[i]),
  };
}

interface DuckDbRuns {
  runsMs: number[];
  threads: number;
  signals: Map<string, number>;
}

async function runDuckDb(
  dataRoot: string,
  params: Readonly<Record<string, number | boolean>>,
  runs: number,
): Promise<DuckDbRuns | { skipped: string }> {
  const duckdb = await connectDuckDb();
  if ('skipped' in duckdb) return duckdb;
  const { connection } = duckdb;
  const threads = Number(
    (await connection.runAndReadAll("SELECT current_setting('threads')")).getRows()[0]?.[0],
  );
  const sql = volumeLongCandleSql(dataRoot, params);
  const runsMs: number[] = [];
  let signals = new Map<string, number>();
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const rows = (await connection.runAndReadAll(sql)).getRows();
    runsMs.push(performance.now() - started);
    signals = new Map(rows.map((row) => [String(row[0]), Number(row[1])]));
  }
  duckdb.close();
  return { runsMs, threads, signals };
}

/**
 * An in-memory DuckDB connection, or why there is none: @duckdb/node-api is a dev dependency,
 * absent from a production install.
 */
export async function connectDuckDb(): Promise<
  { connection: DuckDBConnection; close: () => void } | { skipped: string }
> {
  let duckdb: typeof import('@duckdb/node-api');
  try {
    duckdb = await import('@duckdb/node-api');
  } catch {
    return { skipped: '@duckdb/node-api is not installed (a dev dependency)' };
  }
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** SPEC §3's volume_long_candle and its metrics as SQL: the same work, per symbol. */
function volumeLongCandleSql(
  dataRoot: string,
  params: Readonly<Record<string, number | boolean>>,
): string {
  const window = Number(params.vol_ma_window);
  const multiplier = Number(params.vol_multiplier);
  const body = Number(params.body_pct);
  const hold = Number(params.hold_period_bars);
  return `
    WITH candles AS (
      SELECT regexp_extract(filename, '([A-Z0-9]+_[A-Z0-9]+)/1M/', 1) AS symbol, timestamp, open, high, low, close, volume
      FROM read_parquet('${dataRoot}/*/1M/${YEAR}.parquet', filename = true)
    ),
    features AS (
      SELECT *,
        avg(volume) OVER (PARTITION BY symbol ORDER BY timestamp ROWS BETWEEN ${window - 1} PRECEDING AND CURRENT ROW) AS vol_ma,
        last_value(close) OVER (PARTITION BY symbol ORDER BY timestamp ROWS BETWEEN CURRENT ROW AND ${hold} FOLLOWING) AS exit_close
      FROM candles
    ),
    trades AS (
      SELECT symbol, timestamp, (exit_close - close) / close * 100 AS r
      FROM features
      WHERE volume >= vol_ma * ${multiplier}
        AND (close - open) / open >= ${body}
        AND greatest(high - close, 0) / open < ${2 * body}
        AND greatest(open - low, 0) / open < ${2 * body}
        AND close > open
    ),
    running AS (
      SELECT symbol, timestamp, r, sum(r) OVER (PARTITION BY symbol ORDER BY timestamp ROWS UNBOUNDED PRECEDING) AS equity
      FROM trades
    ),
    drawdowns AS (
      SELECT symbol, r, greatest(0, max(equity) OVER (PARTITION BY symbol ORDER BY timestamp ROWS UNBOUNDED PRECEDING)) - equity AS drawdown
      FROM running
    )
    SELECT symbol, count(*) AS samples, avg(CASE WHEN r > 0 THEN 1 ELSE 0 END) AS win_rate, avg(r) AS avg_return, max(drawdown) AS max_drawdown
    FROM drawdowns GROUP BY symbol ORDER BY symbol`;
}
