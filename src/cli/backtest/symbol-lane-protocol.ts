import type { BacktestRequest, SymbolOutcome } from '@app/backtest';
import type { LaneOutcome } from './symbol-queue';
import type { ThreadError } from '@app/common';

/*
 * What the main thread of `cli backtest` and its symbol threads say to each other. Types and
 * one constant only: the main thread starts the threads before it has loaded the engine.
 */

/** The workerData that makes symbol-thread.js a symbol thread's entry. */
export const SYMBOL_THREAD = 'cli-backtest-symbol-thread';

/** A thread's part of a run, posted to it once the request is known. */
export interface SymbolLaneTask {
  request: BacktestRequest;
  dataRoot: string;
  /** The shared memory of the run's SymbolQueue. */
  queue: Int32Array;
}

export type SymbolStage = 'loaded' | 'finished';

export type SymbolLaneResult = Array<LaneOutcome<SymbolOutcome, ThreadError>>;

/** What a thread posts back: progress as it goes, then what it did. */
export type SymbolLaneMessage =
  | { kind: 'progress'; symbol: string; stage: SymbolStage }
  | { kind: 'done'; result: SymbolLaneResult };
