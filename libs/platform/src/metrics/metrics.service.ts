import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a job ended, as counted by `backtest_jobs_total`. */
export type JobOutcome = 'completed' | 'failed' | 'cancelled';

/** Requests whose URL matched no route share one label value, so odd URLs add no series. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The gauge's name: it is registered late (see cleanupLastRun), and looked up by it. */
const CLEANUP_LAST_RUN = 'backtest_cleanup_last_run_timestamp_seconds';

/**
 * The process's Prometheus registry and the series both apps share. Each process has its
 * own registry (no global state), served at /metrics in the Prometheus text format. The
 * queue depth gauges are added by `QueueDepthMetrics` (they need the queue).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly jobs = new Counter({
    name: 'backtest_jobs_total',
    help: 'Backtest jobs finished, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly jobsPostponed = new Counter({
    name: 'backtest_jobs_postponed_total',
    help: 'Jobs put back in the queue, no attempt used, because Redis or RESULTS_DIR could not be written (by reason)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'backtest_job_duration_seconds',
    help: 'Time from a job starting to its end, by strategy',
    labelNames: ['strategy'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  /**
   * How synchronous runs (POST /api/backtests/run) were answered. A run still going past
   * SYNC_TIMEOUT_S is a 504 by SPEC §10.9 but no fault: `still_running` lets a 5xx alert
   * leave those out.
   */
  readonly syncRuns = new Counter({
    name: 'backtest_sync_runs_total',
    help: 'Synchronous runs by how they were answered: completed, failed, still_running (504), shutting_down (503), respond_async (202)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly candlesProcessed = new Counter({
    name: 'backtest_candles_processed_total',
    help: 'Candles read and run through a strategy',
    registers: [this.registry],
  });

  /**
   * Labelled by the route pattern (`/api/backtests/:id`), never the raw URL: one series per
   * route and status whatever ids clients send.
   */
  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests served, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /** Combinations evaluated by this worker's sweep chunks: rate() of it is combinations/s. */
  readonly sweepCombinations = new Counter({
    name: 'backtest_sweep_combinations_total',
    help: 'Sweep combinations evaluated (counted once per chunk, when the chunk is counted)',
    registers: [this.registry],
  });

  readonly sweepChunks = new Counter({
    name: 'backtest_sweep_chunks_total',
    help: 'Sweep chunks finished on this worker, by outcome: completed, failed, stopped',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly sweepChunksRunning = new Gauge({
    name: 'backtest_sweep_chunks_running',
    help: 'Sweep chunks running on this worker now',
    registers: [this.registry],
  });

  readonly cleanupRemovedRuns = new Counter({
    name: 'backtest_cleanup_removed_runs_total',
    help: 'Run folders deleted by the scheduled cleanup',
    registers: [this.registry],
  });

  readonly cleanupRemovedBytes = new Counter({
    name: 'backtest_cleanup_removed_bytes_total',
    help: 'Bytes of run folders deleted by the scheduled cleanup',
    registers: [this.registry],
  });

  /**
   * Registered only once this process has finished a cleanup: an unlabelled gauge reads 0
   * before its first set, and `time() - max(...)` then made the documented alert fire after
   * every deploy and Grafana show "56 years" (issue 10, item 10). Absent, as the runbook says.
   */
  readonly cleanupLastRun = new Gauge({
    name: CLEANUP_LAST_RUN,
    help: 'When this process last finished a scheduled cleanup (Unix time)',
    registers: [],
  });

  readonly catalogueRebuildDuration = new Gauge({
    name: 'backtest_catalogue_rebuild_duration_seconds',
    help: "How long this process's last catalogue rebuild took (the start-up one, quick mode)",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  jobFinished(outcome: JobOutcome, strategy: string, durationS: number): void {
    this.jobs.inc({ outcome });
    this.jobDuration.observe({ strategy }, durationS);
  }

  httpRequestServed(
    method: string,
    route: string | undefined,
    statusCode: number,
    durationS: number,
  ): void {
    this.httpRequestDuration.observe(
      { method, route: route ?? UNMATCHED_ROUTE, status_code: String(statusCode) },
      durationS,
    );
  }

  cleanupFinished(removedRuns: number, removedBytes: number, at: Date): void {
    this.cleanupRemovedRuns.inc(removedRuns);
    this.cleanupRemovedBytes.inc(removedBytes);
    this.cleanupLastRun.set(at.getTime() / 1000);
    if (!this.registry.getSingleMetric(CLEANUP_LAST_RUN)) {
      this.registry.registerMetric(this.cleanupLastRun);
    }
  }
}
