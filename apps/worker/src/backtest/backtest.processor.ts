import { performance } from 'node:perf_hooks';
import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConnectionOptions, Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { FailureCode, InvalidInputError } from '@app/common';
import { AppConfig } from '@app/config';
import {
  BacktestEvent,
  BacktestRequest,
  parseBacktestRequest,
  REQUEST_FIELDS,
} from '@app/backtest';
import {
  BacktestJobData,
  BacktestJobResult,
  InjectConfig,
  MetricsService,
  redisClientOptions,
  TaskEventsBus,
} from '@app/platform';
import { ResultStore } from '@app/storage';
import { TaskRequest, TaskStateStore } from '@app/task-state';
import { BacktestRun, BacktestThreadPool, STOP_GRACE_MS } from './backtest-thread-pool';
import type { BacktestThreadOutcome } from './thread-protocol';
import { RunStart, TaskFinisher } from './task-finisher';
import { TaskReconciler } from './task-reconciler';
import { isTransientFault } from './transient-faults';

/** Time allowed, after the shutdown grace and the threads' stop, for releasing jobs. */
const CLOSE_MARGIN_MS = 5000;

/** Progress is written to Redis at most this often per task. */
export const PROGRESS_INTERVAL_MS = 100;

/** At most one log line per this interval about Redis connection errors. */
const CONNECTION_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Why the worker asked a running backtest to stop. `lost`: BullMQ could not renew the job's
 * lock (Redis was away longer than LOCK_DURATION_MS, or the lock expired), so the job may be
 * running on another worker already: stop and write nothing.
 */
type StopReason = 'cancelled' | 'timeout' | 'released' | 'lost';

/** A fault worth another try, handed to BullMQ to retry the job with backoff. */
class TransientFault extends Error {
  override readonly name = 'TransientFault';
}

/** One try at a job: what it asks for and when it started. */
interface Attempt {
  job: Job<BacktestJobData, BacktestJobResult>;
  taskId: string;
  request: TaskRequest;
  start: RunStart;
  startedMs: number;
}

/** One job in progress on this worker: what can stop it, and its thread once started. */
class RunningJob {
  reason: StopReason | undefined;
  run: BacktestRun | undefined;
  /** When progress was last written to Redis (or the job started). */
  progressReportedAtMs = performance.now();

  /** The first reason wins: a task cancelled while it times out is cancelled. */
  stop(reason: StopReason): void {
    this.reason ??= reason;
    this.run?.stop();
  }

  attach(run: BacktestRun): void {
    this.run = run;
    if (this.reason) run.stop();
  }
}

/**
 * The worker's consumer of the backtest queue (SPEC §6). It owns a BullMQ Worker built from
 * the configuration at start-up (QUEUE_NAME, WORKER_CONCURRENCY, LOCK_DURATION_MS), and for
 * each job: marks the task running, runs the backtest on a pool thread (so this event loop
 * stays free to renew job locks), then writes the outcome — the run folder before the hash.
 *
 * Retries: only transient faults are thrown back to BullMQ for another try with backoff (the
 * task stays `running` in between); bad input, missing data, broken files, timeouts and
 * anything unexpected fail the task at once with UnrecoverableError.
 */
