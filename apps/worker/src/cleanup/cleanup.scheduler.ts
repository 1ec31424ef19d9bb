import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { InjectConfig, MetricsService, RedisConnections } from '@app/platform';
import { RedisLock, redisKeys } from '@app/task-state';
import { workerIdOf } from '@app/backtest';
import { CleanupSummary, ResultsCleanup } from './results-cleanup.service';

/** The cron job's name in the SchedulerRegistry. */
export const CLEANUP_CRON_JOB = 'results-cleanup';

/** Longest a cleanup may hold the lock; the expiry frees it if its worker dies meanwhile. */
export const CLEANUP_LOCK_TTL_MS = 15 * 60 * 1000;

export type ScheduledCleanupOutcome =
  | { ran: true; summary: CleanupSummary }
  | { ran: false; reason: 'locked' | 'done-elsewhere' | 'failed' };

/**
 * Runs `ResultsCleanup` at CLEANUP_CRON (read from the configuration at start-up, hence the
 * SchedulerRegistry rather than a decorator). Every worker schedules it; exactly one runs
 * each occurrence: the lock keeps runs from overlapping, and the occurrence recorded in
 * `{queue}:cleanup:last-run` (redisKeys) stops a worker whose timer fired a moment later from running the
 * same occurrence again once the first has released the lock.
 */
@Injectable()
export class CleanupScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lock: RedisLock;
  private readonly lastRunKey: string;
  private readonly worker: string;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly cleanup: ResultsCleanup,
    private readonly redis: RedisConnections,
    private readonly schedulerRegistry: SchedulerRegistry,
    private readonly metrics: MetricsService,
    @InjectPinoLogger(CleanupScheduler.name) private readonly logger: PinoLogger,
  ) {
    this.lock = new RedisLock(
      redis.client,
      redisKeys.cleanupLock(config.queueName),
      CLEANUP_LOCK_TTL_MS,
    );
    this.lastRunKey = redisKeys.cleanupLastRun(config.queueName);
    this.worker = workerIdOf(config.executionHost);
  }

  onApplicationBootstrap(): void {
    const job = CronJob.from({
      cronTime: this.config.cleanupCron,
      onTick: () => void this.runOccurrence(new Date()),
      start: false,
    });
    this.schedulerRegistry.addCronJob(CLEANUP_CRON_JOB, job);
    job.start();
    this.logger.info(
      { cron: this.config.cleanupCron, next_run: job.nextDate().toISO() },
      'Results cleanup scheduled',
    );
  }

  onApplicationShutdown(): void {
    if (this.schedulerRegistry.doesExist('cron', CLEANUP_CRON_JOB)) {
      this.schedulerRegistry.deleteCronJob(CLEANUP_CRON_JOB);
    }
  }

  /**
   * The cleanup of the occurrence due at `firedAt`, if no other worker runs or ran it.
   * Occurrences are named by the nearest whole second, which every worker's timer agrees on.
   */
  async runOccurrence(firedAt: Date): Promise<ScheduledCleanupOutcome> {
    const occurrence = Math.round(firedAt.getTime() / 1000) * 1000;
    let token: string | undefined;
    try {
      token = await this.lock.acquire();
      if (token === undefined) return { ran: false, reason: 'locked' };
      const last = Number(await this.redis.client.hget(this.lastRunKey, 'occurrence'));
      if (last >= occurrence) return { ran: false, reason: 'done-elsewhere' };
      const startedAt = new Date();
      await this.redis.client.hset(this.lastRunKey, {
        occurrence: String(occurrence),
        worker: this.worker,
        started_at: startedAt.toISOString(),
        finished_at: '',
        outcome: 'running',
        removed_runs: '',
        removed_mb: '',
      });
      const summary = await this.cleanup.run(startedAt);
      await this.recordSuccess(occurrence, summary, new Date());
      return { ran: true, summary };
    } catch (error) {
      this.logger.error({ err: error }, 'Results cleanup failed; the next occurrence tries again');
      if (token !== undefined) {
        await this.redis.client
          .hset(this.lastRunKey, { finished_at: new Date().toISOString(), outcome: 'failed' })
          .catch(() => undefined);
      }
      return { ran: false, reason: 'failed' };
    } finally {
      if (token !== undefined) await this.lock.release(token).catch(() => undefined);
    }
  }

  private async recordSuccess(
    occurrence: number,
    { runs, sweeps, jobs }: CleanupSummary,
    finishedAt: Date,
  ): Promise<void> {
    this.metrics.cleanupFinished(runs.count, runs.size_bytes, finishedAt);
    await this.redis.client.hset(this.lastRunKey, {
      finished_at: finishedAt.toISOString(),
      outcome: 'completed',
      removed_runs: String(runs.count),
      removed_mb: String(runs.size_mb),
    });
    this.logger.info(
      {
        occurrence: new Date(occurrence).toISOString(),
        removed_count: runs.count,
        removed_mb: runs.size_mb,
        removed_ids: runs.removed.map((entry) => entry.id),
        kept_active_ids: runs.skipped_active,
        removed_sweeps: sweeps.count,
        removed_sweep_ids: sweeps.removed.map((entry) => entry.id),
        jobs_removed: {
          completed: jobs.completed,
          failed: jobs.failed,
          orphaned: jobs.orphaned.length,
        },
        orphaned_job_ids: jobs.orphaned,
      },
      `Results cleanup removed ${runs.count} run folder(s), ${runs.size_mb.toFixed(2)} MB, and ${sweeps.count} sweep folder(s), ${sweeps.size_mb.toFixed(2)} MB`,
    );
  }
}
