import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { validateCronExpression } from 'cron';

/**
 * The service's configuration (SPEC §9), read from the environment once at start-up into
 * a typed object. Every variable is defined once, in `CONFIG_VARIABLES`, which also feeds
 * `.env.sample` checks and the docs.
 */
export interface AppConfig {
  port: number;
  /** The address the API and the worker's probes listen on. */
  host: string;
  dataRoot: string;
  resultsDir: string;
  redis: RedisConnectionConfig;
  queueName: string;
  workerConcurrency: number;
  workerHealthPort: number;
  jobTimeoutS: number;
  jobAttempts: number;
  syncTimeoutS: number;
  taskTtlS: number;
  taskResultTtlDays: number;
  failedTaskTtlDays: number;
  cleanupCron: string;
  logLevel: LogLevel;
  logPretty: boolean;
  environment: string;
  apiKey: string | undefined;
  corsOrigins: string[] | true | false;
  shutdownGraceS: number;
  minFreeDiskMb: number;
  /** BullMQ lock: a job whose worker stops renewing it for this long is handed to another worker. */
  lockDurationMs: number;
  /** Parsed candle files kept in memory per worker, to spare re-reading hot files. */
  candleCacheMb: number;
  /** The run catalogue's SQLite file (used when databaseUrl is unset). */
  catalogPath: string;
  /** PostgreSQL for the catalogue (replicas on several hosts), or undefined for SQLite. */
  databaseUrl: string | undefined;
  /** Largest upload accepted by POST /api/data/upload, in bytes. */
  uploadMaxBytes: number;
  maxSweepCombinations: number;
  /** Queued tasks beyond which submissions get 503 with Retry-After. */
  maxQueuedTasks: number;
  /** Submissions per minute per client address (or API key); 0 turns the limit off. */
  rateLimitPerMin: number;
  /** Candles one run may read, counted from the files before it starts. */
  maxCandlesPerRun: number;
  /** Results larger than this are not inlined in the task status and its events. */
  inlineResultMaxBytes: number;
  /** A request's headers must arrive within this (slow-loris), in ms. */
  httpHeadersTimeoutMs: number;
  /** A whole request, body included, must arrive within this, in ms. */
  httpRequestTimeoutMs: number;
  /** Open connections an HTTP server keeps; past it new ones are closed at once. */
  httpMaxConnections: number;
  /**
   * Whose X-Forwarded-For the API believes (Fastify's trustProxy: addresses, CIDRs or
   * proxy-addr's names loopback, linklocal, uniquelocal): the client address that access
   * logs and the rate limit use.
   */
  trustProxy: string;
  executionHost: string;
}

