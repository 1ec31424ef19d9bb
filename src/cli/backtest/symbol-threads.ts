import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SymbolOutcome } from '@app/backtest';
import {
  SYMBOL_THREAD,
  SymbolLaneMessage,
  SymbolLaneTask,
  SymbolStage,
} from './symbol-lane-protocol';
import { LaneOutcome, SymbolQueue } from './symbol-queue';
import { fromThreadError } from '@app/common';

/** The compiled thread file beside this one (dist/src/cli/backtest/symbol-thread.js). */
const THREAD_FILE = join(__dirname, 'symbol-thread.js');

/**
 * The worker threads of a `cli backtest`, started before the request is validated (this
 * module loads none of the engine): each thread loads the engine while the main thread
 * loads its own, instead of after it.
 */
export class SymbolThreads {
  private constructor(private readonly threads: SymbolThread[]) {}

  static start(count: number): SymbolThreads {
    return new SymbolThreads(Array.from({ length: count }, () => new SymbolThread()));
  }

  get count(): number {
    return this.threads.length;
  }

  /**
   * Gives the task to `count` of the threads, each one lane of the run; the others end.
   * Resolves, per lane, with what it did (its errors made errors of their types again).
   */
  runLanes(
    task: SymbolLaneTask,
    count: number,
    onProgress: (stage: SymbolStage, symbol: string) => void,
  ): Array<Promise<Array<LaneOutcome<SymbolOutcome, Error>>>> {
    const used = this.threads.slice(0, count);
    for (const unused of this.threads.slice(count)) unused.end();
    const queue = new SymbolQueue(task.queue, task.request.symbols);
    return used.map((thread) =>
      thread.run(task, onProgress).catch((error: unknown) => {
        // A lane lost: no other takes a symbol, and the run fails with this.
        queue.fail();
        throw error;
      }),
    );
  }

  /**
   * Ends every thread still running: all of them when the run failed before it started. A
   * thread that did its lane is ending by itself, and nobody needs to wait for that.
   */
  close(): void {
    for (const thread of this.threads) thread.end();
  }
}

class SymbolThread {
  private readonly worker = new Worker(THREAD_FILE, { workerData: { kind: SYMBOL_THREAD } });
  /** Why the thread stopped, once it has: an error of its own, or its exit. */
  private readonly stopped: Promise<Error>;

  constructor() {
    this.stopped = new Promise((resolve) => {
      this.worker.once('error', (error: Error) =>
        resolve(new Error(`A backtest thread stopped: ${error.message}`)),
      );
      this.worker.once('exit', (code) =>
        resolve(new Error(`A backtest thread ended (exit code ${code}) before its results`)),
      );
    });
    // An unused thread must not keep the process alive.
    this.worker.unref();
  }

  run(
    task: SymbolLaneTask,
    onProgress: (stage: SymbolStage, symbol: string) => void,
  ): Promise<Array<LaneOutcome<SymbolOutcome, Error>>> {
    this.worker.ref();
    const results = new Promise<Array<LaneOutcome<SymbolOutcome, Error>>>((resolve) => {
      this.worker.on('message', (message: SymbolLaneMessage) => {
        if (message.kind === 'progress') return onProgress(message.stage, message.symbol);
        resolve(
          message.result.map((entry) =>
            'error' in entry ? { index: entry.index, error: fromThreadError(entry.error) } : entry,
          ),
        );
      });
    });
    this.worker.postMessage(task);
    return Promise.race([results, this.stopped.then((error) => Promise.reject(error))]);
  }

  /** Stops it without waiting: the process does not wait for it either once it is unreferenced. */
  end(): void {
    this.worker.unref();
    void this.worker.terminate();
  }
}
