import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** How a job ended, as counted by `backtest_jobs_total`. */
export type JobOutcome = 'completed' | 'failed' | 'cancelled';

/**
 * The process's Prometheus registry and the series both apps share. Each process has its
 * own registry (no global state), served at /metrics in the Prometheus text format.
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

  readonly jobDuration = new Histogram({
    name: 'backtest_job_duration_seconds',
    help: 'Time from a job starting to its end, by strategy',
    labelNames: ['strategy'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly candlesProcessed = new Counter({
    name: 'backtest_candles_processed_total',
    help: 'Candles read and run through a strategy',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  jobFinished(outcome: JobOutcome, strategy: string, durationS: number): void {
    this.jobs.inc({ outcome });
    this.jobDuration.observe({ strategy }, durationS);
  }
}
