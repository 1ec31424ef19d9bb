import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { FailureCode, RunRequest, TaskStatus } from '@app/common';
import { RunFolders, RunOrigin, RunTimes } from '@app/backtest';
import { Catalogue, catalogueRunIndex } from '@app/catalogue';
import { CATALOGUE } from '@app/platform';
import { Manifest, ResultStore } from '@app/storage';
import { TaskStateStore } from '@app/task-state';
import { WORKER_ORIGIN } from './worker-origin';

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
  private readonly folders: RunFolders;
  private readonly logger = new Logger(TaskFinisher.name);

  constructor(
    private readonly tasks: TaskStateStore,
    results: ResultStore,
    @Inject(WORKER_ORIGIN) readonly origin: RunOrigin,
    // Every worker process has one (CatalogueModule); specs of the folder order may leave it out.
    @Optional() @Inject(CATALOGUE) catalogue?: Catalogue,
  ) {
    this.folders = new RunFolders(
      results,
      origin,
      catalogue &&
        catalogueRunIndex(catalogue, results.resultsDir, (runId, error) =>
          this.indexFailed(runId, error),
        ),
    );
  }

  /**
   * A folder is on disk but its catalogue row could not be written: the task goes on (the
   * folder is the truth; lookups by id read it), history lists it after the next rebuild.
   */
  indexFailed(taskId: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      { task_id: taskId, err: reason },
      `[Task ${taskId}] Catalogue row not written (${reason}); the next catalogue rebuild indexes the folder`,
    );
  }

  /**
   * The completed folder is on disk: mark the task completed. A cancel that won the race turns
   * the folder into a cancelled one (an unfinished folder has no result.json).
   */
  async completed(taskId: string, request: RunRequest, times: RunTimes): Promise<SettledAs> {
    const transition = await this.tasks.complete(taskId);
    if (transition.ok) return 'completed';
    if (transition.reason === 'missing') return 'missing';
    if (transition.current === 'cancelled') await this.cancelled(taskId, request, times);
    return transition.current;
  }

  /** Writes the failed manifest, then fails the task; a cancel that got there first wins. */
  async failed(
    taskId: string,
    request: RunRequest,
    times: RunTimes,
    message: string,
    code: FailureCode,
  ): Promise<SettledAs> {
    await this.folders.unfinished(taskId, 'failed', request, times, message, code);
    const transition = await this.tasks.fail(taskId, message, code);
    if (transition.ok) return 'failed';
    if (transition.reason === 'missing') return 'missing';
    if (transition.current === 'cancelled') await this.cancelled(taskId, request, times);
    return transition.current;
  }

  /**
   * The folder records how the task ended (a worker wrote it, then could not update the hash:
   * Redis was full or away): bring the hash in line. A hash already final is left alone.
   */
  async settleFromFolder(taskId: string, manifest: Manifest): Promise<SettledAs> {
    const transition =
      manifest.status === 'completed'
        ? await this.tasks.complete(taskId)
        : manifest.status === 'failed'
          ? await this.tasks.fail(
              taskId,
              manifest.error.message ?? 'The task failed',
              manifest.error.code ?? 'internal',
            )
          : await this.tasks.cancel(taskId, manifest.error.message ?? undefined);
    if (transition.ok) return manifest.status;
    return transition.reason === 'missing' ? 'missing' : transition.current;
  }

  /** The hash already says cancelled (the API did that): write the matching folder. */
  async cancelled(taskId: string, request: RunRequest, times: RunTimes): Promise<void> {
    const task = await this.tasks.get(taskId);
    const reason = task?.error ?? 'Cancelled by request';
    // Finished when it was cancelled, as the hash and the API's own folder say, not when this
    // worker got round to writing it.
    const finishedAt = task?.finished_at ?? times.finished_at;
    await this.folders.unfinished(
      taskId,
      'cancelled',
      request,
      { ...times, finished_at: finishedAt },
      reason,
    );
  }
}
