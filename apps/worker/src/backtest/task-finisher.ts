import { Injectable } from '@nestjs/common';
import { FailureCode } from '@app/common';
import { AppConfig } from '@app/config';
import { recordUnfinishedRun, RunTiming } from '@app/backtest';
import { InjectConfig } from '@app/platform';
import { ResultStore, RunRequestRecord } from '@app/storage';
import { TaskStateStore, TaskStatus } from '@app/task-state';

/** A run's manifest timing before it ends: who ran it and since when. */
export type RunStart = Omit<RunTiming, 'finished_at'>;

/** Where a task ended up after the worker tried to settle it. */
export type SettledAs = TaskStatus | 'missing';

/**
 * The last step of every task the worker touches, in the one safe order: the run folder is
 * written first, then the task:{id} hash moves to its final state. A crash in between leaves a
 * hash still queued/running with a folder on disk, which the reconciler settles; the other
 * order could leave a hash saying "completed" with no result to serve.
 *
 * The transitions are guarded in Redis, so a cancel racing the end of a run is decided there:
 * whoever loses rewrites the folder to match what the hash says.
 */
@Injectable()
export class TaskFinisher {
  /** This process, as recorded in results and manifests (host:pid, unique among live workers). */
  readonly workerId: string;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly tasks: TaskStateStore,
    private readonly results: ResultStore,
  ) {
    this.workerId = `${config.executionHost}:${process.pid}`;
  }

  runStart(createdAt: string | null, startedAt: string | null): RunStart {
    return {
      created_at: createdAt,
      started_at: startedAt,
      execution_host: this.config.executionHost,
      environment: this.config.environment,
      worker_id: this.workerId,
    };
  }

  /**
   * The completed folder is on disk: mark the task completed. A cancel that won the race turns
   * the folder into a cancelled one (saveUnfinished removes result.json).
   */
  async completed(taskId: string, request: RunRequestRecord, start: RunStart): Promise<SettledAs> {
    const transition = await this.tasks.complete(taskId);
    if (transition.ok) return 'completed';
    if (transition.reason === 'missing') return 'missing';
    if (transition.current === 'cancelled') {
      await this.writeUnfinished(taskId, 'cancelled', request, start, await this.reasonOf(taskId));
    }
    return transition.current;
  }

  /** Writes the failed manifest, then fails the task; a cancel that got there first wins. */
  async failed(
    taskId: string,
    request: RunRequestRecord,
    start: RunStart,
    message: string,
    code: FailureCode,
  ): Promise<SettledAs> {
    await this.writeUnfinished(taskId, 'failed', request, start, message);
    const transition = await this.tasks.fail(taskId, message, code);
    if (transition.ok) return 'failed';
    if (transition.reason === 'missing') return 'missing';
    if (transition.current === 'cancelled') {
      await this.writeUnfinished(taskId, 'cancelled', request, start, await this.reasonOf(taskId));
    }
    return transition.current;
  }

  /** The hash already says cancelled (the API did that): write the matching folder. */
  async cancelled(taskId: string, request: RunRequestRecord, start: RunStart): Promise<void> {
    await this.writeUnfinished(taskId, 'cancelled', request, start, await this.reasonOf(taskId));
  }

  private async reasonOf(taskId: string): Promise<string> {
    return (await this.tasks.get(taskId))?.error ?? 'Cancelled by request';
  }

  private async writeUnfinished(
    taskId: string,
    status: 'failed' | 'cancelled',
    request: RunRequestRecord,
    start: RunStart,
    message: string,
  ): Promise<void> {
    await recordUnfinishedRun(
      this.results,
      taskId,
      status,
      request,
      { ...start, finished_at: new Date().toISOString() },
      message,
    );
  }
}
