import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError, WaitingError } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { FailureCode, InvalidInputError, isTransientFault, RunRequest } from '@app/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '@app/config';
import { BacktestEvent, BacktestRequest, parseBacktestRequest, RunTimes } from '@app/backtest';
import { InjectConfig, MetricsService, TaskEventsBus } from '@app/platform';
import { ResultStore } from '@app/storage';
import { readTaskJob, TaskJobData, TaskJobResult, TaskStateStore } from '@app/task-state';
import { BacktestThreadPool } from './backtest-thread-pool';
import { JobControl, RunningJob, StopReason } from './job-control';
import { ProgressReporter } from './progress-reporter';
import { ResultsDiskGuard } from './results-disk-guard';
import { postponesTheJob, RunFault, runFaultOf } from './run-faults';
import { isLastAttempt, TransientFault } from './retry-policy';
import { TaskFinisher } from './task-finisher';
import type { BacktestThreadOutcome } from './thread-protocol';

export type TaskJob = Job<TaskJobData, TaskJobResult>;

/** A postponed job waits this long in BullMQ's delayed set before it is taken again. */
export const POSTPONE_DELAY_MS = 2000;
/** While Redis refuses even the postponing, it is tried again after this, doubling, up to the max. */
const POSTPONE_RETRY_MS = 250;
const POSTPONE_RETRY_MAX_MS = 5000;

const FAULT_WORDS: Record<RunFault, string> = {
  'redis-unavailable': 'Redis is unavailable',
  'redis-full': 'Redis is full (maxmemory)',
  'results-dir': 'RESULTS_DIR cannot be written on this worker',
  'io-busy': 'a file is busy or no file handle is left',
};

/** One try at a job: what it asks for and when it started. */
interface Attempt {
  job: TaskJob;
  taskId: string;
  /** As the job carries it: what the hash and the manifest record. */
  request: RunRequest;
  times: RunTimes;
  startedMs: number;
}

/**
 * What the worker does with one job (SPEC §6): marks the task running, runs the backtest on a
 * pool thread (so the worker's event loop stays free to renew job locks), then settles it —
 * the run folder before the hash (TaskFinisher). The BullMQ side (the Worker, its events,
 * shutdown) is BacktestConsumer's.
 *
 * Faults of the infrastructure are never the task's failure (see RunFault): Redis full or
 * away, or this worker's RESULTS_DIR unusable, put the job back without using an attempt; a
 * busy file is retried with backoff as an attempt. Bad input, missing data, broken files,
 * timeouts and anything unexpected fail the task at once with UnrecoverableError.
 */
