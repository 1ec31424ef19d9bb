import { Controller, Get, Module, NotFoundException, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getQueueToken } from '@nestjs/bullmq';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import { loadConfig } from '@app/config';
import { PrivateRedis, startPrivateRedis } from '../../../../test/support/redis-server';
import { AppConfigModule } from '../config.module';
import { TASK_JOB_NAME } from '@app/task-state';
import { BACKTEST_QUEUE, backtestQueueModules } from '../queue';
import { RedisModule } from '../redis.module';
import { MetricsModule } from './metrics.module';
import { MetricsService } from './metrics.service';
import { parsePrometheusText, samplesOf, sumOf } from './testing/prometheus-text';

@Controller('things')
class ThingsController {
  @Get(':id')
  one(@Param('id') id: string): { id: string } {
    if (id === 'missing') throw new NotFoundException(`No thing ${id}`);
    return { id };
  }
}

describe('MetricsModule', () => {
  let redis: PrivateRedis;
  let app: NestFastifyApplication;
  let queue: Queue;

  const scrape = async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    return { response, samples: parsePrometheusText(response.body) };
  };

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const config = loadConfig({ REDIS_URL: redis.url, QUEUE_NAME: 'metrics-spec' });
    @Module({
      imports: [
        AppConfigModule.forRoot(config),
        RedisModule.forRoot('api'),
        ...backtestQueueModules('api'),
        MetricsModule,
      ],
      controllers: [ThingsController],
    })
    class TestAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    queue = app.get<Queue>(getQueueToken(BACKTEST_QUEUE));
    await queue.waitUntilReady();
  });

  afterAll(async () => {
    await app?.close();
    await redis.dispose();
  });

  it('serves the Prometheus text format with the default Node metrics', async () => {
    const { response, samples } = await scrape();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(samplesOf(samples, name)).not.toHaveLength(0);
    }
  });

  it('times requests by route pattern and status, never by raw URL', async () => {
    for (const id of ['a1', 'b2', 'c3']) {
      expect((await app.inject({ method: 'GET', url: `/things/${id}` })).statusCode).toBe(200);
    }
    expect((await app.inject({ method: 'GET', url: '/things/missing' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/no/such/route/42' })).statusCode).toBe(404);

    const { samples } = await scrape();
    const count = 'http_request_duration_seconds_count';
    expect(sumOf(samples, count, { route: '/things/:id', status_code: '200' })).toBe(3);
    expect(sumOf(samples, count, { route: '/things/:id', status_code: '404' })).toBe(1);
    expect(sumOf(samples, count, { route: 'unmatched', status_code: '404' })).toBe(1);
    const routes = new Set(samplesOf(samples, count).map((sample) => sample.labels.route));
    expect([...routes].filter((route) => /a1|b2|c3|missing|42/.test(route))).toEqual([]);
  });

  it('reads the queue depth by state at scrape time', async () => {
    const data = { task_id: 'x' };
    await queue.add(TASK_JOB_NAME, data, { jobId: 'waiting-1' });
    await queue.add(TASK_JOB_NAME, data, { jobId: 'waiting-2' });
    await queue.add(TASK_JOB_NAME, data, { jobId: 'delayed-1', delay: 3_600_000 });
    const { samples } = await scrape();
    expect(sumOf(samples, 'backtest_queue_jobs', { state: 'waiting' })).toBe(2);
    expect(sumOf(samples, 'backtest_queue_jobs', { state: 'delayed' })).toBe(1);
    expect(sumOf(samples, 'backtest_queue_jobs', { state: 'active' })).toBe(0);
    expect(sumOf(samples, 'backtest_queue_jobs', { state: 'failed' })).toBe(0);
    await queue.obliterate({ force: true });
    const after = await scrape();
    expect(sumOf(after.samples, 'backtest_queue_jobs', { state: 'waiting' })).toBe(0);
  });

  it('counts what the worker and the cleanup report into the served registry', async () => {
    const metrics = app.get(MetricsService);
    metrics.jobFinished('completed', 'volume_long_candle', 0.2);
    metrics.jobFinished('failed', 'volume_zone_breakout', 3);
    metrics.candlesProcessed.inc(1234);
    // Absent, not 0, before the first cleanup: 0 would read as "last ran in 1970".
    expect(
      samplesOf((await scrape()).samples, 'backtest_cleanup_last_run_timestamp_seconds'),
    ).toEqual([]);
    metrics.cleanupFinished(2, 4096, new Date('2024-01-01T00:00:00Z'));
    metrics.cleanupFinished(0, 0, new Date('2024-01-01T00:00:00Z'));
    const { samples } = await scrape();
    expect(sumOf(samples, 'backtest_jobs_total', { outcome: 'completed' })).toBe(1);
    expect(sumOf(samples, 'backtest_jobs_total', { outcome: 'failed' })).toBe(1);
    expect(
      sumOf(samples, 'backtest_job_duration_seconds_count', { strategy: 'volume_long_candle' }),
    ).toBe(1);
    expect(sumOf(samples, 'backtest_candles_processed_total')).toBe(1234);
    expect(sumOf(samples, 'backtest_cleanup_removed_runs_total')).toBe(2);
    expect(samplesOf(samples, 'backtest_cleanup_last_run_timestamp_seconds')).toHaveLength(1);
    expect(sumOf(samples, 'backtest_cleanup_last_run_timestamp_seconds')).toBe(1704067200);
  });

  it('still answers while Redis is down, without stale queue numbers, and recovers', async () => {
    await redis.stop();
    try {
      const { response, samples } = await scrape();
      expect(response.statusCode).toBe(200);
      expect(samplesOf(samples, 'backtest_queue_jobs')).toEqual([]);
      expect(samplesOf(samples, 'process_cpu_seconds_total')).not.toHaveLength(0);
    } finally {
      await redis.start();
    }
    const deadline = Date.now() + 10_000;
    let queueSeries = 0;
    while (queueSeries === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      queueSeries = samplesOf((await scrape()).samples, 'backtest_queue_jobs').length;
    }
    expect(queueSeries).toBeGreaterThan(0);
  });
});
