import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { TaskStateStore } from '@app/task-state';

/** Progress is written to Redis at most this often per task. */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Writes running tasks' progress to their hashes, at most once per PROGRESS_INTERVAL_MS each:
 * enough to watch (a progress bar, SSE), while a stream of quick tasks does not pay a Redis
 * script and an event per symbol. The completion sets progress 1 itself, in the same step as
 * the status, so 1 is never reported here.
 */
@Injectable()
export class ProgressReporter {
  /** When each task's progress was last written (or the task started). */
  private readonly reportedAtMs = new Map<string, number>();

  constructor(
    private readonly tasks: TaskStateStore,
    @InjectPinoLogger(ProgressReporter.name) private readonly logger: PinoLogger,
  ) {}

  start(taskId: string): void {
    this.reportedAtMs.set(taskId, performance.now());
  }

  stop(taskId: string): void {
    this.reportedAtMs.delete(taskId);
  }

  report(taskId: string, progress: number): void {
    if (progress >= 1) return;
    const last = this.reportedAtMs.get(taskId);
    const now = performance.now();
    if (last === undefined || now - last < PROGRESS_INTERVAL_MS) return;
    this.reportedAtMs.set(taskId, now);
    // Monotone in Redis: a late or repeated value is ignored there, so no ordering is needed here.
    this.tasks
      .reportProgress(taskId, progress)
      .catch((error: unknown) =>
        this.logger.warn({ task_id: taskId, err: error }, `[Task ${taskId}] Progress not recorded`),
      );
  }
}
