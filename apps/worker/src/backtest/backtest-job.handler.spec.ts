import { DelayedError, UnrecoverableError, WaitingError } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { FailureCode, RunRequest } from '@app/common';
import { AppConfig, loadConfig } from '@app/config';
import { BacktestEvent, RunOrigin, RunTimes } from '@app/backtest';
import { MetricsService, TaskEventListener, TaskEventsBus } from '@app/platform';
import { Manifest, newRunId, ResultStore } from '@app/storage';
import {
  TASK_JOB_SCHEMA,
  TaskEvent,
  TaskJobData,
  TaskStateStore,
  TransitionResult,
} from '@app/task-state';
import { manifestFields } from '../../../../libs/storage/src/testing/fixtures';
import { BacktestJobHandler, TaskJob } from './backtest-job.handler';
import { BacktestRun, BacktestThreadPool } from './backtest-thread-pool';
import { JobControl } from './job-control';
import { ProgressReporter } from './progress-reporter';
import { ResultsDiskGuard } from './results-disk-guard';
import { TransientFault } from './retry-policy';
import { SettledAs, TaskFinisher } from './task-finisher';
import type { BacktestThreadOutcome, BacktestThreadTask } from './thread-protocol';

/**
 * BacktestJobHandler alone: every collaborator but JobControl is a hand-written fake (no
 * Redis, no threads, no files), so each test decides how the run ends and what Redis says,
 * and reads back what the handler asked of them. The whole system is the e2e tests' job.
 */

const REQUEST: RunRequest = {
  strategy: 'volume_zone_breakout',
  params: { volume_window: 100, hold_period_bars: 3 },
  execution: { fee: 0, slippage: 0, positions: 'overlap' },
  symbols: ['ETH_BTC', 'LTC_BTC'],
  start_date: '2018-01-10',
  end_date: '2018-01-31',
  timeframe: '5M',
};
const CREATED_AT = '2018-02-01T00:00:00.000Z';
const ORIGIN: RunOrigin = {
  executionHost: 'test-host',
  environment: 'test',
  workerId: 'test-host:1',
};
const COMPLETED: Extract<BacktestThreadOutcome, { kind: 'completed' }> = {
  kind: 'completed',
  totalSignals: 7,
  candles: 12_345,
  symbolsProcessed: 2,
  executionTime: 0.42,
};

/** A backtest "running on a thread": it ends when the test says so, or when it is stopped. */
class FakeRun implements BacktestRun {
  readonly outcome: Promise<BacktestThreadOutcome>;
  stopCalls = 0;
  private end!: (outcome: BacktestThreadOutcome) => void;

  constructor(
    readonly task: Omit<BacktestThreadTask, 'stopFlag'>,
    readonly emit: (event: BacktestEvent) => void,
    /** Like a real thread reaching its next boundary after the stop flag is set. */
    private readonly stopsAtOnce: boolean,
  ) {
    this.outcome = new Promise((resolve) => (this.end = resolve));
  }

  stop(): void {
    this.stopCalls++;
    if (this.stopsAtOnce) this.end({ kind: 'stopped' });
  }

  /** The thread's own end; a run that has ended already keeps its first outcome. */
  finish(outcome: BacktestThreadOutcome): void {
    this.end(outcome);
  }
}

class FakeThreadPool implements Pick<BacktestThreadPool, 'run'> {
  readonly runs: FakeRun[] = [];
  /** When false, a stopped run keeps going until the test finishes it (a thread mid-chunk). */
  stopsAtOnce = true;
  private readonly waitingForRun: Array<(run: FakeRun) => void> = [];

  run(task: Omit<BacktestThreadTask, 'stopFlag'>, onEvent: (event: BacktestEvent) => void) {
    const run = new FakeRun(task, onEvent, this.stopsAtOnce);
    this.runs.push(run);
    for (const resolve of this.waitingForRun.splice(0)) resolve(run);
    return run;
  }

  started(): Promise<FakeRun> {
    const [first] = this.runs;
    return first
      ? Promise.resolve(first)
      : new Promise((resolve) => this.waitingForRun.push(resolve));
  }
}

