import { BroadcastChannel } from 'node:worker_threads';
import { BacktestRequest, runSymbol, SymbolOutcome } from '@app/backtest';
import { LaneOutcome, runLane, SymbolQueue } from './symbol-queue';
import { ThreadError, toThreadError } from './thread-errors';

/** What a worker thread of `cli backtest` is given: the run, and the queue it takes from. */
export interface SymbolLaneTask {
  request: BacktestRequest;
  dataRoot: string;
  /** The shared memory of the run's SymbolQueue. */
  queue: Int32Array;
  /** BroadcastChannel the thread tells its progress on. */
  progressChannel: string;
}

export type SymbolLaneResult = Array<LaneOutcome<SymbolOutcome, ThreadError>>;

/** A symbol's progress, as a thread posts it on the progress channel. */
export interface SymbolProgressEvent {
  symbol: string;
  stage: 'loaded' | 'finished';
}

/**
 * A worker thread of `cli backtest` (piscina): a lane of the run, taking symbols from the
 * shared queue and running each as a sequential run does (runSymbol) until none is left;
 * the main thread assembles the document from every lane's outcomes. Errors come back as
 * plain data, so that their types survive the trip.
 */
export default async function runSymbolLane(task: SymbolLaneTask): Promise<SymbolLaneResult> {
  const progress = new BroadcastChannel(task.progressChannel);
  const post = (event: SymbolProgressEvent): void => progress.postMessage(event);
  try {
    return await runLane(
      new SymbolQueue(task.queue, task.request.symbols),
      async (symbol) => {
        const outcome = await runSymbol(task.request, symbol, {
          dataRoot: task.dataRoot,
          onLoaded: () => post({ symbol, stage: 'loaded' }),
        });
        post({ symbol, stage: 'finished' });
        return outcome;
      },
      toThreadError,
    );
  } finally {
    progress.close();
  }
}
