import { performance } from 'node:perf_hooks';
import {
  CancellationCheck,
  Candles,
  DataFileError,
  InvalidInputError,
  NoDataError,
  throwIfCancelled,
} from '@app/common';
import { CandleFileCache, kstDateRange, loadCandles } from '@app/data';
import {
  buildSymbolResult,
  DEFAULT_EXECUTION,
  getStrategy,
  StrategyDefinition,
  StrategySignals,
  SymbolResult,
} from '@app/strategies';
import { BacktestRequest } from './request';
import { FailedSymbol, RESULT_VERSION, ResultDocument } from './result-document';
import type { RunOrigin } from './run-folders';

/** What happens during a run, for logs (SPEC §6 log lines) and progress. */
export type BacktestEvent =
  | { kind: 'symbol-started'; symbol: string; index: number; total: number }
  | { kind: 'data-loaded'; symbol: string; rows: number; progress: number }
  | {
      kind: 'symbol-finished';
      symbol: string;
      index: number;
      total: number;
      signals: number;
      progress: number;
    };

export interface BacktestContext {
  dataRoot: string;
  runId: string;
  origin: RunOrigin;
  cache?: CandleFileCache;
  /** Checked between symbols, between data chunks and every CHUNK_BARS bars of a strategy. */
  isCancelled?: CancellationCheck;
  onEvent?: (event: BacktestEvent) => void;
}

export interface BacktestOutcome {
  result: ResultDocument;
  /** Wall time spent on each symbol that had data, ms (for the manifest's summary). */
  symbolMs: number[];
  /** Candles read over all symbols. */
  candles: number;
}

/**
 * The one use case: request -> load each symbol's candles -> run the strategy -> the result
 * document (SPEC §4). Symbols without candles in range go to `symbols_failed`; when no symbol
 * has any, the run fails with `NoDataError`. The worker, the CLI and the tests all call this.
 */
export async function runBacktest(
  request: BacktestRequest,
  context: BacktestContext,
): Promise<BacktestOutcome> {
  const started = performance.now();
  const strategy = getStrategy(request.strategy);
  if (!strategy) throw new Error(`Strategy ${request.strategy} is not registered`);
  const range = kstDateRange(request.start_date, request.end_date);
  const { isCancelled, onEvent } = context;
  const total = request.symbols.length;
  const symbols: SymbolResult[] = [];
  const failed: FailedSymbol[] = [];
  const symbolMs: number[] = [];
  let candlesRead = 0;

  for (const [offset, symbol] of request.symbols.entries()) {
    throwIfCancelled(isCancelled);
    const symbolStarted = performance.now();
    onEvent?.({ kind: 'symbol-started', symbol, index: offset + 1, total });
    const candles = await loadCandles(context.dataRoot, symbol, request.timeframe, range, {
      isCancelled,
      cache: context.cache,
    });
    candlesRead += candles.length;
    onEvent?.({
      kind: 'data-loaded',
      symbol,
      rows: candles.length,
      progress: (offset + 0.5) / total,
    });
    let signalCount = 0;
    if (candles.length === 0) {
      failed.push({ symbol, reason: `No candles in range ${describeRange(request)}` });
    } else {
      const { result: symbolResult } = buildSymbolResult(
        symbol,
        candles,
        runOnData(strategy, candles, request, symbol, isCancelled),
        DEFAULT_EXECUTION,
        request.timeframe,
      );
      symbols.push(symbolResult);
      signalCount = symbolResult.samples;
      symbolMs.push(performance.now() - symbolStarted);
    }
    const progress = (offset + 1) / total;
    onEvent?.({
      kind: 'symbol-finished',
      symbol,
      index: offset + 1,
      total,
      signals: signalCount,
      progress,
    });
  }

  if (symbols.length === 0) {
    throw new NoDataError(
      `No data found for symbols [${request.symbols.join(', ')}] in range ${describeRange(request)}`,
    );
  }
  const result: ResultDocument = {
    version: RESULT_VERSION,
    run_id: context.runId,
    strategy: request.strategy,
    params: request.params,
    start_date: request.start_date,
    end_date: request.end_date,
    timeframe: request.timeframe,
    total_signals: symbols.reduce((sum, symbol) => sum + symbol.samples, 0),
    execution_time: roundSeconds((performance.now() - started) / 1000),
    symbols,
    symbols_failed: failed,
    metadata: {
      execution_date: new Date().toISOString(),
      environment: context.origin.environment,
      execution_host: context.origin.executionHost,
      ...(context.origin.workerId !== null && { worker_id: context.origin.workerId }),
    },
  };
  return { result, symbolMs, candles: candlesRead };
}

/**
 * Runs the strategy; candles it refuses (non-finite or non-positive prices, low > high,
 * negative volume) are a data problem, reported like a broken file: it names the data.
 */
function runOnData(
  strategy: StrategyDefinition,
  candles: Candles,
  request: BacktestRequest,
  symbol: string,
  isCancelled: CancellationCheck | undefined,
): StrategySignals {
  try {
    return strategy.run(candles, request.params, { isCancelled });
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new DataFileError(`${symbol}/${request.timeframe}`, `unusable candles: ${error.message}`);
  }
}

function describeRange(request: BacktestRequest): string {
  return `${request.start_date}..${request.end_date} (KST) at timeframe ${request.timeframe}`;
}

/** Microsecond precision is plenty for a duration in seconds and keeps the JSON short. */
function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
