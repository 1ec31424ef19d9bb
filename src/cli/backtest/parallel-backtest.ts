import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  assembleBacktest,
  BacktestOutcome,
  BacktestRequest,
  RunOrigin,
  runSymbol,
  SymbolOutcome,
} from '@app/backtest';
import { inSymbolOrder, LaneOutcome, runLane, SymbolQueue } from './symbol-queue';
import type { SymbolLaneResult, SymbolLaneTask, SymbolProgressEvent } from './symbol-thread';
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
  const workerThreads = Math.max(0, Math.min(options.threads, request.symbols.length) - 1);
  const task: SymbolLaneTask = {
    request,
    dataRoot: options.dataRoot,
    queue: SymbolQueue.allocate(),
    progressChannel: `coin-cli-progress-${randomUUID()}`,
  };
  // Started first: a thread takes a moment to load the engine, while this one begins at once.
  const pool =
    workerThreads > 0
      ? new Piscina<SymbolLaneTask, SymbolLaneResult>({
          filename: THREAD_FILE,
          minThreads: workerThreads,
          maxThreads: workerThreads,
        })
      : undefined;
  const progress = new SymbolProgress(request.symbols.length, options.onProgress);
  const progressEvents = new BroadcastChannel(task.progressChannel);
  progressEvents.onmessage = (message: unknown) => {
    const event = (message as { data: SymbolProgressEvent }).data;
    progress[event.stage](event.symbol);
  };
  const queue = new SymbolQueue(task.queue, request.symbols);
  try {
    const lanes = await Promise.all([
      runLane(
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
      ),
      ...Array.from({ length: workerThreads }, () => onWorkerThread(pool!, task, queue)),
    ]);
    return assembleBacktest(request, inSymbolOrder(lanes.flat()), options, started);
  } finally {
    progressEvents.close();
    await pool?.destroy();
  }
}

/** A lane on a worker thread; its errors made errors again, of the types they were. */
async function onWorkerThread(
  pool: Piscina<SymbolLaneTask, SymbolLaneResult>,
  task: SymbolLaneTask,
  queue: SymbolQueue,
): Promise<Array<LaneOutcome<SymbolOutcome, Error>>> {
  let done: SymbolLaneResult;
  try {
    done = await pool.run(task);
  } catch (error) {
    // The thread itself died (out of memory, say), with whatever symbols it had taken.
    queue.fail();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`A backtest thread stopped: ${reason}`);
  }
  return done.map((entry) =>
    'error' in entry ? { index: entry.index, error: fromThreadError(entry.error) } : entry,
  );
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
    // Events of other threads come on a channel: one may arrive after the symbol's result.
    if (this.finishedSymbols.has(symbol)) return;
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