export interface RedisConnectionConfig {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without its password, safe to log and show in /health. */
  displayUrl: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Start-up stops with this, naming every variable that is wrong and what it should be. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface ConfigVariable {
  name: string;
  /** The default as it would be written in `.env`; empty means unset. */
  default: string;
  doc: string;
  /** The default is worked out at start-up (shown in `default` as prose). */
  computed?: boolean;
}

/**
 * Every variable the service reads, with its default and meaning: the one list behind
 * `loadConfig`'s defaults, `.env.sample` (a test keeps them in step) and the docs.
 */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', default: '8000', doc: 'HTTP port of the API' },
  {
    name: 'HOST',
    default: '127.0.0.1',
    doc: 'address the API and the worker probes listen on (the images, compose and k8s set 0.0.0.0)',
  },
  {
    name: 'DATA_ROOT',
    default: './data',
    doc: 'Parquet market data: DATA_ROOT/{SYMBOL}/{TIMEFRAME}/{YEAR}.parquet',
  },
  {
    name: 'RESULTS_DIR',
    default: '$DATA_ROOT/tasks',
    doc: 'one folder per run: {id}/result.json, {id}/manifest.json',
    computed: true,
  },
  {
    name: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379/0',
    doc: 'Redis for the queue and task state (or REDIS_HOST/REDIS_PORT/REDIS_DB)',
  },
  { name: 'REDIS_HOST', default: '127.0.0.1', doc: 'used when REDIS_URL is unset' },
  { name: 'REDIS_PORT', default: '6379', doc: 'used when REDIS_URL is unset' },
  { name: 'REDIS_DB', default: '0', doc: 'used when REDIS_URL is unset' },
  { name: 'QUEUE_NAME', default: 'backtests', doc: 'BullMQ queue name (keys bull:{QUEUE_NAME}:*)' },
  {
    name: 'WORKER_CONCURRENCY',
    default: 'number of CPUs',
    doc: 'backtests one worker process runs at once',
    computed: true,
  },
  { name: 'WORKER_HEALTH_PORT', default: '8001', doc: "the worker's /health and /metrics port" },
  {
    name: 'JOB_TIMEOUT_S',
    default: '3600',
    doc: 'a job running longer fails with a timeout error',
  },
  {
    name: 'JOB_ATTEMPTS',
    default: '3',
    doc: 'tries for a job hit by transient faults (bad input fails at once)',
  },
  {
    name: 'SYNC_TIMEOUT_S',
    default: '60',
    doc: 'POST /api/backtests/run waits this long, then answers 504 with the task to follow',
  },
  {
    name: 'TASK_TTL_S',
    default: '3600',
    doc: 'TTL of the task:{id} hash, renewed on every update',
  },
  {
    name: 'TASK_RESULT_TTL_DAYS',
    default: '7',
    doc: 'cleanup removes completed run folders older than this',
  },
  {
    name: 'FAILED_TASK_TTL_DAYS',
    default: '1',
    doc: 'cleanup removes failed/cancelled run folders older than this',
  },
  {
    name: 'CLEANUP_CRON',
    default: '0 0 * * *',
    doc: 'when the worker runs the cleanup (cron syntax, server time)',
  },
  { name: 'LOG_LEVEL', default: 'info', doc: LOG_LEVELS.join(' | ') },
  {
    name: 'LOG_PRETTY',
    default: 'false',
    doc: 'human-readable logs instead of JSON lines (for a terminal)',
  },
  { name: 'ENVIRONMENT', default: 'development', doc: 'recorded in results and manifests' },
  { name: 'API_KEY', default: '', doc: 'when set, every /api route needs the header X-API-Key' },
  {
    name: 'CORS_ORIGINS',
    default: '',
    doc: 'comma-separated allowed origins, * for any; empty disables CORS',
  },
  {
    name: 'SHUTDOWN_GRACE_S',
    default: '30',
    doc: 'on SIGTERM, running jobs get this long to finish',
  },
  {
    name: 'MIN_FREE_DISK_MB',
    default: '100',
    doc: 'readiness fails when the results disk has less free space',
  },
  {
    name: 'LOCK_DURATION_MS',
    default: '30000',
    doc: "a dead worker's job is picked up again after about this long",
  },
  {
    name: 'CANDLE_CACHE_MB',
    default: '256',
    doc: 'parsed candle files each worker keeps in memory (0 disables)',
  },
  {
    name: 'CATALOG_PATH',
    default: '$RESULTS_DIR/catalog.sqlite',
    doc: 'the run catalogue (SQLite, WAL): one host only; set DATABASE_URL for several',
    computed: true,
  },
  {
    name: 'DATABASE_URL',
    default: '',
    doc: 'postgres://... to keep the catalogue in PostgreSQL (replicas on several hosts)',
  },
  { name: 'UPLOAD_MAX_MB', default: '200', doc: 'largest file POST /api/data/upload accepts' },
  {
    name: 'MAX_SWEEP_COMBINATIONS',
    default: '100000',
    doc: 'most parameter combinations one sweep may have',
  },
  {
    name: 'MAX_QUEUED_TASKS',
    default: '10000',
    doc: 'past this many queued tasks, submissions get 503 with Retry-After',
  },
  {
    name: 'RATE_LIMIT_PER_MIN',
    default: '600',
    doc: 'submissions per minute per client address (per API key when set), across replicas; 0 = off',
  },
  {
    name: 'MAX_CANDLES_PER_RUN',
    default: '50000000',
    doc: 'candles one run may read, checked before it starts (422 with the figure)',
  },
  {
    name: 'INLINE_RESULT_MAX_MB',
    default: '8',
    doc: 'a larger result is not inlined in status or SSE, which give result_url instead',
  },
  {
    name: 'HTTP_HEADERS_TIMEOUT_S',
    default: '10',
    doc: 'a request whose headers take longer is answered 408 and closed (slow clients)',
  },
  {
    name: 'HTTP_REQUEST_TIMEOUT_S',
    default: '120',
    doc: 'a request whose body takes longer is answered 408 and closed (an upload of UPLOAD_MAX_MB needs about 2 MB/s)',
  },
  {
    name: 'HTTP_MAX_CONNECTIONS',
    default: '4096',
    doc: 'open connections per process (SSE streams included); past it new ones are closed',
  },
  {
    name: 'TRUST_PROXY',
    default: 'loopback,linklocal,uniquelocal',
    doc: 'proxies whose X-Forwarded-For gives the client address (logs, rate limit): addresses/CIDRs, or true for any',
  },
];

