import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { call } from './support/api-client';
import { AppProcess, startApp } from './support/app-process';
import { launchChromium, watchPage } from './support/browser';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { sampleDataRoot } from './support/sample-data';
import { eventually } from './support/task-harness';

/**
 * The sweep page (/ui/sweeps/{id}, libs/reports) on the real sweeps API: what
 * GET /api/sweeps/{id} answers feeds it (best, top, holdout figures, the request's grid).
 */
describe('the sweep page on the real API (Chromium)', () => {
  jest.setTimeout(120_000);
  let redis: PrivateRedis;
  let dir: string;
  let api: AppProcess;
  let worker: AppProcess;
  let browser: Browser;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dir = mkdtempSync(join(tmpdir(), 'coin-sweeps-ui-'));
    const env = {
      REDIS_URL: redis.url,
      DATA_ROOT: await sampleDataRoot(),
      RESULTS_DIR: join(dir, 'results'),
    };
    api = await startApp('api', env);
    worker = await startApp('worker', { ...env, WORKER_CONCURRENCY: '1' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([api, worker].map((app) => app?.stop('SIGKILL').catch(() => undefined)));
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws the heatmap, the top table and in- against out-of-sample of a holdout sweep', async () => {
    const grid = { vol_ma_window: [10, 20, 30], vol_multiplier: { from: 1, to: 2.5, step: 0.5 } };
    const accepted = await call<{ sweep_id: string }>(api.url, 'POST', '/api/sweeps', {
      body: {
        strategy: 'volume_long_candle',
        symbols: ['ETH_BTC', 'LTC_BTC'],
        timeframe: '5M',
        start_date: '2018-01-10',
        end_date: '2018-01-31',
        grid,
        params: { body_pct: 0.005 },
        validation: { method: 'holdout', test_ratio: 0.3 },
      },
    });
    expect(accepted.status).toBe(202);
    const id = accepted.body.sweep_id;
    await eventually(
      async () =>
        (await call<{ status: string }>(api.url, 'GET', `/api/sweeps/${id}`)).body.status ===
        'completed',
      30_000,
      'the sweep completes',
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    const watch = watchPage(page);
    await page.goto(`${api.url}/ui/sweeps/${id}?x=vol_ma_window&y=vol_multiplier`);
    await page.waitForSelector('body[data-state="done"][data-heatmap="drawn"]');
    // 3 windows × 4 multipliers, every combination in `top` (12 ≤ 50): every cell known.
    expect(await page.locator('#heatmap').getAttribute('data-cells')).toBe('12');
    expect(await page.locator('#top tbody tr').count()).toBe(12);
    expect(await page.locator('#scatter').getAttribute('data-points')).toBe('12');
    expect(await page.locator('#summary').textContent()).toMatch(/12 of 12 combinations/);
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});
