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
  computePortfolio,
  evaluateSymbol,
  getStrategy,
  PortfolioMember,
  PortfolioStats,
  StrategyGrid,
  SymbolStats,
  TradeMetrics,
} from '@app/strategies';
import { combinationParams, planOf, SweepPlan, SweepRequest } from './sweep-request';

/** One symbol's figures in one window: exactly what a single run's document says of it. */
export type SymbolFigures = { symbol: string; candles: number } & TradeMetrics & SymbolStats;

/** One combination in one window: its portfolio (§12) and its symbols with candles there. */
export interface WindowFigures {
  portfolio: PortfolioStats;
  symbols: SymbolFigures[];
}

/** One combination's figures in every window of the sweep. */
export interface CombinationResult {
  index: number;
  windows: Record<string, WindowFigures>;
}

/** What a chunk gives back: combinations `from` .. `to - 1`, in index order. */
export interface ChunkResult {
  from: number;
  to: number;
  combinations: CombinationResult[];
  /** Wall time of the chunk, ms: what the chunk size is tuned by. */
  ms: number;
}

export interface ChunkContext {
  dataRoot: string;
  cache?: CandleFileCache;
  isCancelled?: CancellationCheck;
  /** Called after each combination (for progress inside a long chunk, and cancel checks). */
  onCombination?: (done: number) => void;
}

/**
 * Evaluates combinations `from .. to-1` of a sweep: each symbol's candles are loaded once per
 * window, then every combination runs through the same engine a single run uses (the
 * strategy's signals — through its grid, which shares work between combinations, where it has
 * one — then `evaluateSymbol` and `computePortfolio`), so each combination's figures are bit
 * for bit those of a single run with its parameters over that window's dates.
 */
export async function evaluateChunk(
  request: SweepRequest,
  from: number,
  to: number,
  context: ChunkContext,
  plan: SweepPlan = planOf(request),
): Promise<ChunkResult> {
  const started = performance.now();
  const strategy = getStrategy(request.strategy);
  if (!strategy) throw new Error(`Strategy ${request.strategy} is not registered`);
  const { isCancelled } = context;
  const single = request.execution.positions === 'single';
  // Loaded once for the whole chunk: candles, and one bar-equity buffer per series.
  const series: Array<{
    window: string;
    symbols: Array<{
      symbol: string;
      candles: Candles;
      /** The strategy's shared work over this series, made at its first run. */
      grid?: StrategyGrid;
      buffer?: Float64Array;
    }>;
  }> = [];
  for (const window of plan.windows) {
    const symbols = [];
    for (const symbol of request.symbols) {
      throwIfCancelled(isCancelled);
      const candles = await loadCandles(
        context.dataRoot,
        symbol,
        request.timeframe,
        kstDateRange(window.start_date, window.end_date),
        { isCancelled, cache: context.cache },
      );
      if (candles.length === 0) continue;
      symbols.push({
        symbol,
        candles,
        ...(single && { buffer: new Float64Array(candles.length) }),
      });
    }
    if (symbols.length === 0) {
      // What a single run over this window answers (404): the sweep cannot rank without it.
      throw new NoDataError(
        `No data found for symbols [${request.symbols.join(', ')}] in range ${window.start_date}..${window.end_date} (KST) at timeframe ${request.timeframe} (window ${window.name})`,
      );
    }
    series.push({ window: window.name, symbols });
  }

  const combinations: CombinationResult[] = [];
  for (let index = from; index < to; index++) {
    const params = combinationParams(plan, strategy, index);
    const windows: Record<string, WindowFigures> = {};
    for (const { window, symbols } of series) {
      const members: PortfolioMember[] = [];
      const figures: SymbolFigures[] = [];
      for (const entry of symbols) {
        const { symbol, candles, buffer } = entry;
        throwIfCancelled(isCancelled);
        let signals;
        try {
          // Shared work between the combinations where the strategy has a grid (its signals
          // are `run`'s exactly), else a plain run.
          entry.grid ??= strategy.grid?.(candles) ?? {
            run: (resolved, options) => strategy.run(candles, resolved, options),
          };
          signals = entry.grid.run(params, { isCancelled });
        } catch (error) {
          // As a single run reports candles the strategy refuses: a problem of the data.
          if (!(error instanceof InvalidInputError)) throw error;
          throw new DataFileError(
            `${symbol}/${request.timeframe}`,
            `unusable candles: ${error.message}`,
          );
        }
        const evaluation = evaluateSymbol(candles, signals, request.execution, request.timeframe, {
          barEquityBuffer: buffer,
        });
        members.push(evaluation.portfolio);
        figures.push({
          symbol,
          candles: candles.length,
          ...evaluation.metrics,
          ...evaluation.stats,
        });
      }
      windows[window] = {
        portfolio: computePortfolio(members, request.execution, request.timeframe),
        symbols: figures,
      };
    }
    combinations.push({ index, windows });
    context.onCombination?.(index - from + 1);
  }
  return { from, to, combinations, ms: performance.now() - started };
}
