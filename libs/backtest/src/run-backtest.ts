import { performance } from 'node:perf_hooks';
import {
  CancellationCheck,
  Candles,
  DataFileError,
  InvalidInputError,
  NoDataError,
  throwIfCancelled,
} from '@app/common';
import { CandleFileCache, describeMissingData, kstDateRange, loadCandles } from '@app/data';
import {
  buildSymbolResult,
  computePortfolio,
  getStrategy,
  PortfolioMember,
  StrategyDefinition,
  StrategySignals,
  SymbolResult,
} from '@app/strategies';
import { ChartDocument, chartDocumentOf, buildSymbolChart, SymbolChart } from './chart-data';
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
  /** What the reports draw of the run (chart.json, SPEC §14). */
  chart: ChartDocument;
}

/**
 * One symbol's part of a run, what the document is assembled from. Plain data, so that it
 * can come back from a worker thread.
 */
export interface SymbolOutcome {
  symbol: string;
  /** Candles in range; 0 puts the symbol in `symbols_failed`. */
  candles: number;
  /** Its entry of the document; null when it had no candles in range. */
  result: SymbolResult | null;
  /** What the document's portfolio needs of it (typed arrays); null without candles. */
  portfolio: PortfolioMember | null;
  /** Wall time of its load and strategy, ms. */
  ms: number;
  /** Its part of chart.json, built while its candles are at hand; null without candles. */
  chart: SymbolChart | null;
}

/** What one symbol's run needs: where the data is, and the run's cache and cancel check. */
export interface SymbolRunContext {
  dataRoot: string;
  cache?: CandleFileCache;
  isCancelled?: CancellationCheck;
  /** Called once its candles are loaded, before the strategy runs. */
  onLoaded?: (rows: number) => void;
}

/**
 * The one use case: request -> load each symbol's candles -> run the strategy -> the result
 * document (SPEC §4). Symbols without candles in range go to `symbols_failed`; when no symbol
 * has any, the run fails with `NoDataError`. The worker, the CLI and the tests all call this;
 * the CLI's threads run `runSymbol` per symbol and `assembleBacktest` over them, as this does.
 */
export async function runBacktest(
  request: BacktestRequest,
  context: BacktestContext,
): Promise<BacktestOutcome> {
  const started = performance.now();
  const { isCancelled, onEvent } = context;
  const total = request.symbols.length;
  const outcomes: SymbolOutcome[] = [];
  for (const [offset, symbol] of request.symbols.entries()) {
    throwIfCancelled(isCancelled);
    onEvent?.({ kind: 'symbol-started', symbol, index: offset + 1, total });
    const outcome = await runSymbol(request, symbol, {
      dataRoot: context.dataRoot,
      cache: context.cache,
      isCancelled,
      onLoaded: (rows) =>
        onEvent?.({ kind: 'data-loaded', symbol, rows, progress: (offset + 0.5) / total }),
    });
    outcomes.push(outcome);
    onEvent?.({
      kind: 'symbol-finished',
      symbol,
      index: offset + 1,
      total,
      signals: outcome.result?.samples ?? 0,
      progress: (offset + 1) / total,
    });
  }
  return assembleWithDataHint(request, outcomes, context, started);
}

/** Loads one symbol's candles in the request's range and runs the strategy over them. */
export async function runSymbol(
  request: BacktestRequest,
  symbol: string,
  context: SymbolRunContext,
): Promise<SymbolOutcome> {
  const started = performance.now();
  const strategy = getStrategy(request.strategy);
  if (!strategy) throw new Error(`Strategy ${request.strategy} is not registered`);
  const { isCancelled } = context;
  const candles = await loadCandles(
    context.dataRoot,
    symbol,
    request.timeframe,
    kstDateRange(request.start_date, request.end_date),
    { isCancelled, cache: context.cache },
  );
  context.onLoaded?.(candles.length);
  const run =
    candles.length === 0
      ? null
      : buildSymbolResult(
          symbol,
          candles,
          runOnData(strategy, candles, request, symbol, isCancelled),
          request.execution,
          request.timeframe,
        );
  return {
    symbol,
    candles: candles.length,
    result: run?.result ?? null,
    portfolio: run?.portfolio ?? null,
    ms: performance.now() - started,
    chart:
      run && buildSymbolChart(symbol, candles, run.trades, run.portfolio.account?.equity ?? null),
  };
}

/**
 * assembleBacktest, with a run that found no candles told what the data root does hold
 * (describeMissingData: the folder missing, or the symbols' timeframes and years), rather
 * than only "No data found" (issue 10, item 10).
 */
export async function assembleWithDataHint(
  request: BacktestRequest,
  outcomes: readonly SymbolOutcome[],
  context: Pick<BacktestContext, 'runId' | 'origin' | 'dataRoot'>,
  startedAt: number,
): Promise<BacktestOutcome> {
  try {
    return assembleBacktest(request, outcomes, context, startedAt);
  } catch (error) {
    if (!(error instanceof NoDataError)) throw error;
    const hint = await describeMissingData(context.dataRoot, request.symbols, request.timeframe);
    throw new NoDataError(`${error.message}. ${hint}`);
  }
}

/**
 * The result document of a run from its symbols' outcomes, in the request's symbol order:
 * the one definition of the document, whether the symbols ran here one after the other or
 * on threads. `startedAt` is the run's `performance.now()` at its start, on this thread.
 */
export function assembleBacktest(
  request: BacktestRequest,
  outcomes: readonly SymbolOutcome[],
  context: Pick<BacktestContext, 'runId' | 'origin'>,
  startedAt: number,
): BacktestOutcome {
  const symbols: SymbolResult[] = [];
  const members: PortfolioMember[] = [];
  const failed: FailedSymbol[] = [];
  const symbolMs: number[] = [];
  const charts: SymbolChart[] = [];
  let candlesRead = 0;
  for (const outcome of outcomes) {
    candlesRead += outcome.candles;
    if (outcome.result && outcome.portfolio) {
      symbols.push(outcome.result);
      members.push(outcome.portfolio);
      symbolMs.push(outcome.ms);
      if (outcome.chart) charts.push(outcome.chart);
    } else {
      failed.push({
        symbol: outcome.symbol,
        reason: `No candles in range ${describeRange(request)}`,
      });
    }
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
    execution: request.execution,
    start_date: request.start_date,
    end_date: request.end_date,
    timeframe: request.timeframe,
    total_signals: symbols.reduce((sum, symbol) => sum + symbol.samples, 0),
    execution_time: roundSeconds((performance.now() - startedAt) / 1000),
    symbols,
    symbols_failed: failed,
    // Every symbol is active when the run writes its result (SPEC §10.6).
    portfolio: computePortfolio(members, request.execution, request.timeframe),
    metadata: {
      execution_date: new Date().toISOString(),
      environment: context.origin.environment,
      execution_host: context.origin.executionHost,
      ...(context.origin.workerId !== null && { worker_id: context.origin.workerId }),
    },
  };
  return { result, symbolMs, candles: candlesRead, chart: chartDocumentOf(result, charts) };
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
