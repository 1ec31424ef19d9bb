import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { JobState, Queue } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { BACKTEST_QUEUE, InjectConfig, RedisConnections } from '@app/platform';
import { ResultStore } from '@app/storage';
import { isTerminal, RedisLock, redisKeys, TaskStateStore } from '@app/task-state';
import { TaskFinisher } from './task-finisher';

/** Job states in which BullMQ will still run the job (or is running it). */
const LIVE_JOB_STATES: ReadonlySet<JobState | 'unknown'> = new Set([
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
]);

/** What one pass did, for the log and for tests. */
export interface ReconcileReport {
  checked: number;
  touched: number;
  completed: number;
  failed: number;
  forgotten: number;
}

/**
 * Makes sure no task stays queued or running forever. Every LOCK_DURATION_MS one worker (a
 * Redis lock elects it; the work is idempotent anyway) walks the index of queued/running
 * tasks and compares each hash with its BullMQ job:
 * - job still waiting/active/delayed: renew the hash's TTL, so a task waiting in a long queue
 *   (or computing one huge symbol) never expires under its client;
 * - job failed (e.g. its worker died twice: stalled more than maxStalledCount) or gone, while
 *   the hash still says queued/running: settle the task — completed if its folder holds a
 *   completed run (the worker died between writing it and marking it), otherwise failed, with
 *   a failed manifest;
 * - hash expired and job gone: drop the index entry.
 * A job that does not exist yet may be a moment away (the API creates the hash, then adds the
 * job), so a missing job only counts once the task has been unchanged for two passes.
 */
@Injectable()
export class TaskReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  /**
   * Held for half an interval and never released: it has expired by every worker's next
   * tick, so one pass per interval runs whatever the workers' timer phases.
   */
  private readonly lock: RedisLock;

  constructor(
    @InjectConfig() config: AppConfig,
    private readonly tasks: TaskStateStore,
    private readonly results: ResultStore,
    private readonly finisher: TaskFinisher,
    redis: RedisConnections,
    @InjectQueue(BACKTEST_QUEUE) private readonly queue: Queue,
    @InjectPinoLogger(TaskReconciler.name) private readonly logger: PinoLogger,
  ) {
    this.intervalMs = config.lockDurationMs;
    this.lock = new RedisLock(
      redis.client,
      redisKeys.reconcilerLock(config.queueName),
      Math.ceil(this.intervalMs / 2),
    );
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * One interval's pass, run by whichever worker takes the lock first. Its report; undefined
   * when it was another worker's turn (or the pass failed, which is logged).
   */
  async tick(): Promise<ReconcileReport | undefined> {
    try {
      if ((await this.lock.acquire()) === undefined) return undefined;
      const report = await this.reconcile();
      if (report.completed + report.failed + report.forgotten > 0) {
        this.logger.info(report, 'Reconciled task states with the queue');
      }
      return report;
    } catch (error) {
      this.logger.warn({ err: error }, 'Task reconciliation failed; next pass will try again');
      return undefined;
    }
  }

  async reconcile(nowMs = Date.now()): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      checked: 0,
      touched: 0,
      completed: 0,
      failed: 0,
      forgotten: 0,
    };
    for (const { taskId, changedAtMs } of await this.tasks.listActive()) {
      report.checked++;
      // A job that does not exist yet may be a moment away: count it missing after two passes.
      const action = await this.reconcileTask(taskId, nowMs - changedAtMs >= 2 * this.intervalMs);
      if (action !== 'none') report[action]++;
    }
    return report;
  }

  /**
   * Brings one task's hash in line with its job (see the class comment). Also called by the
   * processor when BullMQ fails a job without running it (stalled more than allowed).
   */
  async reconcileTask(
    taskId: string,
    missingJobCounts = true,
  ): Promise<'touched' | 'completed' | 'failed' | 'forgotten' | 'none'> {
    const [task, job] = await Promise.all([this.tasks.get(taskId), this.queue.getJob(taskId)]);
    const state = job ? await job.getState() : 'unknown';
    if (LIVE_JOB_STATES.has(state)) {
      return task && (await this.tasks.touch(taskId)) ? 'touched' : 'none';
    }
    if (!task || isTerminal(task.status)) {
      await this.tasks.forgetActive(taskId);
      return 'forgotten';
    }
    if (state === 'unknown' && !missingJobCounts) return 'none';

    const times = { created_at: task.created_at, started_at: task.started_at };
    const manifest = await this.results.readManifest(taskId);
    if (manifest?.status === 'completed') {
      await this.finisher.completed(taskId, task, times);
      return 'completed';
    }
    const message =
      state === 'failed'
        ? `The task's job failed: ${job?.failedReason ?? 'no reason recorded'}`
        : "The task's job is no longer in the queue";
    await this.finisher.failed(taskId, task, times, message, 'internal');
    this.logger.warn(
      { task_id: taskId, job_state: state, err_message: message },
      `[Task ${taskId}] Was still ${task.status} after its job ended: marked failed`,
    );
    return 'failed';
  }
}
