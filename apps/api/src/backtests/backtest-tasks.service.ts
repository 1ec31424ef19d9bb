import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ConflictError, InvalidInputError, NotFoundError, TaskFailedError } from '@app/common';
import { AppConfig } from '@app/config';
import { BacktestRequest, RunFolders } from '@app/backtest';
import { countRunCandles, kstDateRange } from '@app/data';
import { BACKTEST_QUEUE, InjectConfig, TaskEventsBus } from '@app/platform';
import { newRunId, ResultStore } from '@app/storage';
import {
  enqueueTask,
  isTerminal,
  TaskEvent,
  TaskJobData,
  TaskJobResult,
  TaskStateStore,
} from '@app/task-state';
import { TaskAcceptedDto } from './task.dto';
import { TaskSnapshot, TaskStates } from './task-states.service';

const CANCEL_REASON = 'Cancelled by request';

/** How a synchronous run ended within SYNC_TIMEOUT_S, or that it is still going. */
export type SyncRunOutcome =
  /** Its result is streamed from the run folder: a large one is never held as one string. */
  | { kind: 'completed'; taskId: string }
  /** Still queued or running past SYNC_TIMEOUT_S, or when the API began shutting down. */
  | { kind: 'pending'; accepted: TaskAcceptedDto; reason: 'timeout' | 'shutdown' };

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
  /** Synchronous runs waiting for their task; released at shutdown to answer at once. */
  private readonly waiting = new Set<() => void>();
  private shuttingDown = false;
  /** The API writes one kind of run folder: the cancelled one of a task it cancels. */
  private readonly folders: RunFolders;
  private readonly syncTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly maxCandles: number;
  private readonly dataRoot: string;

  constructor(
    @InjectQueue(BACKTEST_QUEUE) private readonly queue: Queue<TaskJobData, TaskJobResult>,
    private readonly tasks: TaskStateStore,
    private readonly states: TaskStates,
    private readonly store: ResultStore,
    private readonly events: TaskEventsBus,
    @InjectConfig() config: AppConfig,
  ) {
    this.syncTimeoutMs = config.syncTimeoutS * 1000;
    this.maxQueued = config.maxQueuedTasks;
    this.maxCandles = config.maxCandlesPerRun;
    this.dataRoot = config.dataRoot;
    this.folders = new RunFolders(store, {
      executionHost: config.executionHost,
      environment: config.environment,
      workerId: null,
    });
  }

  /**
   * Checks the run's size, records the task as queued, then enqueues its job (job id = task
   * id).
   */
  async submit(request: BacktestRequest, taskId = newRunId()): Promise<TaskAcceptedDto> {
    await this.checkCandleCount(request);
    return enqueueTask(this.queue, this.tasks, taskId, request, { maxQueued: this.maxQueued });
  }

  /**
   * MAX_CANDLES_PER_RUN, before anything is queued (issue 10, item 4): a sync run over 100
   * symbols × 1 M candles once answered 395 MB and took a worker to 1.7 GB. Counted from the
   * footers of the year files the run would read (see countRunCandles), so a refusal costs a
   * few KB of reads per file, and the 422 says the figure and what makes it smaller.
   */
  private async checkCandleCount(request: BacktestRequest): Promise<void> {
    const range = kstDateRange(request.start_date, request.end_date);
    const { total, bySymbol } = await countRunCandles(
      this.dataRoot,
      request.symbols,
      request.timeframe,
      range,
    );
    if (total <= this.maxCandles) return;
    const largest = Object.entries(bySymbol)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 5)
      .map(([symbol, rows]) => `${symbol} ${rows}`)
      .join(', ');
    throw InvalidInputError.of(
      'symbols',
      request.symbols,
      `at most MAX_CANDLES_PER_RUN (${this.maxCandles}) candles in one run; the year files of these symbols from ${request.start_date} to ${request.end_date} hold ${total} (${largest}${request.symbols.length > 5 ? ', …' : ''}): ask for fewer symbols, a shorter range or a longer timeframe`,
    );
  }

  /**
   * Submits and waits up to SYNC_TIMEOUT_S for the task to end. The task's events are
   * watched before the job exists, so even a task finishing at once is seen.
   */
  async runAndWait(request: BacktestRequest): Promise<SyncRunOutcome> {
    const taskId = newRunId();
    const ending = this.waitForEnd(taskId, this.syncTimeoutMs);
    let accepted: TaskAcceptedDto;
    try {
      accepted = await this.submit(request, taskId);
    } catch (error) {
      ending.stop();
      throw error;
    }
    const event = (await ending.promise) ?? (await this.stateNow(taskId));
    if (!event || !isTerminal(event.status)) {
      return {
        kind: 'pending',
        accepted: { ...accepted, status: event?.status ?? 'queued' },
        reason: this.shuttingDown ? 'shutdown' : 'timeout',
      };
    }
    if (event.status === 'completed') {
      return { kind: 'completed', taskId };
    }
    if (event.status === 'cancelled') {
      throw new ConflictError(`Task ${taskId} was cancelled before it completed`);
    }
    throw new TaskFailedError(
      event.error_code ?? 'internal',
      `Task ${taskId} failed: ${event.error ?? 'no reason given'}`,
      taskId,
    );
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
    this.shuttingDown = true;
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
    await this.folders.unfinished(
      taskId,
      'cancelled',
      record,
      {
        created_at: record.created_at,
        started_at: wasQueued ? null : record.started_at,
        finished_at: record.finished_at,
      },
      record.error ?? CANCEL_REASON,
    );
    this.logger.log(
      { task_id: taskId },
      `[Task ${taskId}] Cancelled while ${wasQueued ? 'queued' : 'running'}`,
    );
  }
}
