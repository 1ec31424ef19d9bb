import { ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fastify } from 'fastify';
import { version as FASTIFY_VERSION } from 'fastify/package.json';
import Redis from 'ioredis';
import { parseBacktestRequest } from '@app/backtest';
import { loadConfig } from '@app/config';
import { newRunId } from '@app/storage';
import { redisKeys, TaskStateStore } from '@app/task-state';
import { freePort, startRedis, stopChild, waitForPort } from './bench-processes';
import { median } from './stats';

/**
 * `cli bench --http`: what the API's request pipeline costs on its most frequent read,
 * GET /api/backtests/status/{id} (clients poll it), measured side by side on one private Redis.
 *
 * (a) Bare Fastify: a server doing the same work and nothing else, in its own process — one
 *     HGETALL of the same task:{id} hash through ioredis, the same JSON document as the
 *     answer — the ceiling any Fastify-based server can reach here.
 * (b) The API as it is deployed: the built app (dist/apps/api/src/main.js) in its own
 *     process, with an API_KEY set and LOG_LEVEL=info (its log lines are written, to
 *     /dev/null: the cost is real, nothing is kept).
 *
 * The task hash is written the way the service writes it (TaskStateStore: created, then
 * running at half way), so the status read is the common one: from Redis, no result file.
 * Both answers are compared before anything is measured. Each round runs autocannon with
 * `connections` keep-alive connections for `durationS` against (a), then (b) (the next round
 * (b) then (a), and so on); the figures are medians over `rounds`.
 *
 * With `baselineDir` (another checkout, built: a `git worktree` of an older commit), its API
 * is measured too, in the same rounds right after ours: on a shared machine whose load moves
 * by half between runs, a before/after comparison only means something within one run.
 */
export interface HttpBenchOptions {
  rounds: number;
  /** Seconds each system is loaded per round. */
  durationS: number;
  connections: number;
  /** Scratch directory: Redis files, the API's DATA_ROOT and RESULTS_DIR. */
  tmpDir: string;
  /** When set, the API runs under `node --cpu-prof` and writes its profile here on exit. */
  cpuProfileDir?: string;
  /** A checkout whose built API (dist/apps/api/src/main.js) is measured alongside ours. */
  baselineDir?: string;
}

export interface HttpFigures {
  requests_per_s: number;
  p99_ms: number;
  /**
   * CPU time the server process used per request (user + system, all its threads). Unlike
   * req/s it hardly moves when other work shares the machine: it says what a request costs.
   */
  cpu_us_per_request: number | null;
  rounds: Array<{ requests_per_s: number; p99_ms: number; cpu_us_per_request: number | null }>;
}

export interface HttpBenchReport {
  machine: { node: string; cpus: number };
  redis: string;
  settings: {
    route: string;
    connections: number;
    duration_s: number;
    rounds: number;
    api: string;
    bare: string;
    cpu_profile_dir?: string;
    baseline?: string;
  };
  bare_fastify: HttpFigures;
  status_endpoint: HttpFigures;
  /** Median status-endpoint req/s over median bare-Fastify req/s. */
  ratio: number;
  /** Each round's own ratio, to show the spread. */
  round_ratios: number[];
  /** The baseline checkout's status endpoint and its ratio, when one was given. */
  baseline?: { status_endpoint: HttpFigures; ratio: number; round_ratios: number[] };
  targets: { ratio_min: number; met: boolean };
}

/** The status endpoint should keep at least this share of bare Fastify's throughput. */
const RATIO_TARGET = 0.6;
const WARM_UP_S = 2;
const BARE_SERVER_ROLE = 'HTTP_BENCH_BARE_SERVER_PORT';
const QUEUE_NAME = 'bench-http';
const API_KEY = 'http-bench-api-key';
/** This build's API, and where another checkout keeps its own. */
const API_MAIN = join(__dirname, '..', '..', '..', 'apps', 'api', 'src', 'main.js');
const API_MAIN_IN_CHECKOUT = join('dist', 'apps', 'api', 'src', 'main.js');
const JSON_TYPE = 'application/json; charset=utf-8';
const statusPath = (taskId: string): string => `/api/backtests/status/${taskId}`;

/** A small backtest request: only its hash is read, no worker runs it. */
const BENCH_REQUEST = parseBacktestRequest({
  strategy: 'volume_long_candle',
  symbols: ['BTC_KRW', 'ETH_KRW'],
  start_date: '2024-01-01',
  end_date: '2024-03-31',
  timeframe: '1H',
});

