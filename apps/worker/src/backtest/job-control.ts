import { Injectable } from '@nestjs/common';
import type { BacktestRun } from './backtest-thread-pool';

/**
 * Why the worker asked a running backtest to stop. `lost`: BullMQ could not renew the job's
 * lock (Redis was away longer than LOCK_DURATION_MS, or the lock expired), so the job may be
 * running on another worker already: stop and write nothing.
 */
export type StopReason = 'cancelled' | 'timeout' | 'released' | 'lost';

/** One job in progress on this worker: what can stop it, and its thread once started. */
export class RunningJob {
  reason: StopReason | undefined;
  private run: BacktestRun | undefined;

  /** The first reason wins: a task cancelled while it times out is cancelled. */
  stop(reason: StopReason): void {
    this.reason ??= reason;
    this.run?.stop();
  }

  /** The job's thread has started; a stop asked for before now reaches it at once. */
  attach(run: BacktestRun): void {
    this.run = run;
    if (this.reason) run.stop();
  }
}

/** The jobs this worker is running, by task id: the one place that can stop them. */
@Injectable()
export class JobControl {
  private readonly running = new Map<string, RunningJob>();

  begin(taskId: string): RunningJob {
    const job = new RunningJob();
    this.running.set(taskId, job);
    return job;
  }

  end(taskId: string): void {
    this.running.delete(taskId);
  }

  /** Stops one job; false when this worker is not running it. */
  stop(taskId: string, reason: StopReason): boolean {
    const job = this.running.get(taskId);
    job?.stop(reason);
    return job !== undefined;
  }

  stopAll(reason: StopReason): void {
    for (const job of this.running.values()) job.stop(reason);
  }

  get size(): number {
    return this.running.size;
  }
}
