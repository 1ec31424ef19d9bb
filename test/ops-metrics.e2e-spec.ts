import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '@app/config';
import {
  PrometheusSample,
  samplesOf,
  sumOf,
} from '../libs/platform/src/metrics/testing/prometheus-text';
import { REPO_ROOT } from './support/app-process';
import { OpsSystem, scrape, SMALL_REQUEST, startOpsSystem, until } from './ops-support/system';

/**
 * /metrics on the running API and worker: the series of the operations issue move while tasks
 * run, labels stay bounded, and what deploy/ scrapes and charts is what the apps export.
 */

jest.setTimeout(90_000);

const UUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

interface Dashboard {
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
}
interface PrometheusConfig {
  scrape_configs: Array<{
    job_name: string;
    metrics_path: string;
    dns_sd_configs?: Array<{ names: string[]; port: number }>;
  }>;
}

const defaultOf = (name: string): string =>
  CONFIG_VARIABLES.find((variable) => variable.name === name)!.default;

describe('metrics of the running API and worker', () => {
  let system: OpsSystem;
  let apiUrl: string;
  let workerUrl: string;
  let apiSamples: PrometheusSample[];
  let workerSamples: PrometheusSample[];

  beforeAll(async () => {
    // A cleanup every second: its gauge is absent until a cleanup has run (issue 10).
    system = await startOpsSystem({ workerEnv: { CLEANUP_CRON: '* * * * * *' } });
    apiUrl = system.api!.url;
    workerUrl = system.workers[0].url;
  });
  afterAll(async () => {
    await system?.stop();
  });

  async function submit(request: object): Promise<string> {
    const response = await fetch(`${apiUrl}/api/backtests/run-async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { task_id: string }).task_id;
  }

  async function statusOf(taskId: string): Promise<string> {
    const response = await fetch(`${apiUrl}/api/backtests/status/${taskId}`);
    return ((await response.json()) as { status: string }).status;
  }

  it('shows jobs, durations, candles, requests and queue depth moving while tasks run', async () => {
    const [apiBefore, workerBefore] = await Promise.all([scrape(apiUrl), scrape(workerUrl)]);
    const count = (samples: PrometheusSample[], name: string, where = {}) =>
      sumOf(samples, name, where);

    const completedIds = [];
    for (const symbols of [['ETH_BTC'], ['LTC_BTC'], ['ADA_BTC', 'ETH_BTC']]) {
      completedIds.push(await submit({ ...SMALL_REQUEST, symbols }));
    }
    // No candles for this symbol anywhere: the job fails (no_data).
    const failedId = await submit({ ...SMALL_REQUEST, symbols: ['NODATA_BTC'] });

    // While they run, the queue's depth is visible on both processes.
    for (const samples of await Promise.all([scrape(apiUrl), scrape(workerUrl)])) {
      const states = samplesOf(samples, 'backtest_queue_jobs').map((sample) => sample.labels.state);
      expect(states).toEqual(
        expect.arrayContaining(['waiting', 'prioritized', 'active', 'delayed', 'failed']),
      );
    }

    for (const id of completedIds) {
      await until(
        () => statusOf(id),
        (status) => status === 'completed',
        30_000,
        `${id} done`,
      );
    }
    await until(
      () => statusOf(failedId),
      (status) => status === 'failed',
      30_000,
      'failure',
    );

    // Counters are updated as each job settles: give the last one a moment.
    workerSamples = await until(
      () => scrape(workerUrl),
      (samples) =>
        count(samples, 'backtest_jobs_total', { outcome: 'failed' }) >
          count(workerBefore, 'backtest_jobs_total', { outcome: 'failed' }) &&
        samplesOf(samples, 'backtest_cleanup_last_run_timestamp_seconds').length > 0,
      10_000,
      'the failed job to be counted and a cleanup to have run',
    );
    // A real time once a cleanup ran, never the 0 ("56 years ago") it read before.
    expect(
      count(workerSamples, 'backtest_cleanup_last_run_timestamp_seconds') * 1000,
    ).toBeGreaterThan(Date.now() - 60_000);
    apiSamples = await scrape(apiUrl);

    const delta = (
      before: PrometheusSample[],
      after: PrometheusSample[],
      name: string,
      where = {},
    ) => count(after, name, where) - count(before, name, where);
    expect(
      delta(workerBefore, workerSamples, 'backtest_jobs_total', { outcome: 'completed' }),
    ).toBe(3);
    expect(delta(workerBefore, workerSamples, 'backtest_jobs_total', { outcome: 'failed' })).toBe(
      1,
    );
    expect(
      delta(workerBefore, workerSamples, 'backtest_job_duration_seconds_count', {
        strategy: 'volume_long_candle',
      }),
    ).toBeGreaterThanOrEqual(3);
    expect(delta(workerBefore, workerSamples, 'backtest_candles_processed_total')).toBeGreaterThan(
      0,
    );
    expect(
      delta(apiBefore, apiSamples, 'http_request_duration_seconds_count', {
        route: '/api/backtests/run-async',
        status_code: '202',
      }),
    ).toBe(4);
    expect(
      count(apiSamples, 'http_request_duration_seconds_count', {
        route: '/api/backtests/status/:task_id',
        status_code: '200',
      }),
    ).toBeGreaterThan(0);
  });

  it('labels requests by route pattern: ids and unknown URLs add no series', async () => {
    await fetch(`${apiUrl}/no/such/page/${'x'.repeat(20)}`);
    const samples = await scrape(apiUrl);
    const routes = new Set(
      samplesOf(samples, 'http_request_duration_seconds_count').map(
        (sample) => sample.labels.route,
      ),
    );
    expect(
      [...routes].filter((route) => UUID_PATTERN.test(route) || route.includes('xxxx')),
    ).toEqual([]);
    expect(routes).toContain('unmatched');
  });

  it('has the default Node process metrics on both processes', () => {
    for (const samples of [apiSamples, workerSamples]) {
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect(samplesOf(samples, name).length).toBeGreaterThan(0);
      }
    }
  });

  it('deploy/prometheus.yml scrapes the ports and path the apps serve metrics on', () => {
    const config = parse(
      readFileSync(join(REPO_ROOT, 'deploy/prometheus.yml'), 'utf8'),
    ) as PrometheusConfig;
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job]));
    expect(Object.keys(jobs).sort()).toEqual(['backtest-api', 'backtest-worker']);
    expect(jobs['backtest-api'].dns_sd_configs![0].port).toBe(Number(defaultOf('PORT')));
    expect(jobs['backtest-worker'].dns_sd_configs![0].port).toBe(
      Number(defaultOf('WORKER_HEALTH_PORT')),
    );
    // The names resolve to the compose services that run the apps.
    const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, unknown>;
    };
    for (const job of config.scrape_configs) {
      expect(job.metrics_path).toBe('/metrics');
      for (const name of job.dns_sd_configs![0].names)
        expect(compose.services).toHaveProperty(name);
    }
  });

  it('the Grafana dashboard charts only series the apps export, from the scraped jobs', () => {
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, 'deploy/grafana/coin-backtest.json'), 'utf8'),
    ) as Dashboard;
    const exported = new Set(
      [...apiSamples, ...workerSamples].map((sample) =>
        sample.name.replace(/_(bucket|count|sum)$/, ''),
      ),
    );
    const exprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set(
      exprs.flatMap((expr) =>
        [...expr.matchAll(/\b((?:http|backtest|process|nodejs)_[a-z0-9_]+)/g)].map((match) =>
          match[1].replace(/_(bucket|count|sum)$/, ''),
        ),
      ),
    );
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    for (const name of [
      'http_request_duration_seconds',
      'backtest_jobs_total',
      'backtest_job_duration_seconds',
      'backtest_queue_jobs',
      'backtest_candles_processed_total',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(used).toContain(name);
    }
    // Every job the dashboard selects is one deploy/prometheus.yml scrapes.
    const prometheus = parse(
      readFileSync(join(REPO_ROOT, 'deploy/prometheus.yml'), 'utf8'),
    ) as PrometheusConfig;
    const jobNames = prometheus.scrape_configs.map((job) => job.job_name);
    const selectors = exprs.flatMap((expr) => [...expr.matchAll(/job(=~?)"([^"]+)"/g)]);
    expect(selectors.length).toBeGreaterThan(0);
    for (const [, operator, value] of selectors) {
      const matches = jobNames.filter((job) =>
        operator === '=' ? job === value : new RegExp(`^(?:${value})$`).test(job),
      );
      expect({ selector: value, matches: matches.length > 0 }).toEqual({
        selector: value,
        matches: true,
      });
    }
  });
});
