import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import {
  assembleBacktest,
  BacktestOutcome,
  BacktestRequest,
  RunOrigin,
  runSymbol,
  SymbolOutcome,
} from '@app/backtest';
import { inSymbolOrder, LaneOutcome, runLane, SymbolQueue } from './symbol-queue';
import type { SymbolLaneMessage, SymbolLaneTask } from './symbol-thread';
import { fromThreadError } from './thread-errors';

/** The compiled thread file beside this one (dist/src/cli/backtest/symbol-thread.js). */
const THREAD_FILE = join(__dirname, 'symbol-thread.js');

export interface ParallelBacktestOptions {
  dataRoot: string;
  runId: string;
  origin: RunOrigin;
  /** Symbols run at once: this thread and threads - 1 worker threads (at most one per symbol). */
  threads: number;
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
    kind: 'symbol-lane',
    request,
    dataRoot: options.dataRoot,
    queue: SymbolQueue.allocate(),
  };
  const queue = new SymbolQueue(task.queue, request.symbols);
  const progress = new SymbolProgress(request.symbols.length, options.onProgress);
  // Started first: a thread takes a moment to start and load the engine; this one begins at once.
  const workerThreads = Math.max(0, Math.min(options.threads, request.symbols.length) - 1);
  const workerLanes = Array.from({ length: workerThreads }, () =>
    onWorkerThread(task, queue, progress),
  );
  const thisLane = runLane(
    queue,
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
  return assembleBacktest(request, inSymbolOrder(lanes.flat()), options, started);
}

/** A lane on a worker thread of its own; its errors made errors again, of the types they were. */
function onWorkerThread(
  task: SymbolLaneTask,
  queue: SymbolQueue,
  progress: SymbolProgress,
): Promise<Array<LaneOutcome<SymbolOutcome, Error>>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(THREAD_FILE, { workerData: task });
    worker.on('message', (message: SymbolLaneMessage) => {
      if (message.kind === 'progress') {
        progress[message.stage](message.symbol);
        return;
      }
      resolve(
        message.result.map((entry) =>
          'error' in entry ? { index: entry.index, error: fromThreadError(entry.error) } : entry,
        ),
      );
    });
    // The thread itself failed (out of memory, say), with whatever symbol it had taken.
    worker.once('error', (error: Error) => {
      queue.fail();
      reject(new Error(`A backtest thread stopped: ${error.message}`));
    });
    worker.once('exit', (code) => {
      queue.fail();
      reject(new Error(`A backtest thread ended (exit code ${code}) without its results`));
    });
  });
}

/** Symbols loaded and finished, as a fraction that only rises. */
class SymbolProgress {
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