@Injectable()
export class BacktestProcessor implements OnApplicationBootstrap, OnModuleDestroy {
  private worker: Worker<BacktestJobData, BacktestJobResult> | undefined;
  private readonly running = new Map<string, RunningJob>();
  private connectionErrors = { loggedAtMs: 0, suppressed: 0 };

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly tasks: TaskStateStore,
    private readonly results: ResultStore,
    private readonly events: TaskEventsBus,
    private readonly pool: BacktestThreadPool,
    private readonly finisher: TaskFinisher,
    private readonly reconciler: TaskReconciler,
    private readonly metrics: MetricsService,
    @InjectPinoLogger(BacktestProcessor.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    const { queueName, workerConcurrency, lockDurationMs } = this.config;
    const worker = new Worker<BacktestJobData, BacktestJobResult>(
      queueName,
      (job, token) => this.process(job, token),
      {
        // ioredis options; BullMQ's own type for them is looser and does not match exactly.
        connection: redisClientOptions(this.config, 'worker') as ConnectionOptions,
        concurrency: workerConcurrency,
        lockDuration: lockDurationMs,
        // A dead worker's job is back in the queue between one and two lock durations later.
        stalledInterval: lockDurationMs,
        // Picked up again once after its worker died; a second death fails it.
        maxStalledCount: 1,
        autorun: false,
      },
    );
    worker.on('error', (error) => this.onWorkerError(error));
    // A job that stalled more than maxStalledCount is failed by BullMQ without reaching the
    // processor; settle its task now rather than at the reconciler's next pass. (For jobs the
    // processor failed itself the hash is final already and this finds nothing to do.)
    worker.on('failed', (job) => {
      if (!job?.id) return;
      this.reconciler
        .reconcileTask(job.id)
        .catch((error: unknown) =>
          this.logger.warn({ task_id: job.id, err: error }, 'Could not settle a failed job'),
        );
    });
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        const job = this.running.get(jobId);
        if (!job) continue;
        this.logger.warn(
          { task_id: jobId },
          `[Task ${jobId}] Lost the job's lock: stopping here, the task is another worker's now`,
        );
        job.stop('lost');
      }
    });
    worker.on('stalled', (jobId) =>
      this.logger.warn(
        { task_id: jobId },
        `[Task ${jobId}] Its worker stopped renewing the lock: back in the queue for another worker`,
      ),
    );
    this.worker = worker;
    worker.run().catch((error: unknown) => {
      this.logger.error({ err: error }, 'The queue worker stopped');
    });
    this.logger.info(
      { queue: queueName, concurrency: workerConcurrency, worker_id: this.finisher.workerId },
      `Consuming queue ${queueName} with concurrency ${workerConcurrency}`,
    );
  }

  /**
   * SIGTERM: stop taking jobs, give the running ones SHUTDOWN_GRACE_S to finish, then release
   * the rest back to the queue for another worker. Runs in onModuleDestroy, before the global
   * Redis connections and the events bus go away (global modules are destroyed last).
   */
  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    const graceS = this.config.shutdownGraceS;
    if (this.running.size > 0) {
      this.logger.info(
        { running: this.running.size, grace_s: graceS },
        `Shutting down: ${this.running.size} running task(s) get ${graceS} s to finish`,
      );
    }
    const releaseTimer = setTimeout(() => {
      for (const job of this.running.values()) job.stop('released');
    }, graceS * 1000);
    // BullMQ's close never returns while Redis is unreachable. Past the grace period, the
    // threads' stop and a margin for the releases, stop waiting: a job that could not be
    // released is picked up again once its lock expires, like a crashed worker's.
    let giveUp: NodeJS.Timeout | undefined;
    const closeDeadline = new Promise<'timeout'>((resolve) => {
      giveUp = setTimeout(
        () => resolve('timeout'),
        graceS * 1000 + STOP_GRACE_MS + CLOSE_MARGIN_MS,
      );
    });
    try {
      if ((await Promise.race([worker.close(), closeDeadline])) === 'timeout') {
        this.logger.warn(
          { running: this.running.size },
          'The queue worker did not close (is Redis reachable?); exiting anyway',
        );
      }
    } finally {
      clearTimeout(releaseTimer);
      clearTimeout(giveUp);
    }
  }

  private async process(
    job: Job<BacktestJobData, BacktestJobResult>,
    token: string | undefined,
  ): Promise<BacktestJobResult> {
    const taskId = job.id as string;
    const control = new RunningJob();
    this.running.set(taskId, control);
    // Watch before the task is marked running, so no cancel can slip in between.
    const stopWatching = this.events.watch(taskId, (event) => {
      if (event.status === 'cancelled') control.stop('cancelled');
    });
    const timeout = setTimeout(() => control.stop('timeout'), this.config.jobTimeoutS * 1000);
    const attempt: Attempt = {
      job,
      taskId,
      request: taskRequestOf(job.data),
      start: this.finisher.runStart(job.data.created_at ?? null, new Date().toISOString()),
      startedMs: performance.now(),
    };
    try {
      return await this.runAttempt(attempt, control, token);
    } catch (error) {
      if (
        error instanceof WaitingError ||
        error instanceof UnrecoverableError ||
        error instanceof TransientFault
      ) {
        throw error;
      }
      // Something outside the backtest: Redis, the results disk.
      const message = error instanceof Error ? error.message : String(error);
      if (isTransientFault(error)) this.retryOrFail(attempt, message, 'internal');
      return await this.fail(attempt, message, 'internal');
    } finally {
      clearTimeout(timeout);
      stopWatching();
      this.running.delete(taskId);
    }
  }

  private async runAttempt(
    attempt: Attempt,
    control: RunningJob,
    token: string | undefined,
  ): Promise<BacktestJobResult> {
    const { job, taskId, request, start } = attempt;
    // A run folder with a manifest means the task ended already, even if its hash expired
    // meanwhile (markRunning would rebuild it): cancelled by a client while its worker was
    // gone, or finished by a worker that lost the job's lock just after writing. Never again.
    const ended = await this.results.readManifest(taskId);
    if (ended) {
      this.log(taskId, { status: ended.status }, `Skipped: the task has ended (${ended.status})`);
      return { status: 'skipped' };
    }
    const marked = await this.tasks.markRunning(taskId, request, job.data.created_at);
    if (!marked.ok) {
      // Cancelled while it waited, or finished already (a duplicate delivery): nothing to run.
      const current = marked.reason === 'conflict' ? marked.current : 'missing';
      if (current === 'cancelled' && !(await this.results.readManifest(taskId))) {
        await this.finisher.cancelled(taskId, request, start);
      }
      this.log(taskId, { status: current }, 'Skipped: the task is no longer queued');
      return { status: 'skipped' };
    }
    this.log(
      taskId,
      { strategy: request.strategy, attempt: job.attemptsMade + 1, worker_id: start.worker_id },
      `Starting backtest: ${request.strategy}`,
    );

    let validated: BacktestRequest;
    try {
      validated = parseBacktestRequest(request);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return await this.fail(attempt, error.message, 'invalid_input');
    }

    const run = this.pool.run({ taskId, request: validated, timing: start }, (event) =>
      this.onBacktestEvent(taskId, event),
    );
    control.attach(run);
    const outcome = await run.outcome;
    if (control.reason === 'lost') return this.abandon(taskId);
    switch (outcome.kind) {
      case 'completed':
        return await this.settleCompleted(attempt, outcome);
      case 'stopped':
        return await this.settleStopped(attempt, control.reason, token);
      case 'failed':
        if (outcome.transient) this.retryOrFail(attempt, outcome.message, outcome.code);
        return await this.fail(attempt, outcome.message, outcome.code);
    }
  }

  private async settleCompleted(
    attempt: Attempt,
    outcome: Extract<BacktestThreadOutcome, { kind: 'completed' }>,
  ): Promise<BacktestJobResult> {
    const { taskId, request, start, startedMs } = attempt;
    const settled = await this.finisher.completed(taskId, request, start);
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
  ): Promise<BacktestJobResult> {
    const { job, taskId, request, start, startedMs } = attempt;
    switch (reason) {
      case 'cancelled':
        await this.finisher.cancelled(taskId, request, start);
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

  /** Throws for BullMQ to retry with backoff, unless this was the last try (then returns). */
  private retryOrFail(attempt: Attempt, message: string, code: FailureCode): void {
    const { job, taskId } = attempt;
    if (isLastAttempt(job)) return;
    this.logger.warn(
      { task_id: taskId, attempt: job.attemptsMade + 1, error_code: code, err_message: message },
      `[Task ${taskId}] Transient fault, will retry: ${message}`,
    );
    throw new TransientFault(message);
  }

  private log(taskId: string, fields: object, message: string): void {
    this.logger.info({ task_id: taskId, ...fields }, `[Task ${taskId}] ${message}`);
  }

  /**
   * While Redis is away every reconnect attempt is an error: say so once per
   * CONNECTION_ERROR_LOG_INTERVAL_MS (with how many were left out), not hundreds of times.
   */
  private onWorkerError(error: Error): void {
    if (!isTransientFault(error)) {
      this.logger.error({ err: error }, `Queue worker error: ${error.message}`);
      return;
    }
    const now = Date.now();
    if (now - this.connectionErrors.loggedAtMs < CONNECTION_ERROR_LOG_INTERVAL_MS) {
      this.connectionErrors.suppressed++;
      return;
    }
    this.logger.warn(
      { err_message: error.message, repeated: this.connectionErrors.suppressed },
      `Queue connection problem (retrying): ${error.message}`,
    );
    this.connectionErrors = { loggedAtMs: now, suppressed: 0 };
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
    // The completion sets progress 1 itself, in the same step as the status.
    if (event.progress >= 1) return;
    // At most one update per PROGRESS_INTERVAL_MS: enough to watch (a progress bar, SSE),
    // while a stream of quick tasks does not pay a Redis script and an event per symbol.
    const job = this.running.get(taskId);
    const now = performance.now();
    if (!job || now - job.progressReportedAtMs < PROGRESS_INTERVAL_MS) return;
    job.progressReportedAtMs = now;
    // Monotone in Redis: a late or repeated value is ignored there, so no ordering is needed here.
    this.tasks
      .reportProgress(taskId, event.progress)
      .catch((error: unknown) =>
        this.logger.warn({ task_id: taskId, err: error }, `[Task ${taskId}] Progress not recorded`),
      );
  }

  /** Fails the task for good: failed manifest, hash failed (unless a cancel won), no retry. */
  private async fail(attempt: Attempt, message: string, code: FailureCode): Promise<never> {
    const { taskId, request, start, startedMs } = attempt;
    const settled = await this.finisher.failed(taskId, request, start, message, code);
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
}

/** The request fields of the job's data (the rest is the task id and creation time). */
function taskRequestOf(data: BacktestJobData): TaskRequest {
  const request: Record<string, unknown> = {};
  for (const field of REQUEST_FIELDS) request[field] = data[field];
  return request as unknown as TaskRequest;
}

/** BullMQ counts attempts made before this one; the job fails for good after the last. */
function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