class FakeTaskStore implements Pick<TaskStateStore, 'markRunning' | 'reportProgress' | 'requeue'> {
  readonly markRunningCalls: Array<{ taskId: string; request: RunRequest; createdAt: string }> = [];
  readonly requeued: string[] = [];
  /** Errors the next requeue() calls throw, in turn: Redis still refusing writes. */
  requeueErrors: Error[] = [];
  answer: TransitionResult = { ok: true, previous: 'queued' };
  /** Runs inside markRunning: what happens elsewhere while the task is being marked. */
  meanwhile: () => void = () => undefined;
  readonly progress: Array<{ taskId: string; progress: number }> = [];

  markRunning(taskId: string, request: RunRequest, createdAt: string): Promise<TransitionResult> {
    this.markRunningCalls.push({ taskId, request, createdAt });
    this.meanwhile();
    return Promise.resolve(this.answer);
  }

  requeue(taskId: string): Promise<TransitionResult> {
    const error = this.requeueErrors.shift();
    if (error) return Promise.reject(error);
    this.requeued.push(taskId);
    return Promise.resolve({ ok: true, previous: 'running' });
  }

  reportProgress(taskId: string, progress: number): Promise<boolean> {
    this.progress.push({ taskId, progress });
    return Promise.resolve(true);
  }
}

class FakeResultStore implements Pick<ResultStore, 'readManifest'> {
  readonly manifests = new Map<string, Manifest>();

  readManifest(id: string): Promise<Manifest | undefined> {
    return Promise.resolve(this.manifests.get(id));
  }

  /** A run folder with a manifest, as a finished (or cancelled) run leaves it. */
  ended(taskId: string, status: Manifest['status']): void {
    this.manifests.set(taskId, { task_id: taskId, status, result_files: [], ...manifestFields() });
  }
}

/** The task events channel, published to by the test (the API's cancel, progress). */
class FakeEventsBus implements Pick<TaskEventsBus, 'watch'> {
  private readonly listeners = new Map<string, Set<TaskEventListener>>();

  watch(taskId: string, listener: TaskEventListener): () => void {
    const listeners = this.listeners.get(taskId) ?? new Set();
    this.listeners.set(taskId, listeners);
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  publish(event: TaskEvent): void {
    for (const listener of this.listeners.get(event.task_id) ?? []) listener(event);
  }

  watchers(taskId: string): number {
    return this.listeners.get(taskId)?.size ?? 0;
  }
}

type FinisherCall =
  | { method: 'completed' | 'cancelled'; taskId: string; request: RunRequest; times: RunTimes }
  | {
      method: 'failed';
      taskId: string;
      request: RunRequest;
      times: RunTimes;
      message: string;
      code: FailureCode;
    };

class FakeFinisher implements Pick<
  TaskFinisher,
  'completed' | 'failed' | 'cancelled' | 'settleFromFolder' | 'origin'
> {
  readonly origin = ORIGIN;
  readonly calls: FinisherCall[] = [];
  /** The folders whose status was carried over to the hash (a hash that lagged behind). */
  readonly settledFromFolder: Array<{ taskId: string; status: Manifest['status'] }> = [];
  completedAs: SettledAs = 'completed';
  failedAs: SettledAs = 'failed';
  /** Thrown by the next completed() call: Redis failing while the task is settled. */
  completedError: Error | undefined;

  completed(taskId: string, request: RunRequest, times: RunTimes): Promise<SettledAs> {
    this.calls.push({ method: 'completed', taskId, request, times });
    const error = this.completedError;
    this.completedError = undefined;
    return error ? Promise.reject(error) : Promise.resolve(this.completedAs);
  }

  failed(
    taskId: string,
    request: RunRequest,
    times: RunTimes,
    message: string,
    code: FailureCode,
  ): Promise<SettledAs> {
    this.calls.push({ method: 'failed', taskId, request, times, message, code });
    return Promise.resolve(this.failedAs);
  }

  settleFromFolder(taskId: string, manifest: Manifest): Promise<SettledAs> {
    this.settledFromFolder.push({ taskId, status: manifest.status });
    return Promise.resolve(manifest.status);
  }

  cancelled(taskId: string, request: RunRequest, times: RunTimes): Promise<void> {
    this.calls.push({ method: 'cancelled', taskId, request, times });
    return Promise.resolve();
  }
}

class FakeMetrics implements Pick<MetricsService, 'jobFinished'> {
  readonly finished: Array<{ outcome: string; strategy: string; seconds: number }> = [];
  candles = 0;
  readonly candlesProcessed = { inc: (count: number) => (this.candles += count) };
  readonly postponed: string[] = [];
  readonly jobsPostponed = { inc: ({ reason }: { reason: string }) => this.postponed.push(reason) };

