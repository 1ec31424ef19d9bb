import { parentPort, workerData } from 'node:worker_threads';
import { runSymbol } from '@app/backtest';
import {
  SYMBOL_THREAD,
  SymbolLaneMessage,
  SymbolLaneResult,
  SymbolLaneTask,
} from './symbol-lane-protocol';
import { runLane, SymbolQueue } from './symbol-queue';
import { toThreadError } from '@app/common';

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

// The thread's entry. Started ahead of the run (SymbolThreads.start), it loads the engine
// (the imports above) meanwhile, then takes its task from its port: the task reaches it
// without the main thread's event loop, which may be busy with a symbol of its own.
const port = parentPort;
if (port && (workerData as { kind?: unknown } | null)?.kind === SYMBOL_THREAD) {
  const post = (message: SymbolLaneMessage): void => port.postMessage(message);
  port.once('message', (task: SymbolLaneTask) => {
    void runSymbolLane(task, post).then((result) => {
      post({ kind: 'done', result });
      port.close();
    });
  });
}