type Env = Record<string, string | undefined>;

const MIB = 1024 * 1024;

const DEFAULTS = new Map(
  CONFIG_VARIABLES.filter((variable) => !variable.computed).map((v) => [v.name, v.default]),
);

/** Reads one variable at a time; an unset variable takes its default from CONFIG_VARIABLES. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  /** The value set in the environment, if any (blank counts as unset). */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  private valueOrDefault(name: string): string {
    const value = this.raw(name) ?? DEFAULTS.get(name);
    if (value === undefined) throw new Error(`${name} has no default in CONFIG_VARIABLES`);
    return value;
  }

  string(name: string, pattern?: RegExp, allowed?: string): string {
    const value = this.valueOrDefault(name);
    if (pattern && !pattern.test(value))
      this.problems.push(`${name}: got "${value}"; expected ${allowed}`);
    return value;
  }

  integer(name: string, min: number, max: number, computedDefault?: number): number {
    const text =
      computedDefault !== undefined && this.raw(name) === undefined
        ? String(computedDefault)
        : this.valueOrDefault(name);
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name}: got "${text}"; expected an integer from ${min} to ${max}`);
    }
    return value;
  }

  number(name: string, min: number, max: number): number {
    const text = this.valueOrDefault(name);
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      this.problems.push(`${name}: got "${text}"; expected a number from ${min} to ${max}`);
    }
    return value;
  }

  boolean(name: string): boolean {
    const text = this.valueOrDefault(name).toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (!['0', 'false', 'no', 'off'].includes(text)) {
      this.problems.push(`${name}: got "${text}"; expected true or false`);
    }
    return false;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const text = this.valueOrDefault(name).toLowerCase();
    if (!(allowed as readonly string[]).includes(text)) {
      this.problems.push(`${name}: got "${text}"; expected one of ${allowed.join(', ')}`);
    }
    return text as T;
  }
}

function readRedis(read: Reader): RedisConnectionConfig {
  const url = read.raw('REDIS_URL');
  if (url === undefined) {
    const host = read.string('REDIS_HOST');
    const port = read.integer('REDIS_PORT', 1, 65535);
    const db = read.integer('REDIS_DB', 0, 1000);
    return { host, port, db, tls: false, displayUrl: `redis://${host}:${port}/${db}` };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    read.problems.push(`REDIS_URL: got "${url}"; expected a URL like redis://host:6379/0`);
    return { host: '127.0.0.1', port: 6379, db: 0, tls: false, displayUrl: url };
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    read.problems.push(`REDIS_URL: got "${url}"; expected the scheme redis:// or rediss://`);
  }
  const dbText = parsed.pathname.replace(/^\//, '') || '0';
  const db = Number(dbText);
  if (!/^\d+$/.test(dbText)) read.problems.push(`REDIS_URL: database "${dbText}" must be a number`);
  const port = parsed.port ? Number(parsed.port) : 6379;
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return {
    host,
    port,
    db,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    tls: parsed.protocol === 'rediss:',
    displayUrl: `${parsed.protocol}//${parsed.hostname}:${port}/${db}`,
  };
}

function readCors(read: Reader): AppConfig['corsOrigins'] {
  const text = read.raw('CORS_ORIGINS');
  if (text === undefined) return false;
  if (text === '*') return true;
  const origins = text
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      read.problems.push(
        `CORS_ORIGINS: got "${origin}"; expected origins like https://app.example.com, or *`,
      );
    }
  }
  return origins;
}

