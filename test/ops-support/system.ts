import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOG_FILE_NAME, indexRunFolder, openCatalogue } from '@app/catalogue';
import { ResultStore } from '@app/storage';
import { RunRequest } from '@app/common';
import { manifestFields } from '../../libs/storage/src/testing/fixtures';
import {
  parsePrometheusText,
  PrometheusSample,
} from '../../libs/platform/src/metrics/testing/prometheus-text';
import { AppProcess, ENTRY, REPO_ROOT, startApp } from '../support/app-process';
import { PrivateRedis, startPrivateRedis } from '../support/redis-server';
import { sampleDataRoot } from '../support/sample-data';

/** A request that completes in well under a second on the bundled sample data. */
export const SMALL_REQUEST: RunRequest = {
  strategy: 'volume_long_candle',
  params: {},
  execution: { fee: 0, slippage: 0, positions: 'overlap' },
  symbols: ['ETH_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

/**
 * What an operator runs: a private Redis, the built API and workers on free ports, the
 * bundled sample data, and a results directory of its own.
 */
export interface OpsSystem {
  redis: PrivateRedis;
  api?: AppProcess;
  workers: AppProcess[];
  dataRoot: string;
  /** A temporary directory holding RESULTS_DIR (`results`) and anything else a test needs. */
  scratch: string;
  resultsDir: string;
  /** The environment every process got (REDIS_URL, DATA_ROOT, RESULTS_DIR, extras). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startOpsSystem(
  options: {
    api?: boolean;
    workers?: number;
    env?: Record<string, string>;
    apiEnv?: Record<string, string>;
    workerEnv?: Record<string, string>;
  } = {},
): Promise<OpsSystem> {
  const redis = await startPrivateRedis();
  const scratch = mkdtempSync(join(tmpdir(), 'coin-ops-'));
  const resultsDir = join(scratch, 'results');
  const env = {
    REDIS_URL: redis.url,
    DATA_ROOT: await sampleDataRoot(),
    RESULTS_DIR: resultsDir,
    WORKER_CONCURRENCY: '1',
    ...options.env,
  };
  const system: OpsSystem = {
    redis,
    workers: [],
    dataRoot: env.DATA_ROOT,
    scratch,
    resultsDir,
    env,
    stop: async () => {
      await Promise.allSettled([
        ...system.workers.map((worker) => worker.stop()),
        system.api?.stop(),
      ]);
      await redis.dispose();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  try {
    if (options.api ?? true) system.api = await startApp('api', { ...env, ...options.apiEnv });
    for (let i = 0; i < (options.workers ?? 1); i++) {
      system.workers.push(await startApp('worker', { ...env, ...options.workerEnv }));
    }
    // As a deployment does: traffic only once every process says it is ready.
    for (const app of [system.api, ...system.workers]) {
      if (app)
        await until(
          () => fetch(`${app.url}/health/ready`),
          (r) => r.ok,
          20_000,
          'ready',
        );
    }
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}

/** GET a URL whose answer is JSON (of the type the caller expects). */
export async function getJson<T>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** The samples of a process's /metrics. */
export async function scrape(baseUrl: string): Promise<PrometheusSample[]> {
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`${baseUrl}/metrics answered ${response.status}`);
  return parsePrometheusText(await response.text());
}

/** Polls `read` until `accept` holds (liveness, not speed: generous timeouts). */
export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
  what = 'the condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`not within ${timeoutMs} ms: ${what}; last: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A finished run folder whose manifest says it finished `ageDays` ago (how a folder looks
 * once it is that old: the cleanup goes by the manifest's finished time).
 */
export async function backdatedRun(
  resultsDir: string,
  id: string,
  status: 'completed' | 'failed' | 'cancelled',
  ageDays: number,
): Promise<void> {
  const store = new ResultStore(resultsDir);
  const finishedAt = new Date(Date.now() - ageDays * 24 * 3600 * 1000).toISOString();
  const fields = manifestFields({
    metadata: { ...manifestFields().metadata, finished_at: finishedAt },
  });
  if (status === 'completed') {
    await store.saveCompleted(id, JSON.stringify({ version: '1.1.0', run_id: id }), fields);
  } else {
    await store.saveUnfinished(id, status, fields);
  }
  // Then its row in the catalogue beside the folders, as the service's writers do (SPEC §11).
  const catalogue = await openCatalogue({
    catalogPath: join(resultsDir, CATALOG_FILE_NAME),
    sqliteMode: 'inline',
  });
  try {
    await indexRunFolder(catalogue, resultsDir, id);
  } finally {
    await catalogue.close();
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command (the built CLI, a script) to its end, from the repository root. */
export function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ENV_FILE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The built CLI (`node dist/src/cli/main.js ...`). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return run(process.execPath, [ENTRY.cli, ...args], env);
}
