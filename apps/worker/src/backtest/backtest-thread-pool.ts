import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { AppConfig } from '@app/config';
import { BacktestEvent, RunOrigin } from '@app/backtest';
import { InjectConfig } from '@app/platform';
import { WORKER_ORIGIN } from './worker-origin';
import type {
  BacktestThreadMessage,
  BacktestThreadOutcome,
  BacktestThreadSettings,
  BacktestThreadTask,
} from './thread-protocol';

/** How long a thread asked to stop may take to reach its next boundary before it is terminated. */
export const STOP_GRACE_MS = 2000;

const MIB = 1024 * 1024;

/** The compiled thread file beside this one (dist/.../backtest.thread.js). */
const THREAD_FILE = join(__dirname, 'backtest.thread.js');

/** A backtest running on a thread of the pool. */
export interface BacktestRun {
  /** How it ended; a thread terminated after `stop()` counts as stopped. Never rejects. */
  readonly outcome: Promise<BacktestThreadOutcome>;
  /** Asks the thread to stop at its next boundary; terminates it if it has not within STOP_GRACE_MS. */
  stop(): void;
}

/**
 * The worker's backtest threads (piscina): one per WORKER_CONCURRENCY slot, started up front
 * and kept (with their candle caches) for the life of the process.
 */
@Injectable()
export class BacktestThreadPool implements OnApplicationShutdown {
  private readonly pool: Piscina<BacktestThreadTask, BacktestThreadOutcome>;
  private readonly events: BroadcastChannel;
  /** Who handles each running task's messages. */
  private readonly listeners = new Map<string, (message: BacktestThreadMessage) => void>();

  constructor(@InjectConfig() config: AppConfig, @Inject(WORKER_ORIGIN) origin: RunOrigin) {
    const threads = config.workerConcurrency;
    const workerData: BacktestThreadSettings = {
      dataRoot: config.dataRoot,
      resultsDir: config.resultsDir,
      catalogue: { catalogPath: config.catalogPath, databaseUrl: config.databaseUrl },
      origin,
      candleCacheBytes: Math.floor((config.candleCacheMb * MIB) / threads),
      // Unique, so that two pools in one process never hear each other.
      eventsChannel: `coin-backtest-events-${randomUUID()}`,
    };
    this.events = new BroadcastChannel(workerData.eventsChannel);
    this.events.onmessage = (event: unknown) => {
      const message = (event as { data: BacktestThreadMessage }).data;
      this.listeners.get(message.taskId)?.(message);
    };
    // Listening must not keep a draining process alive.
    this.events.unref();
    this.pool = new Piscina({
      filename: THREAD_FILE,
      minThreads: threads,
      maxThreads: threads,
      // Idle threads keep their parsed candle files; restarting them would throw that away.
      idleTimeout: Infinity,
      workerData,
    });
  }

  run(
    task: Omit<BacktestThreadTask, 'stopFlag'>,
    onEvent: (event: BacktestEvent) => void,
  ): BacktestRun {
    const stopFlag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const abort = new AbortController();
    let ended: () => void = () => undefined;
    // The end marker follows the task's every event, so once it arrives all were handled.
    const allEventsHandled = new Promise<void>((resolve) => (ended = resolve));
    this.listeners.set(task.taskId, (message) => {
      if (message.kind === 'end') ended();
      else onEvent(message);
    });
    let abortTimer: NodeJS.Timeout | undefined;

    const outcome = this.pool
      .run({ ...task, stopFlag }, { signal: abort.signal })
      .then(
        async (result) => {
          await allEventsHandled;
          return result;
        },
        (error: unknown): BacktestThreadOutcome => {
          if (abort.signal.aborted) return { kind: 'stopped' };
          // The thread itself died (out of memory, a crash in native code): not the input's fault.
          return {
            kind: 'failed',
            code: 'internal',
            message: `The backtest thread failed: ${error instanceof Error ? error.message : String(error)}`,
          };
        },
      )
      .finally(() => {
        clearTimeout(abortTimer);
        this.listeners.delete(task.taskId);
      });

    return {
      outcome,
      stop: () => {
        if (Atomics.exchange(stopFlag, 0, 1) !== 0) return;
        abortTimer = setTimeout(() => abort.abort(), STOP_GRACE_MS);
      },
    };
  }

  /** Runs after every module's onModuleDestroy, i.e. after the BullMQ worker has drained. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
    this.events.close();
  }
}
