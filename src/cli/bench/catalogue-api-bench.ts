import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { generateRunFolders, HISTORY_FILTER_MIX } from '@app/catalogue';
import { seededRandom } from '@app/data';
import { freePort, startRedis, stopChild, waitForPort } from './bench-processes';
import { median, percentile, roundMs } from './stats';

/**
 * `cli bench --catalog` (npm run bench:catalog): SPEC §11's figures through the built API,
 * not the library alone. `runs` generated run folders; for each backend a fresh catalogue:
 * the API's start-up rebuild of the empty catalogue, then a restart on the complete one (the
 * start-up every deploy sees), then history pages from 10 concurrent clients cycling through
 * the filter mix of the library bench, `/latest`, and `/health/live` probed every 10 ms
 * meanwhile; the API's RSS after the restart and after the load. Not a test.
 */
export interface CatalogueApiBenchOptions {
  runs: number;
  backends: readonly ('sqlite' | 'postgres')[];
  /** A PostgreSQL server where a private database is created and dropped. */
  postgresUrl: string;
  tmpDir: string;
  historyCalls: number;
  clients: number;
}

const API_ENTRY = join(__dirname, '..', '..', '..', 'apps', 'api', 'src', 'main.js');
const LATEST_CALLS = 200;

export async function benchCatalogueApi(options: CatalogueApiBenchOptions): Promise<unknown> {
  const resultsDir = join(options.tmpDir, 'tasks');
  const generating = performance.now();
  await generateRunFolders(resultsDir, options.runs, { seed: 7 });
  const generatedS = (performance.now() - generating) / 1000;
  const redis = await startRedis(join(options.tmpDir, 'redis'));
  try {
    const backends: Record<string, unknown> = {};
    for (const backend of options.backends) {
      backends[backend] = await benchBackend(backend, resultsDir, redis.url, options);
    }
    return { runs: options.runs, generated_s: roundMs(generatedS), redis: redis.version, backends };
  } finally {
    await redis.stop();
  }
}

async function benchBackend(
  backend: 'sqlite' | 'postgres',
  resultsDir: string,
  redisUrl: string,
  options: CatalogueApiBenchOptions,
): Promise<unknown> {
  const database = `catalogue_bench_${randomBytes(5).toString('hex')}`;
  const env: Record<string, string> = {
    REDIS_URL: redisUrl,
    DATA_ROOT: options.tmpDir,
    RESULTS_DIR: resultsDir,
    QUEUE_NAME: `bench-${backend}`,
    LOG_LEVEL: 'warn',
    ENV_FILE: '',
    CATALOG_PATH: join(options.tmpDir, `catalog-${database}.sqlite`),
  };
  if (backend === 'postgres') {
    await adminQuery(options.postgresUrl, `CREATE DATABASE ${database}`);
    const url = new URL(options.postgresUrl);
    url.pathname = `/${database}`;
    env.DATABASE_URL = url.toString();
  }
  try {
    // An empty catalogue: the start-up rebuild indexes every folder.
    let api = await startApi(env);
    const fullRebuildS = await untilRebuilt(api.url);
    await stopChild(api.child);
    // A complete one: what a restart sees.
    const restarting = performance.now();
    api = await startApi(env);
    await untilRebuilt(api.url);
    const restartS = (performance.now() - restarting) / 1000;
    const rssBeforeMb = rssMb(api.child);
    try {
      const load = await historyLoad(api.url, options);
      const latest: number[] = [];
      for (let call = 0; call < LATEST_CALLS; call++) {
        const started = performance.now();
        const response = await fetch(`${api.url}/api/backtests/latest`);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`/latest answered ${response.status}`);
        latest.push(performance.now() - started);
      }
      return {
        start_up_rebuild_empty_catalogue_s: roundMs(fullRebuildS),
        restart_until_quick_rebuild_done_s: roundMs(restartS),
        ...load,
        latest_ms: { p50: roundMs(median(latest)), p99: roundMs(percentile(latest, 0.99)) },
        api_rss_mb: { after_restart: rssBeforeMb, after_load: rssMb(api.child) },
      };
    } finally {
      await stopChild(api.child);
    }
  } finally {
    if (backend === 'postgres')
      await adminQuery(options.postgresUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

async function historyLoad(
  url: string,
  options: CatalogueApiBenchOptions,
): Promise<Record<string, unknown>> {
  const random = seededRandom(11);
  const queries = Array.from({ length: options.historyCalls }, (_, call) => {
    const kind = HISTORY_FILTER_MIX[call % HISTORY_FILTER_MIX.length];
    const params = new URLSearchParams({ limit: '20' });
    for (const [key, value] of Object.entries(kind.make(random)))
      if (value !== undefined) params.set(key, String(value));
    return `/api/backtests/history?${params.toString()}`;
  });
  const times: number[] = [];
  const live: number[] = [];
  let next = 0;
  let running = true;
  const probing = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(`${url}/health/live`);
      await response.arrayBuffer();
      live.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (next < queries.length) {
        const query = queries[next++];
        const callStarted = performance.now();
        const response = await fetch(`${url}${query}`);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${query} answered ${response.status}`);
        times.push(performance.now() - callStarted);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  running = false;
  await probing;
  return {
    history_ms: {
      calls: times.length,
      clients: options.clients,
      p50: roundMs(median(times)),
      p99: roundMs(percentile(times, 0.99)),
      per_s: Math.round(times.length / elapsedS),
    },
    health_live_meanwhile_ms: {
      probes: live.length,
      p99: roundMs(percentile(live, 0.99)),
      max: roundMs(Math.max(...live)),
    },
  };
}

async function startApi(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [API_ENTRY], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, child);
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Seconds until the API's start-up rebuild says done (from now). */
async function untilRebuilt(url: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    const response = await fetch(`${url}/health/ready`);
    const body = (await response.json()) as { checks?: { catalogue?: { rebuild?: string } } };
    const state = body.checks?.catalogue?.rebuild;
    if (state === 'done') return (performance.now() - started) / 1000;
    if (state === 'failed') throw new Error('the start-up rebuild failed');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function rssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Math.round(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024);
}

async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
