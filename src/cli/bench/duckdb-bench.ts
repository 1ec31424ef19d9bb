import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ResultDocument } from '@app/backtest';
import { candleFileLocation, generateCandles, loadCandles, writeCandleFile } from '@app/data';
import {
  buildSymbolResult,
  DEFAULT_EXECUTION,
  getStrategy,
  resolveParams,
  ResolvedParams,
} from '@app/strategies';
import { isRunId } from '@app/storage';
import { median, roundMs } from './stats';

export interface DuckDbBenchOptions {
  /** Scratch directory: one year file per symbol under data/, the CLI's run folders. */
  tmpDir: string;
  symbols: number;
  runs: number;
}

export interface Timing {
  median_ms: number;
  runs_ms: number[];
}

export interface DuckDbBenchResult {
  files: number;
  candles: number;
  engine: Timing & { threads: 1 };
  duckdb: (Timing & { threads: number }) | { skipped: string };
  /**
   * The whole CLI run: the built entry started with node (process start, module loading, the
   * threads, loading and running every symbol, the table and the run folder written), as a
   * user runs it, until the process has exited.
   */
  cli: (Timing & { threads: number; command: string }) | { skipped: string };
  /** duckdb median / engine median: above 1 means the engine is faster. */
  speedup: number | null;
  /** duckdb median / cli median: above 1 means the whole CLI run beats DuckDB's query. */
  cli_speedup: number | null;
  /** The whole CLI run is to take no longer than DuckDB's query (issue 9). */
  target: { cli_speedup_min: 1; met: boolean | null };
  /** Signals per symbol agree between all that ran (a check that they ran the same rule). */
  signals_agree: boolean | null;
}

const YEAR = 2024;
const MINUTES_PER_YEAR = 366 * 24 * 60;
const STRATEGY = 'volume_long_candle';
/** The built CLI entry (dist/src/cli/main.js), beside this file's folder. */
const CLI_MAIN = join(__dirname, '..', 'main.js');

/**
 * The bar ARCHITECTURE.md sets: volume_long_candle over ten one-year files of one-minute
 * candles, our engine (Parquet -> typed arrays -> strategy -> the per-symbol result with
 * signals and metrics, one thread, in this process) against DuckDB running the same rule as
 * SQL window functions over the same files (all cores), and, beside them, the whole CLI run
 * on all cores. The three alternate within each round, so that a machine whose load changes
 * slows them alike. DuckDB is a dev dependency: without it that part is skipped.
 */
export async function benchAgainstDuckDb(options: DuckDbBenchOptions): Promise<DuckDbBenchResult> {
  const { tmpDir, symbols, runs } = options;
  const dataRoot = join(tmpDir, 'data');
  const names = Array.from({ length: symbols }, (_, i) => `SYM${i}_KRW`);
  const startMs = Date.UTC(YEAR - 1, 11, 31, 15); // 2024-01-01 00:00 KST
  for (const [index, symbol] of names.entries()) {
    const candles = generateCandles({
      count: MINUTES_PER_YEAR,
      startMs,
      stepMs: 60_000,
      seed: 1000 + index,
    });
    await writeCandleFile(candleFileLocation(dataRoot, symbol, '1M', YEAR).absolutePath, candles);
  }
  const range = { startMs, endMs: startMs + MINUTES_PER_YEAR * 60_000 };
  const { params } = resolveParams(STRATEGY, {});
  const strategy = getStrategy(STRATEGY)!;
  const engineRound = async (): Promise<Map<string, number>> => {
    const signals = new Map<string, number>();
    for (const symbol of names) {
      const candles = await loadCandles(dataRoot, symbol, '1M', range);
      const run = strategy.run(candles, params);
      signals.set(
        symbol,
        buildSymbolResult(symbol, candles, run, DEFAULT_EXECUTION, '1M').result.samples,
      );
    }
    return signals;
  };
  const cli = existsSync(CLI_MAIN)
    ? new CliRun(CLI_MAIN, dataRoot, join(tmpDir, 'cli-results'), names)
    : { skipped: `${CLI_MAIN} is missing: run "npm run build" first` };
  const duckdb = await connectDuckDb();
  const duckThreads = 'skipped' in duckdb ? 0 : await duckDbThreads(duckdb.connection);
  const sql = volumeLongCandleSql(dataRoot, params);

  const times = { engine: [] as number[], duckdb: [] as number[], cli: [] as number[] };
  const signals: Array<Map<string, number>> = [];
  try {
    for (let run = 0; run < runs; run++) {
      signals[0] = await timed(times.engine, engineRound);
      if (!('skipped' in duckdb)) {
        signals[1] = await timed(times.duckdb, () => duckDbSignals(duckdb.connection, sql));
      }
      if (cli instanceof CliRun) signals[2] = await timed(times.cli, () => cli.run());
    }
  } finally {
    if (!('skipped' in duckdb)) duckdb.close();
  }
  const engineMedian = median(times.engine);
  const duckMedian = 'skipped' in duckdb ? null : median(times.duckdb);
  const cliMedian = cli instanceof CliRun ? median(times.cli) : null;
  const ran = signals.filter((bySymbol) => bySymbol !== undefined);
  return {
    files: symbols,
    candles: symbols * MINUTES_PER_YEAR,
    engine: { ...timing(times.engine), threads: 1 },
    duckdb: 'skipped' in duckdb ? duckdb : { ...timing(times.duckdb), threads: duckThreads },
    cli:
      cli instanceof CliRun
        ? { ...timing(times.cli), threads: cli.threads, command: cli.command }
        : cli,
    speedup: duckMedian === null ? null : ratio(duckMedian, engineMedian),
    cli_speedup: duckMedian === null || cliMedian === null ? null : ratio(duckMedian, cliMedian),
    target: {
      cli_speedup_min: 1,
      met: duckMedian === null || cliMedian === null ? null : cliMedian <= duckMedian,
    },
    signals_agree:
      ran.length < 2
        ? null
        : names.every((symbol) =>
            ran.every((bySymbol) => bySymbol.get(symbol) === ran[0].get(symbol)),
          ),
  };
}

