import { ChildProcess, fork, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue, QueueEvents, Worker } from 'bullmq';
import Redis from 'ioredis';
import { BacktestRequest, parseBacktestRequest } from '@app/backtest';
import { loadConfig } from '@app/config';
import { candleFileLocation, generateCandles, writeCandleFile } from '@app/data';
import { newRunId } from '@app/storage';
import {
  decodeTaskEvent,
  isTerminal,
  enqueueTask,
  redisKeys,
  TaskJobData,
  taskJobOptions,
  TaskStateStore,
} from '@app/task-state';
import { freePort, startRedis, stopChild, waitForPort } from './bench-processes';

/**
 * `cli bench --queue`: the queue's overhead, measured side by side on one private Redis.
 *
 * (a) BullMQ alone: a Worker whose processor does nothing, in its own process, with the same
 *     concurrency — the ceiling any BullMQ-based system can reach here.
 * (b) The service end to end: the real worker app (dist/apps/worker/src/main.js) running a
 *     small backtest (one symbol, ~1,000 five-minute candles), tasks submitted the way the API
 *     submits them (task hash, then queue.add with the job id = task id) — no HTTP in between —
 *     and seen completed through the task events channel, as a client would see them.
 *
 * Throughput: `tasks` jobs submitted at once, tasks/s from the first submit to the last
 * completion. Latency: `latencyTasks` jobs submitted one at a time on the idle system, each
 * timed from submit to completed. Medians over `rounds`; the two systems alternate each round.
 */
export interface QueueBenchOptions {
  /** Jobs per throughput round, submitted all at once. */
  tasks: number;
  /** Jobs per latency round, one at a time. */
  latencyTasks: number;
  rounds: number;
  /** Worker concurrency of both systems (default: CPUs, like WORKER_CONCURRENCY). */
  concurrency?: number;
  /** Scratch directory: Redis files, the market data and (by default) the run folders. */
  tmpDir: string;
  /**
   * Where the worker writes the run folders (default: inside tmpDir). Creating three inodes
   * and two fsynced files per task is most of a small task's cost: point this at the disk
   * RESULTS_DIR will live on for figures that mean something for a deployment.
   */
  resultsDir?: string;
}

export interface SystemFigures {
  tasks_per_s: number;
  latency_ms: { p50: number; p99: number };
  rounds: Array<{ tasks_per_s: number; p50_ms: number; p99_ms: number }>;
}

export interface QueueBenchReport {
  machine: { node: string; cpus: number };
  redis: string;
  settings: {
    concurrency: number;
    tasks_per_round: number;
    latency_tasks_per_round: number;
    results_dir: string;
    rounds: number;
    backtest_task: BacktestRequest & { candles: number };
    submitted_as: string;
  };
  bullmq_noop: SystemFigures;
  backtest_end_to_end: SystemFigures;
  /** Backtest tasks/s over BullMQ no-op jobs/s. */
  throughput_ratio: number;
  targets: { throughput_ratio_min: number; p50_ms_max: number; met: boolean };
}

const NOOP_WORKER_ROLE = 'QUEUE_BENCH_NOOP_WORKER';
const NOOP_QUEUE = 'bench-noop';
const BACKTEST_QUEUE_NAME = 'bench-backtests';
const WORKER_MAIN = join(__dirname, '..', '..', '..', 'apps', 'worker', 'src', 'main.js');
const BENCH_SYMBOL = 'BENCH_BTC';
/** Four KST days of five-minute candles: 1,152 candles per task. */
const BENCH_TASK: BacktestRequest = parseBacktestRequest({
  strategy: 'volume_long_candle',
  symbols: [BENCH_SYMBOL],
  start_date: '2024-01-01',
  end_date: '2024-01-04',
  timeframe: '5M',
});
const BENCH_CANDLES = 4 * 288;
const WARM_UP_TASKS = 50;

