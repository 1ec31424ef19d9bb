import { InjectQueue } from '@nestjs/bullmq';
import { HttpException, HttpStatus, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ConflictError, FailureCode, NotFoundError } from '@app/common';
import { AppConfig } from '@app/config';
import { BacktestRequest, recordUnfinishedRun } from '@app/backtest';
import {
  BACKTEST_JOB_NAME,
  BACKTEST_QUEUE,
  BacktestJobData,
  InjectConfig,
  TaskEventsBus,
} from '@app/platform';
import { newRunId, ResultStore } from '@app/storage';
import { isTerminal, TaskEvent, TaskRequest, TaskStateStore } from '@app/task-state';
import { TaskAcceptedDto } from './task.dto';
import { TaskSnapshot, TaskStates } from './task-states.service';

/** How a synchronous run answers a failure the worker reported (SPEC §4, §5). */
const STATUS_OF_FAILURE: Record<FailureCode, HttpStatus> = {
  invalid_input: HttpStatus.UNPROCESSABLE_ENTITY,
  data_file: HttpStatus.UNPROCESSABLE_ENTITY,
  no_data: HttpStatus.NOT_FOUND,
  timeout: HttpStatus.GATEWAY_TIMEOUT,
  internal: HttpStatus.INTERNAL_SERVER_ERROR,
};

const CANCEL_REASON = 'Cancelled by request';

/** How a synchronous run ended within SYNC_TIMEOUT_S, or that it is still going. */
export type SyncRunOutcome =
  | { kind: 'completed'; taskId: string; resultJson: string }
  | { kind: 'pending'; accepted: TaskAcceptedDto };

/** What a cancel did: stopped a queued task for good, or asked a running one's worker to stop. */
export interface CancelOutcome {
  state: TaskSnapshot;
  /** False while the worker still has to notice the cancel (a running task). */
  settled: boolean;
}

/**
 * Submits backtests to the queue and cancels them (SPEC §6). The API never runs a backtest:
 * it records the task as queued, enqueues a job whose id is the task id, and watches the
 * task's events, which the workers publish through Redis.
 */
@Injectable()
export class BacktestTasks implements OnModuleDestroy {
  private readonly logger = new Logger(BacktestTasks.name);
  /** Synchronous runs waiting for their task; released at shutdown to answer 202 at once. */
  private readonly waiting = new Set<() => void>();