/**
 * Parses and validates the environment. Throws `ConfigError` listing every bad variable,
 * so a misconfigured process stops at start-up instead of failing on the first request.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
  const read = new Reader(env);
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path));
  const dataRoot = absolute(read.string('DATA_ROOT'));
  const resultsDirText = read.raw('RESULTS_DIR');
  const resultsDir =
    resultsDirText === undefined ? join(dataRoot, 'tasks') : absolute(resultsDirText);
  const catalogPathText = read.raw('CATALOG_PATH');
  const databaseUrl = read.raw('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    read.problems.push(
      'DATABASE_URL: expected a PostgreSQL URL like postgres://user:password@host:5432/db (the value is not shown: it may hold a password)',
    );
  }
  const cleanupCron = read.string('CLEANUP_CRON');
  const cronCheck = validateCronExpression(cleanupCron);
  if (!cronCheck.valid) {
    read.problems.push(
      `CLEANUP_CRON: got "${cleanupCron}"; expected a cron expression like "0 0 * * *" (${cronCheck.error?.message ?? 'invalid'})`,
    );
  }
  const config: AppConfig = {
    port: read.integer('PORT', 1, 65535),
    host: read.string(
      'HOST',
      /^[0-9A-Za-z.:[\]-]{1,255}$/,
      'an address like 127.0.0.1, 0.0.0.0 or ::',
    ),
    dataRoot,
    resultsDir,
    redis: readRedis(read),
    queueName: read.string('QUEUE_NAME', /^[A-Za-z0-9_-]{1,64}$/, '1-64 of A-Z a-z 0-9 _ -'),
    workerConcurrency: read.integer('WORKER_CONCURRENCY', 1, 256, availableParallelism()),
    workerHealthPort: read.integer('WORKER_HEALTH_PORT', 0, 65535),
    jobTimeoutS: read.number('JOB_TIMEOUT_S', 1, 7 * 24 * 3600),
    jobAttempts: read.integer('JOB_ATTEMPTS', 1, 20),
    syncTimeoutS: read.number('SYNC_TIMEOUT_S', 0.1, 3600),
    taskTtlS: read.integer('TASK_TTL_S', 1, 365 * 24 * 3600),
    taskResultTtlDays: read.number('TASK_RESULT_TTL_DAYS', 0, 36500),
    failedTaskTtlDays: read.number('FAILED_TASK_TTL_DAYS', 0, 36500),
    cleanupCron,
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS),
    logPretty: read.boolean('LOG_PRETTY'),
    environment: read.string('ENVIRONMENT', /^[\w.-]{1,64}$/, 'a name like production'),
    apiKey: read.raw('API_KEY'),
    corsOrigins: readCors(read),
    shutdownGraceS: read.number('SHUTDOWN_GRACE_S', 0, 3600),
    minFreeDiskMb: read.number('MIN_FREE_DISK_MB', 0, 1e9),
    lockDurationMs: read.integer('LOCK_DURATION_MS', 1000, 3_600_000),
    candleCacheMb: read.number('CANDLE_CACHE_MB', 0, 1e6),
    catalogPath:
      catalogPathText === undefined
        ? join(resultsDir, 'catalog.sqlite')
        : absolute(catalogPathText),
    databaseUrl,
    uploadMaxBytes: read.number('UPLOAD_MAX_MB', 1, 1e6) * MIB,
    maxSweepCombinations: read.integer('MAX_SWEEP_COMBINATIONS', 1, 10_000_000),
    maxQueuedTasks: read.integer('MAX_QUEUED_TASKS', 1, 100_000_000),
    rateLimitPerMin: read.integer('RATE_LIMIT_PER_MIN', 0, 1_000_000),
    maxCandlesPerRun: read.integer('MAX_CANDLES_PER_RUN', 1, Number.MAX_SAFE_INTEGER),
    inlineResultMaxBytes: read.number('INLINE_RESULT_MAX_MB', 0, 1e6) * MIB,
    httpHeadersTimeoutMs: read.number('HTTP_HEADERS_TIMEOUT_S', 0.1, 3600) * 1000,
    httpRequestTimeoutMs: read.number('HTTP_REQUEST_TIMEOUT_S', 0.1, 24 * 3600) * 1000,
    httpMaxConnections: read.integer('HTTP_MAX_CONNECTIONS', 1, 1_000_000),
    trustProxy: read.string(
      'TRUST_PROXY',
      /^[\w.:/,\s-]{1,1000}$/,
      'true, or addresses and CIDRs like 10.0.0.0/8,loopback',
    ),
    executionHost: hostname(),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/** ioredis connection options for the configured Redis. */
export function redisOptions(redis: RedisConnectionConfig): {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: object;
} {
  return {
    host: redis.host,
    port: redis.port,
    db: redis.db,
    ...(redis.username !== undefined && { username: redis.username }),
    ...(redis.password !== undefined && { password: redis.password }),
    ...(redis.tls && { tls: {} }),
  };
}

/**
 * Reads the variables of ENV_FILE (default `.env`, when it exists; empty for none) into the
 * environment. Variables already set win over the file.
 */
export function loadEnvFile(env: Env = process.env): void {
  const envFile = env.ENV_FILE ?? '.env';
  if (envFile === '' || !existsSync(envFile)) return;
  for (const [name, value] of Object.entries(parseEnv(readFileSync(envFile, 'utf8')))) {
    env[name] ??= value;
  }
}