export async function benchQueue(options: QueueBenchOptions): Promise<QueueBenchReport> {
  const concurrency = options.concurrency ?? availableParallelism();
  for (const [name, value] of Object.entries({
    tasks: options.tasks,
    latencyTasks: options.latencyTasks,
    rounds: options.rounds,
    concurrency,
  })) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
    }
  }
  const redis = await startRedis(join(options.tmpDir, 'redis'));
  const children: ChildProcess[] = [];
  try {
    const dataRoot = join(options.tmpDir, 'data');
    await writeBenchData(dataRoot);
    const env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: options.resultsDir ?? join(options.tmpDir, 'results'),
      WORKER_CONCURRENCY: String(concurrency),
    };
    const noop = await NoopSystem.start(env, concurrency, children);
    const backtest = await BacktestSystem.start(env, children);
    try {
      await noop.throughput(WARM_UP_TASKS);
      await backtest.throughput(WARM_UP_TASKS);
      const noopRounds: SystemFigures['rounds'] = [];
      const backtestRounds: SystemFigures['rounds'] = [];
      for (let round = 0; round < options.rounds; round++) {
        noopRounds.push(await measure(noop, options));
        backtestRounds.push(await measure(backtest, options));
      }
      const bullmqNoop = summarize(noopRounds);
      const endToEnd = summarize(backtestRounds);
      const ratio = round3(endToEnd.tasks_per_s / bullmqNoop.tasks_per_s);
      return {
        machine: { node: process.version, cpus: availableParallelism() },
        redis: `private redis-server ${redis.version} on 127.0.0.1`,
        settings: {
          concurrency,
          tasks_per_round: options.tasks,
          latency_tasks_per_round: options.latencyTasks,
          results_dir: env.RESULTS_DIR,
          rounds: options.rounds,
          backtest_task: { ...BENCH_TASK, candles: BENCH_CANDLES },
          submitted_as:
            'task hash + queue.add (job id = task id), as the API submits; completion seen on the task events channel',
        },
        bullmq_noop: bullmqNoop,
        backtest_end_to_end: endToEnd,
        throughput_ratio: ratio,
        targets: {
          throughput_ratio_min: 0.25,
          p50_ms_max: 20,
          met: ratio >= 0.25 && endToEnd.latency_ms.p50 <= 20,
        },
      };
    } finally {
      await Promise.all([noop.close(), backtest.close()]);
    }
  } finally {
    await Promise.all(children.map(stopChild));
    await redis.stop();
  }
}

/** One system under test: submit jobs, know when each completed. */
interface System {
  /** Submits `count` jobs at once; resolves when all completed, with their latencies (ms). */
  throughput(count: number): Promise<{ elapsedMs: number; latencies: number[] }>;
  /** Submits one job; resolves with its latency once it completed. */
  one(): Promise<number>;
}

async function measure(
  system: System,
  options: QueueBenchOptions,
): Promise<SystemFigures['rounds'][number]> {
  const { elapsedMs } = await system.throughput(options.tasks);
  const latencies: number[] = [];
  for (let i = 0; i < options.latencyTasks; i++) latencies.push(await system.one());
  return {
    tasks_per_s: Math.round((options.tasks / elapsedMs) * 1000),
    p50_ms: round3(percentile(latencies, 0.5)),
    p99_ms: round3(percentile(latencies, 0.99)),
  };
}

function summarize(rounds: SystemFigures['rounds']): SystemFigures {
  return {
    tasks_per_s: Math.round(median(rounds.map((r) => r.tasks_per_s))),
    latency_ms: {
      p50: round3(median(rounds.map((r) => r.p50_ms))),
      p99: round3(median(rounds.map((r) => r.p99_ms))),
    },
    rounds,
  };
}

/**
 * Waits for completions by id: each submit registers a waiter, the completion source (BullMQ's
 * QueueEvents or our events channel) resolves it with the time it took.
 */
class CompletionTracker {
  private readonly waiting = new Map<string, { submittedAt: number; done: (ms: number) => void }>();
  private readonly early = new Map<string, number>();

  expect(id: string, submittedAt: number): Promise<number> {
    return new Promise((resolve) => {
      const completedAt = this.early.get(id);
      if (completedAt !== undefined) {
        this.early.delete(id);
        resolve(completedAt - submittedAt);
      } else {
        this.waiting.set(id, { submittedAt, done: resolve });
      }
    });
  }

  completed(id: string): void {
    const now = performance.now();
    const waiter = this.waiting.get(id);
    if (!waiter) {
      this.early.set(id, now);
      return;
    }
    this.waiting.delete(id);
    waiter.done(now - waiter.submittedAt);
  }
}

async function runBatch(
  count: number,
  submit: () => Promise<number>,
): Promise<{ elapsedMs: number; latencies: number[] }> {
  const started = performance.now();
  const latencies = await Promise.all(Array.from({ length: count }, submit));
  return { elapsedMs: performance.now() - started, latencies };
}

class NoopSystem implements System {
  private readonly tracker = new CompletionTracker();

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {
    events.on('completed', ({ jobId }) => this.tracker.completed(jobId));
  }

