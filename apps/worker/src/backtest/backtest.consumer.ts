import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap, OnModuleDestroy, Type } from '@nestjs/common';
import { ConnectionOptions } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { InjectConfig, redisClientOptions } from '@app/platform';
import { TaskJobResult } from '@app/task-state';
import { STOP_GRACE_MS } from './backtest-thread-pool';
import { BacktestJobHandler, TaskJob } from './backtest-job.handler';
import { ConnectionErrorLog } from './connection-error-log';
import { JobControl } from './job-control';
import { ResultsDiskGuard } from './results-disk-guard';
import { TaskFinisher } from './task-finisher';
import { TaskReconciler } from './task-reconciler';

/** Time allowed, after the shutdown grace and the threads' stop, for releasing jobs. */
const CLOSE_MARGIN_MS = 5000;

/**
 * The worker's consumer of the backtest queue: a @nestjs/bullmq WorkerHost, so Nest builds
 * the BullMQ Worker (from the options `backtestConsumerFor` gives it) and wires its events.
 * Each job goes to BacktestJobHandler; this class keeps the Worker's own concerns: its events,
 * and the drain at shutdown.
 */
@Injectable()
export class BacktestConsumer
  extends WorkerHost
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly connectionErrors: ConnectionErrorLog;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly handler: BacktestJobHandler,
    private readonly control: JobControl,
    private readonly reconciler: TaskReconciler,
    private readonly finisher: TaskFinisher,
    private readonly disk: ResultsDiskGuard,
    @InjectPinoLogger(BacktestConsumer.name) private readonly logger: PinoLogger,
  ) {
    super();
    this.connectionErrors = new ConnectionErrorLog(logger);
  }

  process(job: TaskJob, token?: string): Promise<TaskJobResult> {
    return this.handler.handle(job, token);
  }

  /**
   * The Worker is built with autorun off: it starts once every module is ready. It stops
   * taking jobs while this worker cannot write run folders, and takes them again after.
   */
  onApplicationBootstrap(): void {
    const { queueName, workerConcurrency } = this.config;
    this.disk.onChange((usable) => {
      if (usable) void this.worker.resume();
      // Running jobs carry on (each writes or puts itself back); no new one is fetched.
      else void this.worker.pause(true);
    });
    this.worker.run().catch((error: unknown) => {
      this.logger.error({ err: error }, 'The queue worker stopped');
    });
    this.logger.info(
      {
        queue: queueName,
        concurrency: workerConcurrency,
        worker_id: this.finisher.origin.workerId,
      },
      `Consuming queue ${queueName} with concurrency ${workerConcurrency}`,
    );
  }

  /**
   * SIGTERM: stop taking jobs, give the running ones SHUTDOWN_GRACE_S to finish, then release
   * the rest back to the queue for another worker. Runs in onModuleDestroy, before the global
   * Redis connections and the events bus go away (global modules are destroyed last), and
   * before @nestjs/bullmq's own close of the Worker (onApplicationShutdown), which then finds
   * it closed.
   */
  async onModuleDestroy(): Promise<void> {
    const graceS = this.config.shutdownGraceS;
    if (this.control.size > 0) {
      this.logger.info(
        { running: this.control.size, grace_s: graceS },
        `Shutting down: ${this.control.size} running task(s) get ${graceS} s to finish`,
      );
    }
    const releaseTimer = setTimeout(() => this.control.stopAll('released'), graceS * 1000);
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
      if ((await Promise.race([this.worker.close(), closeDeadline])) === 'timeout') {
        this.logger.warn(
          { running: this.control.size },
          'The queue worker did not close (is Redis reachable?); exiting anyway',
        );
        this.abandonWorker();
      }
    } finally {
      clearTimeout(releaseTimer);
      clearTimeout(giveUp);
    }
  }

  /**
   * Drops the Worker's connections without waiting for Redis, and makes the later closes
   * return at once: @nestjs/bullmq closes every Worker again at application shutdown, and
   * that close would wait on the same unfinished one, so the process never exited.
   */
  private abandonWorker(): void {
    const worker = this.worker;
    worker.close = () => Promise.resolve();
    worker.disconnect().catch(() => undefined);
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.connectionErrors.record(error);
  }

  /**
   * A job that stalled more than maxStalledCount is failed by BullMQ without reaching the
   * handler; settle its task now rather than at the reconciler's next pass. (For jobs the
   * handler failed itself the hash is final already and this finds nothing to do.)
   */
  @OnWorkerEvent('failed')
  onFailed(job: TaskJob | undefined): void {
    if (!job?.id) return;
    const taskId = job.id;
    this.reconciler
      .reconcileTask(taskId)
      .catch((error: unknown) =>
        this.logger.warn({ task_id: taskId, err: error }, 'Could not settle a failed job'),
      );
  }

  @OnWorkerEvent('lockRenewalFailed')
  onLockRenewalFailed(jobIds: string[]): void {
    for (const jobId of jobIds) {
      if (!this.control.stop(jobId, 'lost')) continue;
      this.logger.warn(
        { task_id: jobId },
        `[Task ${jobId}] Lost the job's lock: stopping here, the task is another worker's now`,
      );
    }
  }

  @OnWorkerEvent('stalled')
  onStalled(jobId: string): void {
    this.logger.warn(
      { task_id: jobId },
      `[Task ${jobId}] Its worker stopped renewing the lock: back in the queue for another worker`,
    );
  }
}

/**
 * The consumer for this configuration. @nestjs/bullmq takes the queue name and the Worker's
 * options from the @Processor decorator, and both come from the configuration read at
 * start-up (QUEUE_NAME, WORKER_CONCURRENCY, LOCK_DURATION_MS), so the decorated class is made
 * here, once the configuration is known.
 */
export function backtestConsumerFor(config: AppConfig): Type<BacktestConsumer> {
  const { queueName, workerConcurrency, lockDurationMs } = config;
  @Processor(queueName, {
    // The worker's connection (commands queue while Redis is away) even when the process's
    // other connections fail fast (the API and a worker in one process, `npm start`).
    // ioredis options; BullMQ's own type for them is looser and does not match exactly.
    connection: redisClientOptions(config, 'worker') as ConnectionOptions,
    concurrency: workerConcurrency,
    lockDuration: lockDurationMs,
    // A dead worker's job is back in the queue between one and two lock durations later.
    stalledInterval: lockDurationMs,
    // Picked up again once after its worker died; a second death fails it.
    maxStalledCount: 1,
    autorun: false,
  })
  class ConfiguredBacktestConsumer extends BacktestConsumer {}
  return ConfiguredBacktestConsumer;
}
