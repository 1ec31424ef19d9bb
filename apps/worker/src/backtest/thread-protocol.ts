import type { FailureCode } from '@app/common';
import type { RunFault } from './run-faults';
import type { BacktestEvent, BacktestRequest, RunOrigin, RunTimes } from '@app/backtest';

/**
 * What the worker's main thread and its backtest threads say to each other. Everything here
 * crosses a thread boundary by structured clone, so it is plain data: no classes, no functions.
 */

/** Set once per pool (piscina `workerData`): what every backtest thread needs to know. */
export interface BacktestThreadSettings {
  dataRoot: string;
  resultsDir: string;
  /**
   * The run catalogue (CATALOG_PATH, DATABASE_URL): a thread writes the row of the folder it
   * has just written, through its own connection (SQLite inline: the thread has nothing else
   * to serve while the write waits; PostgreSQL: one connection).
   */
  catalogue: { catalogPath: string; databaseUrl: string | undefined };
  /** This worker process, as its results and manifests record it. */
  origin: RunOrigin;
  /** This thread's share of CANDLE_CACHE_MB, in bytes. */
  candleCacheBytes: number;
  /**
   * Name of the BroadcastChannel the threads post their tasks' events on. One channel for the
   * pool, not a MessagePort per task: creating and transferring a port costs more than a
   * small task's whole backtest.
   */
  eventsChannel: string;
}

/** One backtest for a thread: the validated request and where to report. */
export interface BacktestThreadTask {
  taskId: string;
  request: BacktestRequest;
  /** When the task was submitted and this attempt started, for the manifest. */
  times: RunTimes;
  /**
   * An Int32Array over a SharedArrayBuffer: the main thread stores a non-zero value to ask the
   * thread to stop (cancel, timeout, shutdown); the thread polls it at every boundary.
   */
  stopFlag: Int32Array;
}

/**
 * A task's progress events, in order, then its end marker: nothing of that task follows it
 * on the events channel.
 */
export type BacktestThreadMessage = { taskId: string } & (BacktestEvent | { kind: 'end' });

/** How a thread's backtest ended. Known errors come back as values, never as rejections. */
export type BacktestThreadOutcome =
  | {
      kind: 'completed';
      totalSignals: number;
      candles: number;
      symbolsProcessed: number;
      /** Seconds, as in the result document. */
      executionTime: number;
      /** Why the folder's catalogue row could not be written (the folder is; a rebuild heals). */
      indexError?: string;
    }
  /** The stop flag was seen: the thread wrote nothing (the main thread knows why it asked). */
  | { kind: 'stopped' }
  | {
      kind: 'failed';
      code: FailureCode;
      message: string;
      /** Set when the cause is no property of the task (see RunFault): never failed for it. */
      fault?: RunFault;
    };