export async function benchHttp(options: HttpBenchOptions): Promise<HttpBenchReport> {
  for (const [name, value] of Object.entries({
    rounds: options.rounds,
    durationS: options.durationS,
    connections: options.connections,
  })) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
    }
  }
  const baselineMain =
    options.baselineDir === undefined ? undefined : join(options.baselineDir, API_MAIN_IN_CHECKOUT);
  if (baselineMain !== undefined && !existsSync(baselineMain)) {
    throw new Error(
      `${baselineMain} is missing: build that checkout first (npm ci, npm run build)`,
    );
  }
  const autocannon = await loadAutocannon();
  const redis = await startRedis(join(options.tmpDir, 'redis'));
  const children: ChildProcess[] = [];
  try {
    const taskId = await writeRunningTask(redis.url);
    const bare = await startBareServer(redis.url, children);
    const api = await startApi(API_MAIN, redis.url, options, children);
    const baseline =
      baselineMain === undefined
        ? undefined
        : await startApi(
            baselineMain,
            redis.url,
            { ...options, cpuProfileDir: undefined },
            children,
          );
    const path = statusPath(taskId);
    await checkSameAnswer(bare, api, path);
    if (baseline) await checkSameAnswer(bare, baseline, path);

    const load = (server: Server, durationS: number) =>
      loadServer(autocannon, server, path, durationS, options.connections);
    const servers = baseline ? [bare, api, baseline] : [bare, api];
    for (const server of servers) await load(server, WARM_UP_S);
    const rounds = servers.map((): HttpFigures['rounds'] => []);
    // Every other round runs them in reverse order, so that a drift in the machine's load
    // (neighbours starting or finishing) does not favour whichever always runs first.
    for (let round = 0; round < options.rounds; round++) {
      const order = [...servers.keys()];
      if (round % 2 === 1) order.reverse();
      for (const index of order) rounds[index].push(await load(servers[index], options.durationS));
    }
    const [bareRounds, apiRounds, baselineRounds] = rounds;
    const bareFigures = summarize(bareRounds);
    const apiFigures = summarize(apiRounds);
    const ratio = round3(apiFigures.requests_per_s / bareFigures.requests_per_s);
    const ratiosOf = (serverRounds: HttpFigures['rounds']): number[] =>
      serverRounds.map((figures, round) =>
        round3(figures.requests_per_s / bareRounds[round].requests_per_s),
      );
    const baselineFigures = baselineRounds && summarize(baselineRounds);
    return {
      machine: { node: process.version, cpus: availableParallelism() },
      redis: `private redis-server ${redis.version} on 127.0.0.1`,
      settings: {
        route: 'GET /api/backtests/status/{task_id} (a running task, read from Redis)',
        connections: options.connections,
        duration_s: options.durationS,
        rounds: options.rounds,
        api: 'dist/apps/api/src/main.js, API_KEY set, LOG_LEVEL=info (lines to /dev/null)',
        bare: `fastify ${FASTIFY_VERSION} + ioredis HGETALL, the same JSON, no logger`,
        ...(options.cpuProfileDir !== undefined && { cpu_profile_dir: options.cpuProfileDir }),
        ...(options.baselineDir !== undefined && { baseline: options.baselineDir }),
      },
      bare_fastify: bareFigures,
      status_endpoint: apiFigures,
      ratio,
      round_ratios: ratiosOf(apiRounds),
      ...(baselineFigures && {
        baseline: {
          status_endpoint: baselineFigures,
          ratio: round3(baselineFigures.requests_per_s / bareFigures.requests_per_s),
          round_ratios: ratiosOf(baselineRounds),
        },
      }),
      targets: { ratio_min: RATIO_TARGET, met: ratio >= RATIO_TARGET },
    };
  } finally {
    // The API writes its CPU profile (if asked) as it exits on SIGTERM.
    await Promise.all(children.map(stopChild));
    await redis.stop();
  }
}

/** A task's hash as the service leaves it while the task runs: created, started, half way. */
async function writeRunningTask(redisUrl: string): Promise<string> {
  const config = loadConfig({ REDIS_URL: redisUrl, QUEUE_NAME });
  const redis = new Redis(redisUrl);
  try {
    const tasks = new TaskStateStore(redis, { queueName: config.queueName, ttlS: config.taskTtlS });
    const taskId = newRunId();
    await tasks.create(taskId, BENCH_REQUEST);
    await tasks.markRunning(taskId, BENCH_REQUEST, new Date().toISOString());
    await tasks.reportProgress(taskId, 0.5);
    return taskId;
  } finally {
    await redis.quit();
  }
}

interface Server {
  url: string;
  headers: Record<string, string>;
  pid: number | undefined;
}

async function startBareServer(redisUrl: string, children: ChildProcess[]): Promise<Server> {
  const port = await freePort();
  const child = fork(__filename, [], {
    env: { REDIS_URL: redisUrl, [BARE_SERVER_ROLE]: String(port) },
    stdio: 'inherit',
  });
  children.push(child);
  await waitForPort(port, child);
  return { url: `http://127.0.0.1:${port}`, headers: {}, pid: child.pid };
}

