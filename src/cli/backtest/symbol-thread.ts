import { parentPort, workerData } from 'node:worker_threads';
import { BacktestRequest, runSymbol, SymbolOutcome } from '@app/backtest';
import { LaneOutcome, runLane, SymbolQueue } from './symbol-queue';
import { ThreadError, toThreadError } from './thread-errors';

/** What a worker thread of `cli backtest` is started with: the run, and the queue it takes from. */
export interface SymbolLaneTask {
  kind: 'symbol-lane';
  request: BacktestRequest;
  dataRoot: string;
  /** The shared memory of the run's SymbolQueue. */
  queue: Int32Array;
}

export type SymbolLaneResult = Array<LaneOutcome<SymbolOutcome, ThreadError>>;

/** What the thread posts to the main thread: progress as it goes, then what it did. */
export type SymbolLaneMessage =
  | { kind: 'progress'; symbol: string; stage: 'loaded' | 'finished' }
  | { kind: 'done'; result: SymbolLaneResult };

/**
 * A lane of `cli backtest` on a worker thread: takes symbols from the shared queue and runs
 * each as a sequential run does (runSymbol) until none is left; the main thread assembles
 * the document from every lane's outcomes. Errors come back as plain data, so that their
 * types survive the trip.
 */
export function runSymbolLane(
  task: SymbolLaneTask,
  post: (message: SymbolLaneMessage) => void,
): Promise<SymbolLaneResult> {
  return runLane(
    new SymbolQueue(task.queue, task.request.symbols),
    async (symbol) => {
      const outcome = await runSymbol(task.request, symbol, {
        dataRoot: task.dataRoot,
        onLoaded: () => post({ kind: 'progress', symbol, stage: 'loaded' }),
      });
      post({ kind: 'progress', symbol, stage: 'finished' });
      return outcome;
    },
    toThreadError,
  );
}

// The thread's entry: its task comes with it (workerData), so it starts taking symbols the
// moment it has loaded, without waiting for the main thread, which may be busy with its own.
const port = parentPort;
if (port && (workerData as Partial<SymbolLaneTask> | null)?.kind === 'symbol-lane') {
  const post = (message: SymbolLaneMessage): void => port.postMessage(message);
  void runSymbolLane(workerData as SymbolLaneTask, post).then((result) =>
    post({ kind: 'done', result }),
  );
}