@Injectable()
export class BacktestJobHandler {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly tasks: TaskStateStore,
    private readonly results: ResultStore,
    private readonly events: TaskEventsBus,
    private readonly pool: BacktestThreadPool,
    private readonly finisher: TaskFinisher,
    private readonly control: JobControl,
    private readonly progress: ProgressReporter,
    private readonly disk: ResultsDiskGuard,
    private readonly metrics: MetricsService,
    @InjectPinoLogger(BacktestJobHandler.name) private readonly logger: PinoLogger,
  ) {}

  async handle(job: TaskJob, token: string | undefined): Promise<TaskJobResult> {
    const taskId = job.id as string;
    const contents = readTaskJob(taskId, job.data);
    const running = this.control.begin(taskId);
    this.progress.start(taskId);
    // Watch before the task is marked running, so no cancel can slip in between.
    const stopWatching = this.events.watch(taskId, (event) => {
      if (event.status === 'cancelled') running.stop('cancelled');
    });
    const timeout = setTimeout(() => running.stop('timeout'), this.config.jobTimeoutS * 1000);
    const attempt: Attempt = {
      job,
      taskId,
      request: contents.kind === 'validated' ? contents.request : (contents.raw as never),
      times: { created_at: contents.createdAt, started_at: new Date().toISOString() },
      startedMs: performance.now(),
    };
    try {
      return await this.runAttempt(attempt, running, token, () =>
        contents.kind === 'validated'
          ? (contents.request as BacktestRequest)
          : parseBacktestRequest(contents.raw),
      );
    } catch (error) {
      if (
        error instanceof WaitingError ||
        error instanceof DelayedError ||
        error instanceof UnrecoverableError ||
        error instanceof TransientFault
      ) {
        throw error;
      }
      // Something outside the backtest: Redis, the results disk.
      const message = error instanceof Error ? error.message : String(error);
      const fault = runFaultOf(error);
      if (fault !== undefined && postponesTheJob(fault)) {
        return await this.postpone(attempt, running, token, fault, error);
      }
      if (fault !== undefined) this.retryUnlessLastAttempt(attempt, message, 'internal');
      return await this.fail(attempt, message, 'internal');
    } finally {
      clearTimeout(timeout);
      stopWatching();
      this.progress.stop(taskId);
      this.control.end(taskId);
    }
  }

  private async runAttempt(
    attempt: Attempt,
    running: RunningJob,
    token: string | undefined,
    validated: () => BacktestRequest,
  ): Promise<TaskJobResult> {
    const { job, taskId, request, times } = attempt;
    // A run folder with a manifest means the task ended already, even if its hash expired
    // meanwhile (markRunning would rebuild it): cancelled by a client while its worker was
    // gone, or finished by a worker that lost the job's lock just after writing. Never again.
    // Its hash may lag behind (the worker that wrote the folder could not update it: Redis
    // was full or away), so it is brought in line.
    const ended = await this.results.readManifest(taskId);
    if (ended) {
      await this.finisher.settleFromFolder(taskId, ended);
      this.log(taskId, { status: ended.status }, `Skipped: the task has ended (${ended.status})`);
      return { status: 'skipped' };
    }
    const marked = await this.tasks.markRunning(taskId, request, times.created_at ?? '');
    if (!marked.ok) {
      // Cancelled while it waited, or finished already (a duplicate delivery): nothing to run.
      const current = marked.reason === 'conflict' ? marked.current : 'missing';
      if (current === 'cancelled' && !(await this.results.readManifest(taskId))) {
        await this.finisher.cancelled(taskId, request, times);
      }
      this.log(taskId, { status: current }, 'Skipped: the task is no longer queued');
      return { status: 'skipped' };
    }
    this.log(
      taskId,
      {
        strategy: request.strategy,
        attempt: job.attemptsMade + 1,
        worker_id: this.finisher.origin.workerId,
      },
      `Starting backtest: ${request.strategy}`,
    );

    let backtest: BacktestRequest;
    try {
      backtest = validated();
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return await this.fail(attempt, error.message, 'invalid_input');
    }

    const run = this.pool.run({ taskId, request: backtest, times }, (event) =>
      this.onBacktestEvent(taskId, event),
    );
    running.attach(run);
    const outcome = await run.outcome;
    if (running.reason === 'lost') return this.abandon(taskId);
    switch (outcome.kind) {
      case 'completed':
        return await this.settleCompleted(attempt, outcome);
      case 'stopped':
        return await this.settleStopped(attempt, running.reason, token);
      case 'failed':
        if (outcome.fault !== undefined && postponesTheJob(outcome.fault)) {
          return await this.postpone(
            attempt,
            running,
            token,
            outcome.fault,
            new Error(outcome.message),
          );
        }
        if (outcome.fault !== undefined) {
          this.retryUnlessLastAttempt(attempt, outcome.message, outcome.code);
        }
        return await this.fail(attempt, outcome.message, outcome.code);
    }
  }

  private async settleCompleted(
    attempt: Attempt,
    outcome: Extract<BacktestThreadOutcome, { kind: 'completed' }>,
  ): Promise<TaskJobResult> {
    const { taskId, request, times, startedMs } = attempt;
    if (outcome.indexError !== undefined) this.finisher.indexFailed(taskId, outcome.indexError);
    const settled = await this.finisher.completed(taskId, request, times);
    const seconds = (performance.now() - startedMs) / 1000;
    this.metrics.candlesProcessed.inc(outcome.candles);
    if (settled === 'cancelled') {
      this.metrics.jobFinished('cancelled', request.strategy, seconds);
      this.log(taskId, { status: settled }, 'Cancelled as it finished: result removed');
      return { status: 'cancelled' };
    }
    this.metrics.jobFinished('completed', request.strategy, seconds);
    this.log(
      taskId,
      {
        status: settled,
        execution_time: outcome.executionTime,
        duration_ms: Math.round(seconds * 1000),
        total_signals: outcome.totalSignals,
        symbols_processed: outcome.symbolsProcessed,
        candles: outcome.candles,
      },
      'Backtest completed successfully',
    );
    return { status: 'completed', total_signals: outcome.totalSignals };
  }

  private async settleStopped(
    attempt: Attempt,
    reason: StopReason | undefined,
    token: string | undefined,
  ): Promise<TaskJobResult> {
    const { job, taskId, request, times, startedMs } = attempt;
    switch (reason) {
      case 'cancelled':
        await this.finisher.cancelled(taskId, request, times);
        this.metrics.jobFinished(
          'cancelled',
          request.strategy,
          (performance.now() - startedMs) / 1000,
        );
        this.log(taskId, { status: 'cancelled' }, 'Cancelled: stopped, no result written');
        return { status: 'cancelled' };
      case 'timeout':
        return await this.fail(
          attempt,
          `The backtest ran longer than JOB_TIMEOUT_S (${this.config.jobTimeoutS} s) and was stopped`,
          'timeout',
        );
      case 'lost':
        return this.abandon(taskId);
      case 'released':
        // Back to the waiting list for another worker: not a failure, no attempt used up.
        await job.moveToWait(token);
        this.log(
          taskId,
          { status: 'running' },
          'Released back to the queue: this worker is shutting down',
        );
        throw new WaitingError();
      case undefined:
        return await this.fail(attempt, 'The backtest stopped without being asked to', 'internal');
    }
  }

  /**
   * Leaves a job whose lock was lost: its hash and folder are the new owner's to write, and
   * BullMQ must not move it either (WaitingError: "already taken care of").
   */
  private abandon(taskId: string): never {
    this.log(taskId, { status: 'abandoned' }, 'Abandoned after losing its lock: nothing written');
    throw new WaitingError();
  }

  /**
   * Puts the job back in the queue without using an attempt (BullMQ's delayed set, then
   * waiting): an infrastructure fault is never the task's failure. The hash goes back to
   * queued. While Redis refuses even that (full, or away), it is tried again with backoff;
   * if meanwhile the job's lock is lost or the worker shuts down, the job is left to BullMQ,
   * which hands it on once its lock expires.
   */
  private async postpone(
    attempt: Attempt,
    running: RunningJob,
    token: string | undefined,
    fault: RunFault,
    error: unknown,
  ): Promise<never> {
    const { job, taskId } = attempt;
    const message = error instanceof Error ? error.message : String(error);
    if (fault === 'results-dir') this.disk.reportFault(error as Error);
    this.metrics.jobsPostponed.inc({ reason: fault });
    this.logger.warn(
      { task_id: taskId, fault, err_message: message },
      `[Task ${taskId}] Back in the queue, no attempt used: ${FAULT_WORDS[fault]} (${message})`,
    );
    for (let waitMs = POSTPONE_RETRY_MS; ; waitMs = Math.min(2 * waitMs, POSTPONE_RETRY_MAX_MS)) {
      if (running.reason === 'lost' || running.reason === 'released') throw new WaitingError();
      try {
        await this.tasks.requeue(taskId);
        await job.moveToDelayed(Date.now() + POSTPONE_DELAY_MS, token);
      } catch (retryError) {
        if (!isTransientFault(retryError)) throw retryError;
        await sleep(waitMs);
        continue;
      }
      throw new DelayedError();
    }
  }

  /** Throws for BullMQ to retry with backoff, unless this was the last try (then returns). */
  private retryUnlessLastAttempt(attempt: Attempt, message: string, code: FailureCode): void {
    const { job, taskId } = attempt;
    if (isLastAttempt(job)) return;
    this.logger.warn(
      { task_id: taskId, attempt: job.attemptsMade + 1, error_code: code, err_message: message },
      `[Task ${taskId}] Transient fault, will retry: ${message}`,
    );
    throw new TransientFault(message);
  }

  /** Fails the task for good: failed manifest, hash failed (unless a cancel won), no retry. */
  private async fail(attempt: Attempt, message: string, code: FailureCode): Promise<never> {
    const { taskId, request, times, startedMs } = attempt;
    const settled = await this.finisher.failed(taskId, request, times, message, code);
    this.metrics.jobFinished(
      settled === 'cancelled' ? 'cancelled' : 'failed',
      request.strategy,
      (performance.now() - startedMs) / 1000,
    );
    this.logger.error(
      { task_id: taskId, status: settled, error_code: code, err_message: message },
      `[Task ${taskId}] Backtest failed: ${message}`,
    );
    throw new UnrecoverableError(message);
  }

  private onBacktestEvent(taskId: string, event: BacktestEvent): void {
    const fields = { task_id: taskId, symbol: event.symbol };
    switch (event.kind) {
      case 'symbol-started':
        this.logger.info(
          { ...fields, index: event.index, total: event.total },
          `[Task ${taskId}] Processing ${event.symbol} (${event.index}/${event.total})`,
        );
        return;
      case 'data-loaded':
        this.logger.info(
          { ...fields, rows: event.rows },
          `[Task ${taskId}] Data loaded: ${event.rows} rows`,
        );
        break;
      case 'symbol-finished':
        this.logger.debug(
          { ...fields, signals: event.signals },
          `[Task ${taskId}] Finished ${event.symbol}: ${event.signals} signals`,
        );
        break;
    }
    this.progress.report(taskId, event.progress);
  }

  private log(taskId: string, fields: object, message: string): void {
    this.logger.info({ task_id: taskId, ...fields }, `[Task ${taskId}] ${message}`);
  }
}