async function startApi(
  apiMain: string,
  redisUrl: string,
  options: HttpBenchOptions,
  children: ChildProcess[],
): Promise<Server> {
  const port = await freePort();
  const dataRoot = join(options.tmpDir, 'data');
  mkdirSync(dataRoot, { recursive: true });
  if (options.cpuProfileDir !== undefined) mkdirSync(options.cpuProfileDir, { recursive: true });
  const nodeArgs =
    options.cpuProfileDir === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir];
  const child = spawn(process.execPath, [...nodeArgs, apiMain], {
    env: {
      PATH: process.env.PATH ?? '',
      ENV_FILE: '',
      PORT: String(port),
      REDIS_URL: redisUrl,
      QUEUE_NAME,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: join(options.tmpDir, 'results'),
      API_KEY,
      LOG_LEVEL: 'info',
      ENVIRONMENT: 'bench',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  await waitForPort(port, child);
  return { url: `http://127.0.0.1:${port}`, headers: { 'x-api-key': API_KEY }, pid: child.pid };
}

/** Both servers must give the same answer, or the comparison would mean nothing. */
async function checkSameAnswer(bare: Server, api: Server, path: string): Promise<void> {
  const read = async (server: Server): Promise<string> => {
    const response = await fetch(`${server.url}${path}`, { headers: server.headers });
    const body = await response.text();
    if (response.status !== 200) {
      throw new Error(`${server.url}${path} answered ${response.status}: ${body}`);
    }
    return body;
  };
  const [expected, actual] = [await read(bare), await read(api)];
  if (expected !== actual) {
    throw new Error(`the two servers answer differently:\n bare: ${expected}\n api:  ${actual}`);
  }
}

type Autocannon = typeof import('autocannon');

/** autocannon is a dev dependency, absent from a production install: loaded when the bench runs. */
async function loadAutocannon(): Promise<Autocannon> {
  try {
    return (await import('autocannon')).default;
  } catch {
    throw new Error(
      'cli bench --http needs autocannon, a dev dependency: run npm ci (with dev dependencies)',
    );
  }
}

async function loadServer(
  autocannon: Autocannon,
  server: Server,
  path: string,
  durationS: number,
  connections: number,
): Promise<HttpFigures['rounds'][number]> {
  const cpuBefore = cpuTimeUs(server.pid);
  const result = await autocannon({
    url: `${server.url}${path}`,
    headers: server.headers,
    connections,
    duration: durationS,
  });
  const cpuAfter = cpuTimeUs(server.pid);
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `${server.url}: ${result.errors} errors, ${result.timeouts} timeouts, ` +
        `${result.non2xx} non-2xx answers under load`,
    );
  }
  const cpuUs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  return {
    requests_per_s: Math.round(result.requests.average),
    p99_ms: result.latency.p99,
    cpu_us_per_request:
      cpuUs === null ? null : Math.round((10 * cpuUs) / result.requests.total) / 10,
  };
}

/** Linux's USER_HZ: /proc/{pid}/stat counts CPU time in hundredths of a second. */
const CLOCK_TICKS_PER_S = 100;

/** User + system CPU time of a process (µs), from /proc; null where there is none. */
function cpuTimeUs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, which may hold spaces): utime and stime
    // are the 14th and 15th fields of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1_000_000) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

function summarize(rounds: HttpFigures['rounds']): HttpFigures {
  const cpu = rounds.map((r) => r.cpu_us_per_request);
  return {
    requests_per_s: Math.round(median(rounds.map((r) => r.requests_per_s))),
    p99_ms: median(rounds.map((r) => r.p99_ms)),
    cpu_us_per_request: cpu.includes(null) ? null : median(cpu as number[]),
    rounds,
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * The bare server, when this file runs as the bench's child process: Fastify's defaults (no
 * logger), one route, one HGETALL, the status document as the API writes it.
 */
async function runBareServer(port: number): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? '');
  const app = fastify();
  app.get<{ Params: { task_id: string } }>(
    '/api/backtests/status/:task_id',
    async (request, reply) => {
      const hash = await redis.hgetall(redisKeys.task(request.params.task_id));
      if (!hash.task_id) return reply.code(404).send({ statusCode: 404 });
      const { task_id, status } = hash;
      return reply.type(JSON_TYPE).send(
        JSON.stringify({
          task_id,
          status,
          progress: Number(hash.progress),
          result: null,
          error: hash.error || null,
        }),
      );
    },
  );
  await app.listen({ port, host: '127.0.0.1' });
  process.once('SIGTERM', () => {
    void app.close().then(() => redis.quit().finally(() => process.exit(0)));
  });
}

if (require.main === module && process.env[BARE_SERVER_ROLE]) {
  void runBareServer(Number(process.env[BARE_SERVER_ROLE]));
}
