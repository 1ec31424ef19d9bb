import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { JobType, KeepJobs, Queue } from 'bullmq';
import { AppConfig } from '@app/config';
import { Catalogue, cleanupRuns, CleanupReport } from '@app/catalogue';
import { BACKTEST_QUEUE, InjectCatalogue, InjectConfig } from '@app/platform';
import { ResultStore } from '@app/storage';
import { cleanupSweeps } from '@app/sweeps';
import { ACTIVE_STATUSES, isTerminal, taskJobOptions, TaskStateStore } from '@app/task-state';

/** Jobs removed per `Queue.clean` call, and the most waiting jobs looked at per run. */
const CLEAN_BATCH = 1000;
const MAX_WAITING_JOBS_SCANNED = 10_000;

/** States of jobs BullMQ has not started yet (a cancelled task's job may be left in them). */
const NOT_STARTED_JOB_STATES: JobType[] = ['waiting', 'prioritized', 'delayed'];

export interface QueueTrimReport {
  /**
   * Finished jobs older than their retention. BullMQ trims by age only when another job of
   * the same kind finishes, so after a quiet spell old ones stay until this removes them.
   */
  completed: number;
  failed: number;
  /** Jobs still waiting whose task is already cancelled or finished: nothing would run them. */
  orphaned: string[];
}

export interface CleanupSummary {
  runs: CleanupReport;
  /** Completed sweeps' folders under RESULTS_DIR/sweeps/ past TASK_RESULT_TTL_DAYS. */
  sweeps: CleanupReport;
  jobs: QueueTrimReport;
}

/**
 * One cleanup pass (SPEC §8) as the worker runs it: run folders past their TTL (the rules of
 * `cleanupRuns`, the same code `cli cleanup` calls), never a folder of a queued or running
 * task; then the queue's leftovers. Scheduling and the one-worker election are
 * `CleanupScheduler`'s.
 */
@Injectable()
export class ResultsCleanup {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly results: ResultStore,
    private readonly tasks: TaskStateStore,
    @InjectQueue(BACKTEST_QUEUE) private readonly queue: Queue,
    @InjectCatalogue() private readonly catalogue: Catalogue,
  ) {}

  async run(now = new Date()): Promise<CleanupSummary> {
    // Chosen by the catalogue (SPEC §11), not by reading every manifest.
    const runs = await cleanupRuns(this.catalogue, this.results, {
      now,
      resultTtlDays: this.config.taskResultTtlDays,
      failedTtlDays: this.config.failedTaskTtlDays,
      // A folder without a manifest may belong to a job still allowed to run this long.
      unfinishedGraceMs: this.config.jobTimeoutS * 1000,
      isActive: (id) => this.isActive(id),
    });
    const sweeps = await cleanupSweeps(
      this.config.resultsDir,
      {
        now,
        resultTtlDays: this.config.taskResultTtlDays,
        unfinishedGraceMs: this.config.jobTimeoutS * 1000,
      },
      false,
      (sweepId) => this.catalogue.removeSweep(sweepId),
    );
    return { runs, sweeps, jobs: await this.trimQueue() };
  }

  /** Queued or running by its task hash (an unreadable hash makes the whole pass fail: safe). */
  private async isActive(id: string): Promise<boolean> {
    const task = await this.tasks.get(id);
    return task !== undefined && ACTIVE_STATUSES.includes(task.status);
  }

  async trimQueue(): Promise<QueueTrimReport> {
    const { removeOnComplete, removeOnFail } = taskJobOptions(this.config.jobAttempts);
    return {
      completed: await this.cleanFinished('completed', retentionMs(removeOnComplete)),
      failed: await this.cleanFinished('failed', retentionMs(removeOnFail)),
      orphaned: await this.removeOrphanedWaitingJobs(),
    };
  }

  private async cleanFinished(
    state: 'completed' | 'failed',
    graceMs: number | undefined,
  ): Promise<number> {
    if (graceMs === undefined) return 0;
    let removed = 0;
    for (;;) {
      const ids = await this.queue.clean(graceMs, CLEAN_BATCH, state);
      removed += ids.length;
      if (ids.length < CLEAN_BATCH) return removed;
    }
  }

  private async removeOrphanedWaitingJobs(): Promise<string[]> {
    const ids = await this.queue.getRanges(NOT_STARTED_JOB_STATES, 0, MAX_WAITING_JOBS_SCANNED - 1);
    const removed: string[] = [];
    for (const id of ids) {
      const task = await this.tasks.get(id);
      // No hash: the reconciler decides (it may be a task whose hash is being recreated).
      if (!task || !isTerminal(task.status)) continue;
      // 0 when a worker took the job meanwhile (locked): it will skip it itself.
      if ((await this.queue.remove(id)) === 1) removed.push(id);
    }
    return removed;
  }
}

/** How long the job options keep a finished job; undefined when not by age (left alone). */
function retentionMs(keep: boolean | number | KeepJobs | undefined): number | undefined {
  return typeof keep === 'object' && 'age' in keep ? keep.age * 1000 : undefined;
}