/** `cli backtest` over the bench files, in a process of its own, as a user would run it. */
class CliRun {
  readonly threads = availableParallelism();
  private readonly args: string[];

  constructor(
    main: string,
    dataRoot: string,
    private readonly resultsDir: string,
    symbols: string[],
  ) {
    this.args = [
      main,
      'backtest',
      '--strategy',
      STRATEGY,
      '--symbols',
      symbols.join(','),
      '--timeframe',
      '1M',
      '--start',
      `${YEAR}-01-01`,
      '--end',
      `${YEAR}-12-31`,
      '--data-root',
      dataRoot,
      '--results-dir',
      resultsDir,
    ];
  }

  get command(): string {
    return `node ${[relative(process.cwd(), this.args[0]), ...this.args.slice(1)].join(' ')}`;
  }

  /** Runs it once; the signals per symbol come from the run folder it wrote. */
  async run(): Promise<Map<string, number>> {
    const child = spawnSync(process.execPath, this.args, {
      // The environment the CLI would see, without a developer's .env.
      env: { ...process.env, ENV_FILE: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (child.status !== 0) {
      throw new Error(`${this.command} exited with ${child.status}: ${child.stderr}`);
    }
    // The run's folder, not the catalogue the CLI keeps beside it (catalog.sqlite*).
    const [runId] = (await readdir(this.resultsDir)).filter((name) => isRunId(name));
    const result = JSON.parse(
      await readFile(join(this.resultsDir, runId, 'result.json'), 'utf8'),
    ) as ResultDocument;
    // Run folders are 11 MB each: one at a time is enough.
    await rm(join(this.resultsDir, runId), { recursive: true, force: true });
    return new Map(result.symbols.map((symbol) => [symbol.symbol, symbol.samples]));
  }
}

async function timed<T>(times: number[], work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const value = await work();
  times.push(performance.now() - started);
  return value;
}

function timing(runsMs: number[]): Timing {
  return { median_ms: roundMs(median(runsMs)), runs_ms: runsMs.map(roundMs) };
}

function ratio(slower: number, faster: number): number {
  return Math.round((slower / faster) * 100) / 100;
}

async function duckDbThreads(connection: DuckDBConnection): Promise<number> {
  const rows = (await connection.runAndReadAll("SELECT current_setting('threads')")).getRows();
  return Number(rows[0]?.[0]);
}

async function duckDbSignals(
  connection: DuckDBConnection,
  sql: string,
): Promise<Map<string, number>> {
  const rows = (await connection.runAndReadAll(sql)).getRows();
  return new Map(rows.map((row) => [String(row[0]), Number(row[1])]));
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
function volumeLongCandleSql(dataRoot: string, params: ResolvedParams): string {
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