  constructor(
    @InjectQueue(BACKTEST_QUEUE) private readonly queue: Queue<BacktestJobData>,
    private readonly tasks: TaskStateStore,
    private readonly states: TaskStates,
    private readonly store: ResultStore,
    private readonly events: TaskEventsBus,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Records the task as queued, then enqueues its job (job id = task id). */
  async submit(request: BacktestRequest, taskId = newRunId()): Promise<TaskAcceptedDto> {
    const createdAt = new Date().toISOString();
    const taskRequest = toTaskRequest(request);
    await this.tasks.create(taskId, taskRequest, new Date(createdAt));
    try {
      await this.queue.add(
        BACKTEST_JOB_NAME,
        { ...taskRequest, task_id: taskId, created_at: createdAt },
        { jobId: taskId },
      );
    } catch (error) {
      // Without a job the task would wait forever: say so in its state, if Redis lets us.
      await this.tasks
        .fail(taskId, 'The task could not be queued', 'internal')
        .catch(() => undefined);
      throw error;
    }
    return { task_id: taskId, status: 'queued', created_at: createdAt };
  }

  /**
   * Submits and waits up to SYNC_TIMEOUT_S for the task to end. The task's events are
   * watched before the job exists, so even a task finishing at once is seen.
   */
  async runAndWait(request: BacktestRequest): Promise<SyncRunOutcome> {
    const taskId = newRunId();
    const ending = this.waitForEnd(taskId, this.config.syncTimeoutS * 1000);
    let accepted: TaskAcceptedDto;
    try {
      accepted = await this.submit(request, taskId);
    } catch (error) {
      ending.stop();
      throw error;
    }
    const event = (await ending.promise) ?? (await this.stateNow(taskId));
    if (!event || !isTerminal(event.status)) {
      return { kind: 'pending', accepted: { ...accepted, status: event?.status ?? 'queued' } };
    }
    if (event.status === 'completed') {
      return { kind: 'completed', taskId, resultJson: await this.store.readResultText(taskId) };
    }
    if (event.status === 'cancelled') {
      throw new ConflictError(`Task ${taskId} was cancelled before it completed`);
    }
    const status = STATUS_OF_FAILURE[event.error_code ?? 'internal'];
    throw new HttpException(`Task ${taskId} failed: ${event.error ?? 'no reason given'}`, status);
  }

  /**
   * Cancels a queued or running task. A queued task's job is removed and its cancelled
   * manifest written here; a running task is stopped by its worker, which sees the
   * `cancelled` event and writes the manifest itself. Finished tasks are a conflict.
   */
  async cancel(taskId: string): Promise<CancelOutcome> {
    const transition = await this.tasks.cancel(taskId, CANCEL_REASON);
    if (!transition.ok) {
      const current =
        transition.reason === 'conflict'
          ? transition.current
          : (await this.store.readManifest(taskId))?.status;
      if (current === undefined) throw new NotFoundError(`No task ${taskId}`);
      throw new ConflictError(
        `Task ${taskId} has already finished (${current}); only queued or running tasks can be cancelled`,
      );
    }
    const settled = transition.previous === 'queued';
    // 0 when a worker has just taken it: that worker's markRunning finds `cancelled` and skips.
    if (settled) await this.queue.remove(taskId);
    await this.recordCancelled(taskId, settled);
    return { state: await this.states.get(taskId), settled };
  }

  onModuleDestroy(): void {
    for (const release of this.waiting) release();
  }

  /** Resolves with the task's terminal event, or undefined after `timeoutMs` (or at shutdown). */
  private waitForEnd(
    taskId: string,
    timeoutMs: number,
  ): { promise: Promise<TaskEvent | undefined>; stop: () => void } {
    let stop = (): void => undefined;
    const promise = new Promise<TaskEvent | undefined>((resolve) => {
      const finish = (event?: TaskEvent): void => {
        clearTimeout(timer);
        unwatch();
        this.waiting.delete(release);
        resolve(event);
      };
      const release = (): void => finish();
      const timer = setTimeout(release, timeoutMs);
      const unwatch = this.events.watch(taskId, (event) => {
        if (isTerminal(event.status)) finish(event);
      });
      this.waiting.add(release);
      stop = release;
    });
    return { promise, stop };
  }

  /** After the wait: the task's state as the hash has it (in case its last event was missed). */
  private async stateNow(
    taskId: string,
  ): Promise<Pick<TaskEvent, 'status' | 'error' | 'error_code'> | undefined> {
    const record = await this.tasks.get(taskId);
    return record && { status: record.status, error: record.error };
  }

  /**
   * Writes the cancelled manifest now, for a running task too: the hash expires after
   * TASK_TTL_S, and a task whose worker died must not come back to life when another worker
   * picks its job up later (the worker skips a task whose folder has a manifest). A worker
   * that is alive stops at its next boundary and writes the manifest again, with its details.
   */
  private async recordCancelled(taskId: string, wasQueued: boolean): Promise<void> {
    const record = await this.tasks.get(taskId);
    if (!record) return;
    await recordUnfinishedRun(
      this.store,
      taskId,
      'cancelled',
      record,
      {
        created_at: record.created_at,
        started_at: wasQueued ? null : record.started_at,
        finished_at: record.finished_at ?? new Date().toISOString(),
        execution_host: this.config.executionHost,
        environment: this.config.environment,
        worker_id: null,
      },
      record.error ?? CANCEL_REASON,
    );
    this.logger.log(
      { task_id: taskId },
      `[Task ${taskId}] Cancelled while ${wasQueued ? 'queued' : 'running'}`,
    );
  }
}

function toTaskRequest(request: BacktestRequest): TaskRequest {
  const { strategy, params, symbols, start_date, end_date, timeframe } = request;
  return { strategy, params, symbols, start_date, end_date, timeframe };
}
