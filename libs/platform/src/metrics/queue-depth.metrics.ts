import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import { withTimeout } from '../health/with-timeout';
import { BACKTEST_QUEUE } from '../queue';
import { MetricsService } from './metrics.service';

/** The BullMQ states whose job counts are exported (prioritized jobs wait too, by priority). */
export const QUEUE_DEPTH_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'failed',
] as const;

/** A scrape must answer even while Redis does not. */
export const QUEUE_COUNT_TIMEOUT_MS = 1000;

/**
 * `backtest_queue_jobs{state}`: the backtest queue's job counts, read from Redis when
 * Prometheus scrapes (one round trip), so the numbers are as fresh as the scrape. While
 * Redis is unreachable the series are absent rather than stale.
 */
@Injectable()
export class QueueDepthMetrics {
  readonly gauge: Gauge<'state'>;

  constructor(
    @InjectQueue(BACKTEST_QUEUE) private readonly queue: Queue,
    metrics: MetricsService,
  ) {
    const read = (): Promise<Record<string, number>> =>
      withTimeout(
        this.queue.getJobCounts(...QUEUE_DEPTH_STATES),
        QUEUE_COUNT_TIMEOUT_MS,
        'queue job counts',
      );
    this.gauge = new Gauge({
      name: 'backtest_queue_jobs',
      help: 'Jobs in the backtest queue, by state (read from Redis at scrape time)',
      labelNames: ['state'] as const,
      registers: [metrics.registry],
      async collect() {
        try {
          const counts = await read();
          for (const state of QUEUE_DEPTH_STATES) this.set({ state }, counts[state] ?? 0);
        } catch {
          this.reset();
        }
      },
    });
  }
}