  static async start(
    env: Record<string, string>,
    concurrency: number,
    children: ChildProcess[],
  ): Promise<NoopSystem> {
    const connection = connectionOf(env.REDIS_URL);
    const events = new QueueEvents(NOOP_QUEUE, { connection });
    await events.waitUntilReady();
    const child = fork(__filename, [], {
      env: { ...env, [NOOP_WORKER_ROLE]: String(concurrency) },
      stdio: 'inherit',
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the no-op worker exited with ${code}`)));
    });
    const queue = new Queue(NOOP_QUEUE, {
      connection,
      defaultJobOptions: { removeOnComplete: { count: 1000 } },
    });
    return new NoopSystem(queue, events);
  }

  throughput(count: number): Promise<{ elapsedMs: number; latencies: number[] }> {
    return runBatch(count, () => this.one());
  }

  async one(): Promise<number> {
    const id = newRunId();
    const submittedAt = performance.now();
    const completion = this.tracker.expect(id, submittedAt);
    await this.queue.add('noop', { id }, { jobId: id });
    return completion;
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.events.close()]);
  }
}

class BacktestSystem implements System {
  private readonly tracker = new CompletionTracker();

  private constructor(
    private readonly tasks: TaskStateStore,
    private readonly queue: Queue<TaskJobData>,
    private readonly redis: Redis,
    private readonly subscriber: Redis,
  ) {}

  static async start(
    env: Record<string, string>,
    children: ChildProcess[],
  ): Promise<BacktestSystem> {
    const workerEnv = { ...env, QUEUE_NAME: BACKTEST_QUEUE_NAME };
    const config = loadConfig(workerEnv);
    const redis = new Redis(env.REDIS_URL);
    const subscriber = new Redis(env.REDIS_URL);
    const system = new BacktestSystem(
      new TaskStateStore(redis, { queueName: config.queueName, ttlS: config.taskTtlS }),
      new Queue<TaskJobData>(config.queueName, {
        connection: connectionOf(env.REDIS_URL),
        defaultJobOptions: taskJobOptions(config.jobAttempts),
      }),
      redis,
      subscriber,
    );
    subscriber.on('message', (_channel: string, message: string) => {
      const event = decodeTaskEvent(message);
      if (!event || !isTerminal(event.status)) return;
      if (event.status !== 'completed') {
        throw new Error(`bench task ${event.task_id} ended ${event.status}: ${event.error}`);
      }
      system.tracker.completed(event.task_id);
    });
    await subscriber.subscribe(redisKeys.taskEvents(config.queueName));

    const healthPort = await freePort();
    const child = spawn(process.execPath, [WORKER_MAIN], {
      env: {
        PATH: process.env.PATH ?? '',
        ...workerEnv,
        WORKER_HEALTH_PORT: String(healthPort),
        LOG_LEVEL: 'info',
      },
      // Its JSON log lines are written (the cost is real) but not kept.
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    await waitForPort(healthPort, child);
    return system;
  }

  throughput(count: number): Promise<{ elapsedMs: number; latencies: number[] }> {
    return runBatch(count, () => this.one());
  }

  async one(): Promise<number> {
    const taskId = newRunId();
    const submittedAt = performance.now();
    const completion = this.tracker.expect(taskId, submittedAt);
    await enqueueTask(this.queue, this.tasks, taskId, BENCH_TASK);
    return completion;
  }

  async close(): Promise<void> {
    await this.queue.close();
    await Promise.allSettled([this.redis.quit(), this.subscriber.quit()]);
  }
}

async function writeBenchData(dataRoot: string): Promise<void> {
  // From 2024-01-01 00:00 KST, a little more than the task reads.
  const startMs = Date.UTC(2023, 11, 31, 15);
  const candles = generateCandles({ count: 2 * BENCH_CANDLES, startMs, stepMs: 300_000, seed: 7 });
  await writeCandleFile(
    candleFileLocation(dataRoot, BENCH_SYMBOL, '5M', 2024).absolutePath,
    candles,
  );
}

function connectionOf(redisUrl: string): { host: string; port: number } {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port) };
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The no-op BullMQ worker, when this file runs as the bench's child process. */
async function runNoopWorker(concurrency: number): Promise<void> {
  // A processor that does nothing and resolves at once: BullMQ's own cost is all that remains.
  const worker = new Worker(NOOP_QUEUE, () => Promise.resolve(), {
    connection: connectionOf(process.env.REDIS_URL ?? ''),
    concurrency,
  });
  await worker.waitUntilReady();
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
  process.send?.('ready');
}

if (require.main === module && process.env[NOOP_WORKER_ROLE]) {
  void runNoopWorker(Number(process.env[NOOP_WORKER_ROLE]));
}