  jobFinished(outcome: string, strategy: string, seconds: number): void {
    this.finished.push({ outcome, strategy, seconds });
  }
}

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

class FakeLogger {
  readonly lines: LogLine[] = [];
  debug = (fields: Record<string, unknown>, message: string) =>
    this.record('debug', fields, message);
  info = (fields: Record<string, unknown>, message: string) => this.record('info', fields, message);
  warn = (fields: Record<string, unknown>, message: string) => this.record('warn', fields, message);
  error = (fields: Record<string, unknown>, message: string) =>
    this.record('error', fields, message);

  private record(level: LogLine['level'], fields: Record<string, unknown>, message: string): void {
    this.lines.push({ level, fields, message });
  }

  messages(): string[] {
    return this.lines.map((line) => line.message);
  }
}

/** The parts of a BullMQ job the handler reads, and what it asked of the job. */
interface FakeJob {
  id: string;
  data: unknown;
  attemptsMade: number;
  opts: { attempts: number };
  movedToWaitWith: Array<string | undefined>;
  moveToWait(token?: string): Promise<number>;
  delayedTo: Array<{ timestamp: number; token: string | undefined }>;
  /** Errors the next moveToDelayed() calls throw, in turn. */
  delayErrors: Error[];
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
}

/** The disk guard as the handler uses it: what it was told. */
class FakeDiskGuard implements Pick<ResultsDiskGuard, 'reportFault'> {
  readonly faults: string[] = [];
  reportFault(error: Error): void {
    this.faults.push(error.message);
  }
}

function fakeJob(taskId: string, data: unknown, attemptsMade = 0, attempts = 3): FakeJob {
  const job: FakeJob = {
    id: taskId,
    data,
    attemptsMade,
    opts: { attempts },
    movedToWaitWith: [],
    moveToWait: (token) => {
      job.movedToWaitWith.push(token);
      return Promise.resolve(0);
    },
    delayedTo: [],
    delayErrors: [],
    moveToDelayed: (timestamp, token) => {
      const error = job.delayErrors.shift();
      if (error) return Promise.reject(error);
      job.delayedTo.push({ timestamp, token });
      return Promise.resolve();
    },
  };
  return job;
}

/** Job data as the API writes it (schema 2): the request was validated at the edge. */
function jobData(taskId: string, request: RunRequest = REQUEST): TaskJobData {
  return { schema: TASK_JOB_SCHEMA, task_id: taskId, created_at: CREATED_AT, request };
}

function handlerWith(options: { jobTimeoutS?: number } = {}) {
  const config: AppConfig = {
    ...loadConfig({ LOG_LEVEL: 'silent' }),
    jobTimeoutS: options.jobTimeoutS ?? 3600,
  };
  const tasks = new FakeTaskStore();
  const results = new FakeResultStore();
  const events = new FakeEventsBus();
  const pool = new FakeThreadPool();
  const finisher = new FakeFinisher();
  const control = new JobControl();
  const metrics = new FakeMetrics();
  const logger = new FakeLogger();
  const disk = new FakeDiskGuard();
  // The collaborators are classes with private members, so TypeScript will not take a fake
  // for one; each fake implements (Pick<>) exactly what the handler uses, hence the casts.
  const progress = new ProgressReporter(
    tasks as unknown as TaskStateStore,
    logger as unknown as PinoLogger,
  );
  const handler = new BacktestJobHandler(
    config,
    tasks as unknown as TaskStateStore,
    results as unknown as ResultStore,
    events as unknown as TaskEventsBus,
    pool as unknown as BacktestThreadPool,
    finisher as unknown as TaskFinisher,
    control,
    progress,
    disk as unknown as ResultsDiskGuard,
    metrics as unknown as MetricsService,
    logger as unknown as PinoLogger,
  );
  const handle = (job: FakeJob, token = 'lock-token') =>
    handler.handle(job as unknown as TaskJob, token);
  return { handle, tasks, results, events, pool, finisher, control, metrics, logger, disk };
}

type Harness = ReturnType<typeof handlerWith>;

/** The run the handler started; fails the test at once if the handler ended without one. */
async function runOf(handled: Promise<unknown>, pool: FakeThreadPool): Promise<FakeRun> {
  return Promise.race([
    pool.started(),
    handled.then(
      (result) => Promise.reject(new Error(`ended without running: ${JSON.stringify(result)}`)),
      (error: unknown) => Promise.reject(error instanceof Error ? error : new Error(String(error))),
    ),
  ]);
}

describe('BacktestJobHandler (fakes around it)', () => {
  let taskId: string;
  let harness: Harness;

  beforeEach(() => {
    taskId = newRunId();
    harness = handlerWith();
  });

  afterEach(() => {
    // Whatever the branch, the job leaves nothing behind: no cancel watcher, no stop handle.
    expect(harness.events.watchers(taskId)).toBe(0);
    expect(harness.control.size).toBe(0);
  });

  describe('a run that ends by itself', () => {
    it('completes: marks running, runs the request, settles completed, counts and logs it', async () => {
      const { handle, tasks, pool, finisher, metrics, logger } = harness;
      const handled = handle(fakeJob(taskId, jobData(taskId)));
      const run = await runOf(handled, pool);

      expect(tasks.markRunningCalls).toEqual([{ taskId, request: REQUEST, createdAt: CREATED_AT }]);
      expect(run.task.taskId).toBe(taskId);
      expect(run.task.request).toEqual(REQUEST);
      expect(run.task.times.created_at).toBe(CREATED_AT);
      expect(new Date(run.task.times.started_at!).toISOString()).toBe(run.task.times.started_at);
      run.emit({ kind: 'symbol-started', symbol: 'ETH_BTC', index: 1, total: 2 });
      run.emit({ kind: 'data-loaded', symbol: 'ETH_BTC', rows: 6048, progress: 0.1 });
      run.finish(COMPLETED);

      await expect(handled).resolves.toEqual({ status: 'completed', total_signals: 7 });
      expect(finisher.calls).toEqual([
        { method: 'completed', taskId, request: REQUEST, times: run.task.times },
      ]);
      expect(metrics.candles).toBe(12_345);
      expect(metrics.finished).toEqual([
        { outcome: 'completed', strategy: REQUEST.strategy, seconds: expect.any(Number) },
      ]);
      expect(metrics.finished[0].seconds).toBeGreaterThanOrEqual(0);
      // SPEC §6's log lines, each carrying the task id.
      expect(logger.messages()).toEqual(
        expect.arrayContaining([
          `[Task ${taskId}] Starting backtest: volume_zone_breakout`,
          `[Task ${taskId}] Processing ETH_BTC (1/2)`,
          `[Task ${taskId}] Data loaded: 6048 rows`,
        ]),
      );
      const done = logger.lines.find(
        (line) => line.message === `[Task ${taskId}] Backtest completed successfully`,
      );
      expect(done).toMatchObject({
        level: 'info',
        fields: { task_id: taskId, status: 'completed', execution_time: 0.42, total_signals: 7 },
      });
    });

    it('reports a completion that a cancel beat in Redis as cancelled, not completed', async () => {
      const { handle, pool, finisher, metrics, logger } = harness;
      finisher.completedAs = 'cancelled';
      const handled = handle(fakeJob(taskId, jobData(taskId)));
      (await runOf(handled, pool)).finish(COMPLETED);

      await expect(handled).resolves.toEqual({ status: 'cancelled' });
      expect(metrics.finished.map((entry) => entry.outcome)).toEqual(['cancelled']);
      expect(logger.messages()).not.toContain(`[Task ${taskId}] Backtest completed successfully`);
    });

    it('fails a run that failed for good (bad data) at once, with its code, even with tries left', async () => {
      const { handle, pool, finisher, metrics, logger } = harness;
      const handled = handle(fakeJob(taskId, jobData(taskId), 0, 3));
      (await runOf(handled, pool)).finish({
        kind: 'failed',
        code: 'no_data',
        message: 'No candles for ETH_BTC, LTC_BTC in range',
      });

      await expect(handled).rejects.toThrow(UnrecoverableError);
      await expect(handled).rejects.toThrow('No candles for ETH_BTC, LTC_BTC in range');
      expect(finisher.calls).toMatchObject([
        { method: 'failed', message: 'No candles for ETH_BTC, LTC_BTC in range', code: 'no_data' },
      ]);
      expect(metrics.finished.map((entry) => entry.outcome)).toEqual(['failed']);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          message: `[Task ${taskId}] Backtest failed: No candles for ETH_BTC, LTC_BTC in range`,
        }),
      );
    });

    const busyFile: BacktestThreadOutcome = {
      kind: 'failed',
      code: 'data_file',
      message: 'EBUSY: resource busy or locked',
      fault: 'io-busy',
    };

    it('hands a transient failure back to BullMQ for another try, the task left running', async () => {
      const { handle, pool, finisher, metrics, logger } = harness;
      const handled = handle(fakeJob(taskId, jobData(taskId), 1, 3));
      (await runOf(handled, pool)).finish(busyFile);

      await expect(handled).rejects.toThrow(TransientFault);
      await expect(handled).rejects.toThrow('EBUSY: resource busy or locked');
      expect(finisher.calls).toEqual([]);
      expect(metrics.finished).toEqual([]);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ attempt: 2 }) }),
      );
    });

    it('fails a transient failure on the last try instead of retrying it', async () => {
      const { handle, pool, finisher, metrics } = harness;
      const handled = handle(fakeJob(taskId, jobData(taskId), 2, 3));
      (await runOf(handled, pool)).finish(busyFile);

      await expect(handled).rejects.toThrow(UnrecoverableError);
      expect(finisher.calls).toMatchObject([
        { method: 'failed', message: 'EBUSY: resource busy or locked', code: 'data_file' },
      ]);
      expect(metrics.finished.map((entry) => entry.outcome)).toEqual(['failed']);
    });
  });

  describe('a task that must not run', () => {
    it('skips a task whose folder has a manifest: the task ended, even if its hash expired', async () => {
      const { handle, tasks, results, pool, finisher, metrics } = harness;
      results.ended(taskId, 'cancelled');

      await expect(handle(fakeJob(taskId, jobData(taskId)))).resolves.toEqual({
        status: 'skipped',
      });
      // Not even marked running: that would rebuild an expired hash and reopen the task.
      expect(tasks.markRunningCalls).toEqual([]);
      expect(pool.runs).toEqual([]);
      expect(finisher.calls).toEqual([]);
      expect(metrics.finished).toEqual([]);
    });

    it('skips a task cancelled while it waited, writing its cancelled folder', async () => {
      const { handle, tasks, pool, finisher } = harness;
      tasks.answer = { ok: false, reason: 'conflict', current: 'cancelled' };

      await expect(handle(fakeJob(taskId, jobData(taskId)))).resolves.toEqual({
        status: 'skipped',
      });
      expect(pool.runs).toEqual([]);
      expect(finisher.calls).toEqual([
        {
          method: 'cancelled',
          taskId,
          request: REQUEST,
          times: { created_at: CREATED_AT, started_at: expect.any(String) },
        },
      ]);
    });

    it('leaves the cancelled folder alone when the cancel wrote it already', async () => {
      const { handle, tasks, results, pool, finisher } = harness;
      // The API cancels the hash, then writes the folder: here both land while the task is
      // being marked, after the handler's first look for a manifest.
      tasks.meanwhile = () => results.ended(taskId, 'cancelled');
      tasks.answer = { ok: false, reason: 'conflict', current: 'cancelled' };

      await expect(handle(fakeJob(taskId, jobData(taskId)))).resolves.toEqual({
        status: 'skipped',
      });
      expect(pool.runs).toEqual([]);
      expect(finisher.calls).toEqual([]);
    });

    it.each([
      [
        'finished already (a duplicate delivery)',
        { ok: false, reason: 'conflict', current: 'completed' },
      ],
      ['missing', { ok: false, reason: 'missing' }],
    ] as const)('skips a task whose hash is %s, writing nothing', async (_case, answer) => {
      const { handle, tasks, pool, finisher, metrics } = harness;
      tasks.answer = answer;

      await expect(handle(fakeJob(taskId, jobData(taskId)))).resolves.toEqual({
        status: 'skipped',
      });
      expect(pool.runs).toEqual([]);
      expect(finisher.calls).toEqual([]);
      expect(metrics.finished).toEqual([]);
    });
  });

  describe('what a job asks for', () => {
    /** A job queued by a version before schema 2: the request's fields at the top level. */
    const legacyData = (taskId: string, fields: Record<string, unknown>) => ({
      task_id: taskId,
      created_at: CREATED_AT,
      ...fields,
    });

    it('validates a legacy job in full: invalid input fails at once, never runs, no retry', async () => {
      const { handle, pool, finisher, metrics } = harness;
      const handled = handle(
        fakeJob(taskId, legacyData(taskId, { ...REQUEST, strategy: 'no_such_strategy' }), 0, 3),
      );

      await expect(handled).rejects.toThrow(UnrecoverableError);
      expect(pool.runs).toEqual([]);
      expect(finisher.calls).toHaveLength(1);
      const [failed] = finisher.calls;
      expect(failed).toMatchObject({ method: 'failed', code: 'invalid_input' });
      expect(failed.method === 'failed' && failed.message).toMatch(
        /^strategy: got "no_such_strategy"/,
      );
      expect(metrics.finished.map((entry) => entry.outcome)).toEqual(['failed']);
    });

    it('runs a valid legacy job with its request as validation normalises it', async () => {
      const { handle, pool } = harness;
      const handled = handle(
        fakeJob(
          taskId,
          legacyData(taskId, { ...REQUEST, symbols: ['eth_btc', 'ETH_BTC'], timeframe: '5m' }),
        ),
      );
      const run = await runOf(handled, pool);
      run.finish(COMPLETED);
      await expect(handled).resolves.toMatchObject({ status: 'completed' });

      expect(run.task.request).toMatchObject({ symbols: ['ETH_BTC'], timeframe: '5M' });
      expect(run.task.request.params).toMatchObject(REQUEST.params);
    });

    it('trusts a schema-2 job: its request goes to the thread as it is, not validated again', async () => {
      const { handle, pool } = harness;
      // Validation would reject this; the edge validated what it queued, so the worker does not.
      const trusted: RunRequest = { ...REQUEST, strategy: 'no_such_strategy' };
      const handled = handle(fakeJob(taskId, jobData(taskId, trusted)));
      const run = await runOf(handled, pool);
      run.finish(COMPLETED);

      await expect(handled).resolves.toMatchObject({ status: 'completed' });
      expect(run.task.request).toBe(trusted);
    });
  });

  describe('a run stopped from outside', () => {
    it('stops on a cancel event mid-run (and only on a cancel), settling it cancelled', async () => {
      const { handle, pool, events, finisher, metrics, logger } = harness;
      const handled = handle(fakeJob(taskId, jobData(taskId)));
      const run = await runOf(handled, pool);

      events.publish({ task_id: taskId, status: 'running', progress: 0.5, error: null });
      expect(run.stopCalls).toBe(0);
      events.publish({
        task_id: taskId,
        status: 'cancelled',
        progress: 0.5,
        error: 'Cancelled by request',
      });
      expect(run.stopCalls).toBe(1);

      await expect(handled).resolves.toEqual({ status: 'cancelled' });
      expect(finisher.calls).toEqual([
        { method: 'cancelled', taskId, request: REQUEST, times: run.task.times },
      ]);
      expect(metrics.finished.map((entry) => entry.outcome)).toEqual(['cancelled']);
      expect(logger.messages()).toContain(`[Task ${taskId}] Cancelled: stopped, no result written`);
    });

    it('stops the run as it starts when the cancel came while the task was being marked running', async () => {
      const { handle, tasks, pool, events, finisher } = harness;
      tasks.meanwhile = () =>
        events.publish({ task_id: taskId, status: 'cancelled', progress: 0, error: 'Cancelled' });
      const handled = handle(fakeJob(taskId, jobData(taskId)));
      const run = await runOf(handled, pool);

      expect(run.stopCalls).toBe(1);
      await expect(handled).resolves.toEqual({ status: 'cancelled' });
      expect(finisher.calls.map((call) => call.method)).toEqual(['cancelled']);
    });

    it('fails a run that outlives JOB_TIMEOUT_S with code timeout, stopping it', async () => {
      harness = handlerWith({ jobTimeoutS: 0.05 });
      const { handle, pool, finisher, metrics } = harness;
      const handled = handle(fakeJob(taskId, jobData(taskId), 0, 3));
      const run = await runOf(handled, pool);

      // The fake never ends by itself: only the timeout can stop it.
      await expect(handled).rejects.toThrow(UnrecoverableError);
      expect(run.stopCalls).toBe(1);
      expect(finisher.calls).toMatchObject([
        {
          method: 'failed',
          code: 'timeout',
          message: 'The backtest ran longer than JOB_TIMEOUT_S (0.05 s) and was stopped',
        },
      ]);
      expect(metrics.finished.map((entry) => entry.outcome)).toEqual(['failed']);
    });

    it('abandons a job whose lock was lost: WaitingError, nothing written, even if the run completed', async () => {
      const { handle, pool, control, finisher, metrics, logger } = harness;
      pool.stopsAtOnce = false;
      const job = fakeJob(taskId, jobData(taskId));
      const handled = handle(job);
      const run = await runOf(handled, pool);

      // What BacktestConsumer does on lockRenewalFailed; the thread then finishes its chunk.
      expect(control.stop(taskId, 'lost')).toBe(true);
      expect(run.stopCalls).toBe(1);
      run.finish(COMPLETED);

      await expect(handled).rejects.toThrow(WaitingError);
      expect(finisher.calls).toEqual([]);
      expect(metrics.finished).toEqual([]);
      expect(metrics.candles).toBe(0);
      expect(job.movedToWaitWith).toEqual([]);
      expect(logger.messages()).toContain(
        `[Task ${taskId}] Abandoned after losing its lock: nothing written`,
      );
    });

    it('releases a job at shutdown back to the waiting list with its lock token: WaitingError', async () => {
      const { handle, pool, control, finisher, metrics } = harness;
      const job = fakeJob(taskId, jobData(taskId));
      const handled = handle(job, 'token-of-this-worker');
      const run = await runOf(handled, pool);

      control.stopAll('released');
      expect(run.stopCalls).toBe(1);

      await expect(handled).rejects.toThrow(WaitingError);
      expect(job.movedToWaitWith).toEqual(['token-of-this-worker']);
      expect(finisher.calls).toEqual([]);
      expect(metrics.finished).toEqual([]);
    });

    it('fails a run that stopped without anyone asking', async () => {
      const { handle, pool, finisher } = harness;
      const handled = handle(fakeJob(taskId, jobData(taskId)));
      (await runOf(handled, pool)).finish({ kind: 'stopped' });

      await expect(handled).rejects.toThrow(UnrecoverableError);
      expect(finisher.calls).toMatchObject([{ method: 'failed', code: 'internal' }]);
    });
  });

  describe("infrastructure faults: never the task's failure", () => {
    const redisDown = (): Error =>
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    const redisFull = (): Error =>
      new Error("OOM command not allowed when used memory > 'maxmemory'.");

    it('puts the job back, no attempt used, when Redis is away while the task is settled', async () => {
      const { handle, pool, finisher, metrics, tasks } = harness;
      finisher.completedError = redisDown();
      const job = fakeJob(taskId, jobData(taskId), 2, 3);
      const handled = handle(job);
      (await runOf(handled, pool)).finish(COMPLETED);

      // Even on the last try: the job waits in the delayed set, the task back to queued.
      await expect(handled).rejects.toThrow(DelayedError);
      expect(finisher.calls.map((call) => call.method)).toEqual(['completed']);
      expect(tasks.requeued).toEqual([taskId]);
      expect(job.delayedTo).toEqual([{ timestamp: expect.any(Number), token: 'lock-token' }]);
      expect(job.delayedTo[0].timestamp).toBeGreaterThan(Date.now());
      expect(metrics.finished).toEqual([]);
      expect(metrics.postponed).toEqual(['redis-unavailable']);
    });

    it('keeps trying to put the job back while Redis refuses even that (full)', async () => {
      const { handle, finisher, tasks } = harness;
      finisher.completedError = redisFull();
      tasks.requeueErrors = [redisFull(), redisFull()];
      const job = fakeJob(taskId, jobData(taskId));
      job.delayErrors = [redisFull()];
      const handled = handle(job);
      (await runOf(handled, harness.pool)).finish(COMPLETED);

      await expect(handled).rejects.toThrow(DelayedError);
      expect(job.delayedTo).toHaveLength(1);
      expect(harness.metrics.postponed).toEqual(['redis-full']);
      expect(harness.finisher.calls.map((call) => call.method)).toEqual(['completed']);
    });

    it('puts the job back when marking it running hits a full Redis: the pool never runs', async () => {
      const { handle, tasks, pool, finisher } = harness;
      tasks.meanwhile = () => {
        throw redisFull();
      };
      const job = fakeJob(taskId, jobData(taskId));
      await expect(handle(job)).rejects.toThrow(DelayedError);
      expect(pool.runs).toEqual([]);
      expect(finisher.calls).toEqual([]);
      expect(job.delayedTo).toHaveLength(1);
    });

    it('leaves a job whose lock is lost while Redis refuses the postponing to BullMQ', async () => {
      const { handle, control, finisher } = harness;
      finisher.completedError = redisFull();
      const job = fakeJob(taskId, jobData(taskId));
      job.delayErrors = Array.from({ length: 1000 }, redisFull);
      const handled = handle(job);
      (await runOf(handled, harness.pool)).finish(COMPLETED);
      // The lock renewal fails meanwhile (lockRenewalFailed): the job is another worker's.
      setTimeout(() => control.stop(taskId, 'lost'), 50);

      await expect(handled).rejects.toThrow(WaitingError);
      expect(job.delayedTo).toEqual([]);
    });

    it('puts the job back and stops this worker taking jobs when its RESULTS_DIR cannot be written', async () => {
      const { handle, pool, finisher, disk, metrics } = harness;
      const job = fakeJob(taskId, jobData(taskId), 2, 3);
      const handled = handle(job);
      (await runOf(handled, pool)).finish({
        kind: 'failed',
        code: 'internal',
        message: 'RESULTS_DIR /r cannot be written (a read-only file system): EROFS',
        fault: 'results-dir',
      });

      await expect(handled).rejects.toThrow(DelayedError);
      expect(disk.faults).toEqual([
        'RESULTS_DIR /r cannot be written (a read-only file system): EROFS',
      ]);
      expect(finisher.calls).toEqual([]);
      expect(metrics.postponed).toEqual(['results-dir']);
    });

    it('settles the hash from the folder of a run whose worker could not (Redis was full)', async () => {
      const { handle, results, pool, finisher } = harness;
      results.ended(taskId, 'completed');
      await expect(handle(fakeJob(taskId, jobData(taskId)))).resolves.toEqual({
        status: 'skipped',
      });
      expect(pool.runs).toEqual([]);
      expect(finisher.settledFromFolder).toEqual([{ taskId, status: 'completed' }]);
    });

    it('fails the task at once on a Redis error that is no outage', async () => {
      const { handle, pool, finisher } = harness;
      finisher.completedError = new Error('ERR unknown command');
      const handled = handle(fakeJob(taskId, jobData(taskId), 0, 3));
      (await runOf(handled, pool)).finish(COMPLETED);

      await expect(handled).rejects.toThrow(UnrecoverableError);
      expect(finisher.calls).toMatchObject([
        { method: 'completed' },
        { method: 'failed', code: 'internal', message: 'ERR unknown command' },
      ]);
    });
  });
});
