import { performance } from 'node:perf_hooks';
import {
  assembleWithDataHint,
  BacktestOutcome,
  BacktestRequest,
  RunOrigin,
  runSymbol,
} from '@app/backtest';
import type { SymbolLaneTask, SymbolStage } from './symbol-lane-protocol';
import { inSymbolOrder, runLane, SymbolQueue } from './symbol-queue';
import { SymbolThreads } from './symbol-threads';

export interface ParallelBacktestOptions {
  dataRoot: string;
  runId: string;
  origin: RunOrigin;
  /** Symbols run at once: this thread and threads - 1 worker threads, one per symbol at most. */
  threads: number;
  /** The worker threads started for the run (those it does not need end). */
  symbolThreads: SymbolThreads;
  /** Progress from 0 to 1 (a symbol counts half once loaded) and the symbol that moved it. */
  onProgress?: (fraction: number, symbol: string) => void;
}

/**
 * `runBacktest` with its symbols run several at once: the same steps (runSymbol per symbol),
 * the same document (assembleBacktest, here), the same error when a symbol fails (the first
 * failing one in the request's order). This thread is one of the lanes: it has the engine
 * loaded already, where a thread of its own would cost a start-up and a compiler warm-up only
 * to wait.
 */
export async function runBacktestOnThreads(
  request: BacktestRequest,
  options: ParallelBacktestOptions,
): Promise<BacktestOutcome> {
  const started = performance.now();
  const task: SymbolLaneTask = {
    request,
    dataRoot: options.dataRoot,
    queue: SymbolQueue.allocate(),
  };
  const progress = new SymbolProgress(request.symbols.length, options.onProgress);
  const { symbolThreads } = options;
  const workerLanes = symbolThreads.runLanes(
    task,
    Math.min(options.threads - 1, symbolThreads.count, request.symbols.length - 1),
    (stage, symbol) => progress[stage](symbol),
  );
  const thisLane = runLane(
    new SymbolQueue(task.queue, request.symbols),
    async (symbol) => {
      const outcome = await runSymbol(request, symbol, {
        dataRoot: options.dataRoot,
        onLoaded: () => progress.loaded(symbol),
      });
      progress.finished(symbol);
      return outcome;
    },
    (error) => (error instanceof Error ? error : new Error(String(error))),
  );
  const lanes = await Promise.all([thisLane, ...workerLanes]);
  return assembleWithDataHint(request, inSymbolOrder(lanes.flat()), options, started);
}

/** Symbols loaded and finished, as a fraction that only rises. */
class SymbolProgress implements Record<SymbolStage, (symbol: string) => void> {
  private readonly loadedSymbols = new Set<string>();
  private readonly finishedSymbols = new Set<string>();

  constructor(
    private readonly total: number,
    private readonly report: ((fraction: number, symbol: string) => void) | undefined,
  ) {}

  loaded(symbol: string): void {
    this.loadedSymbols.add(symbol);
    this.emit(symbol);
  }

  finished(symbol: string): void {
    this.loadedSymbols.delete(symbol);
    this.finishedSymbols.add(symbol);
    this.emit(symbol);
  }

  private emit(symbol: string): void {
    const done = this.finishedSymbols.size + this.loadedSymbols.size / 2;
    this.report?.(done / this.total, symbol);
  }
}
