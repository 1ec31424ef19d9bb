import { execFile } from 'node:child_process';
import { link, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { RunRequest } from '@app/common';
import { MAX_SYMBOLS_PER_RUN, parseBacktestRequest } from '@app/backtest';
import { loadConfig } from '@app/config';
import { candleFileLocation, generateCandles, TIMEFRAME_MS, writeCandleFile } from '@app/data';
import { newRunId } from '@app/storage';
import {
  decodeTaskEvent,
  enqueueTask,
  isTerminal,
  redisKeys,
  TaskEvent,
  TaskJobData,
  taskJobOptions,
  TaskRecord,
  TaskStateStore,
} from '@app/task-state';
import { AppProcess, REPO_ROOT } from './app-process';

/** One synthetic year file: `count` candles from 1 January (UTC) of `year`. */
export interface SyntheticSeries {
  symbol: string;
  timeframe: string;
  year: number;
  count: number;
  seed: number;
}

/** Writes seeded candle files into the DATA_ROOT layout (fast, deterministic test data). */
export async function writeSyntheticData(
  dataRoot: string,
  series: readonly SyntheticSeries[],
): Promise<void> {
  for (const { symbol, timeframe, year, count, seed } of series) {
    const candles = generateCandles({
      count,
      startMs: Date.UTC(year, 0, 1),
      stepMs: TIMEFRAME_MS[timeframe as keyof typeof TIMEFRAME_MS],
      seed,
    });
    await writeCandleFile(
      candleFileLocation(dataRoot, symbol, timeframe, year).absolutePath,
      candles,
    );
  }
}

/**
 * Gives `symbols` the same year file as `source` (hard links: no copy, no encoding), so a long
 * multi-symbol task costs one file's generation. Each symbol is still read and run separately.
 */
export async function linkSymbols(
  dataRoot: string,
  source: string,
  timeframe: string,
  year: number,
  symbols: readonly string[],
): Promise<void> {
  const from = candleFileLocation(dataRoot, source, timeframe, year).absolutePath;
  for (const symbol of symbols) {
    const to = candleFileLocation(dataRoot, symbol, timeframe, year).absolutePath;
    await mkdir(join(to, '..'), { recursive: true });
    await link(from, to);
  }
}

const execFileAsync = promisify(execFile);
const BUILT_DATA_LIBRARY = join(REPO_ROOT, 'dist/libs/data/src/index.js');

/**
 * Symbols that share (hard links) three years of one-minute candles each (1.58 million), for
 * tasks that must still be running seconds after they start: to kill, cancel, time out or
 * drain them. As many as one task may name (MAX_SYMBOLS_PER_RUN).
 */
export const LONG_SYMBOLS: readonly string[] = Array.from(
  { length: MAX_SYMBOLS_PER_RUN },
  (_, i) => `LONG_${i + 1}`,
);
const LONG_YEARS = [2022, 2023, 2024];

/**
 * Writes the LONG_SYMBOLS data: one file per year, hard-linked under every symbol. Under Jest
 * the data library runs some fifty times slower than under node (it takes a minute here to
 * generate and encode these 1.58 million candles), so a node child process writes the files
 * with the built library (e2e tests need the build anyway).
 */
export async function writeLongTaskData(dataRoot: string): Promise<void> {
  const [first, ...others] = LONG_SYMBOLS;
  const script = `
    const { candleFileLocation, generateCandles, TIMEFRAME_MS, writeCandleFile } = require(${JSON.stringify(BUILT_DATA_LIBRARY)});
    const [dataRoot, symbol, ...years] = process.argv.slice(1);
    (async () => {
      for (const year of years.map(Number)) {
        // The KST calendar year, so that every candle falls in the task's date range.
        const startMs = Date.UTC(year - 1, 11, 31, 15);
        const count = (Date.UTC(year, 11, 31, 15) - startMs) / TIMEFRAME_MS['1M'];
        const candles = generateCandles({ count, startMs, stepMs: TIMEFRAME_MS['1M'], seed: year });
        await writeCandleFile(candleFileLocation(dataRoot, symbol, '1M', year).absolutePath, candles);
      }
    })().catch((error) => { console.error(error); process.exit(1); });`;
  await execFileAsync(process.execPath, ['-e', script, dataRoot, first, ...LONG_YEARS.map(String)]);
  for (const year of LONG_YEARS) await linkSymbols(dataRoot, first, '1M', year, others);
}

/**
 * A task over the first `symbols` LONG_SYMBOLS whose time goes into reading the data (about
 * 0.3 s per symbol on one core of the 2-core test machine): thresholds no candle meets, so
 * the result stays small however many symbols it covers.
 */
export function longTask(symbols: number): Partial<RunRequest> {
  return {
    strategy: 'volume_long_candle',
    params: { vol_multiplier: 10, body_pct: 0.5 },
    symbols: LONG_SYMBOLS.slice(0, symbols),
    start_date: `${LONG_YEARS[0]}-01-01`,
    end_date: `${LONG_YEARS[LONG_YEARS.length - 1]}-12-31`,
    timeframe: '1M',
  };
}

/**
 * Submits tasks the way the API does (validated, then enqueueTask: the hash `queued`, then the
 * job with id = task id and the configured job options) and watches them through the hash and
 * the events channel.
 */
export class TaskClient {
  readonly tasks: TaskStateStore;
  readonly queue: Queue<TaskJobData>;
  /** Every event published on the task events channel since `connect`, in order. */
  readonly events: TaskEvent[] = [];

  private constructor(
    readonly redis: Redis,
    private readonly subscriber: Redis,
    env: Record<string, string>,
  ) {
    const config = loadConfig(env);
    this.tasks = new TaskStateStore(redis, { queueName: config.queueName, ttlS: config.taskTtlS });
    this.queue = new Queue<TaskJobData>(config.queueName, {
      connection: { host: config.redis.host, port: config.redis.port, db: config.redis.db },
      defaultJobOptions: taskJobOptions(config.jobAttempts),
    });
  }

  /** `env` is the workers' environment (REDIS_URL, QUEUE_NAME, TASK_TTL_S, JOB_ATTEMPTS...). */
  static async connect(env: Record<string, string>): Promise<TaskClient> {
    const redis = new Redis(env.REDIS_URL);
    const subscriber = new Redis(env.REDIS_URL);
    const client = new TaskClient(redis, subscriber, env);
    // Tests stop Redis on purpose; the clients reconnect, their errors are noise.
    for (const emitter of [redis, subscriber, client.queue]) emitter.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      const event = decodeTaskEvent(message);
      if (event) client.events.push(event);
    });
    await subscriber.subscribe(redisKeys.taskEvents(loadConfig(env).queueName));
    return client;
  }

  /** `request` as a client would send it (defaults may be left out): validated first. */
  async submit(request: Partial<RunRequest>, taskId = newRunId()): Promise<string> {
    await enqueueTask(this.queue, this.tasks, taskId, parseBacktestRequest(request));
    return taskId;
  }

  eventsOf(taskId: string): TaskEvent[] {
    return this.events.filter((event) => event.task_id === taskId);
  }

  /** Polls the hash until `accept` says yes; fails with the last state seen after `timeoutMs`. */
  async waitFor(
    taskId: string,
    accept: (task: TaskRecord) => boolean,
    timeoutMs = 30_000,
  ): Promise<TaskRecord> {
    const deadline = Date.now() + timeoutMs;
    let last: TaskRecord | undefined;
    while (Date.now() < deadline) {
      last = await this.tasks.get(taskId);
      if (last && accept(last)) return last;
      await sleep(50);
    }
    throw new Error(
      `task ${taskId} not as expected after ${timeoutMs} ms: ${JSON.stringify(last)}`,
    );
  }

  waitForEnd(taskId: string, timeoutMs?: number): Promise<TaskRecord> {
    return this.waitFor(taskId, (task) => isTerminal(task.status), timeoutMs);
  }

  async close(): Promise<void> {
    await this.queue.close();
    await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition` holds, polling; throws after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

/** A worker's JSON log lines about one task. */
export function taskLogLines(worker: AppProcess, taskId: string): Array<Record<string, unknown>> {
  return worker.logLines().filter((line) => line.task_id === taskId);
}

/** How many of the worker's lines about `taskId` have a message starting with `[Task id] text`. */
export function countTaskMessages(worker: AppProcess, taskId: string, text: string): number {
  const prefix = `[Task ${taskId}] ${text}`;
  return taskLogLines(worker, taskId).filter((line) => String(line.msg).startsWith(prefix)).length;
}
