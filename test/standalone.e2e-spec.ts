import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultDocument } from '@app/backtest';
import { AppProcess, REPO_ROOT, startApp } from './support/app-process';
import { call, TaskAccepted, waitForTask } from './support/api-client';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';

/** `npm start`: the API and a worker in one process, for small installs. */
describe('npm start (API + worker in one process)', () => {
  let redis: PrivateRedis;
  let service: AppProcess;
  let resultsDir: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-standalone-'));
    service = await startApp('standalone', {
      REDIS_URL: redis.url,
      DATA_ROOT: join(REPO_ROOT, 'data'),
      RESULTS_DIR: resultsDir,
      WORKER_CONCURRENCY: '2',
    });
  });
  afterAll(async () => {
    expect(await service.stop()).toBe(0);
    await redis.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
  });

  const request = {
    strategy: 'volume_long_candle',
    symbols: ['ETH_BTC', 'LTC_BTC'],
    timeframe: '5M',
    start_date: '2018-01-10',
    end_date: '2018-01-31',
    params: { vol_multiplier: 1.2, body_pct: 0.005 },
  };

  it('runs a synchronous backtest to its result with no other process', async () => {
    const response = await call<ResultDocument>(service.url, 'POST', '/api/backtests/run', {
      body: request,
    });
    expect(response.status).toBe(200);
    expect(response.body.symbols.map((s) => s.symbol)).toEqual(['ETH_BTC', 'LTC_BTC']);
    expect(response.body.total_signals).toBeGreaterThan(0);
    expect(readdirSync(resultsDir)).toContain(response.body.run_id);
  });

  it('runs queued tasks and serves their results, health and worker metrics on PORT', async () => {
    const accepted = await call<TaskAccepted>(service.url, 'POST', '/api/backtests/run-async', {
      body: request,
    });
    expect(accepted.status).toBe(202);
    const final = await waitForTask(service.url, accepted.body.task_id);
    expect(final.status).toBe('completed');
    expect((await call(service.url, 'GET', '/health')).status).toBe(200);
    const metrics = await call(service.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/backtest_jobs_total\{outcome="completed"\} [2-9]/);
    expect(metrics.text).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/api\/backtests\/run-async"/,
    );
  });
});
