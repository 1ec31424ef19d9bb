import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBacktestRequest, ResultDocument, runBacktest } from '@app/backtest';
import { RunRequest } from '@app/common';
import { isTerminal, TaskRecord } from '@app/task-state';
import { AppProcess, startApp } from './support/app-process';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { TaskClient, writeSyntheticData } from './support/task-harness';
import { runFolderNames } from './support/results-dir';

/**
 * Load (SPEC §6, issue "no task lost, none run twice"): 300 backtests submitted at once to
 * the real HTTP API, shared by two real worker processes. Every task must end completed,
 * with the numbers the engine gives for its request, in exactly one run folder, run once.
 */

const TASK_COUNT = 300;
/** Small tasks (~1,000 candles each), different enough that a mixed-up result shows. */
const REQUESTS: Array<Partial<RunRequest>> = [
  { symbol: 'LOAD_A', params: {} as Record<string, number> },
  { symbol: 'LOAD_B', params: { vol_multiplier: 1.2 } },
  { symbol: 'LOAD_C', params: { body_pct: 0.005, hold_period_bars: 3 } },
  { symbol: 'LOAD_A', params: { vol_ma_window: 5, body_pct: 0.003 } },
].map(({ symbol, params }) => ({
  strategy: 'volume_long_candle',
  params,
  symbols: [symbol],
  start_date: '2024-01-01',
  end_date: '2024-01-04',
  timeframe: '5M',
}));

describe('worker: 300 concurrent submissions through the API, two workers', () => {
  let redis: PrivateRedis;
  let dir: string;
  let dataRoot: string;
  let resultsDir: string;
  let env: Record<string, string>;
  let api: AppProcess;
  let workers: AppProcess[] = [];
  let client: TaskClient;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dir = mkdtempSync(join(tmpdir(), 'coin-worker-load-'));
    dataRoot = join(dir, 'data');
    resultsDir = join(dir, 'results');
    await writeSyntheticData(
      dataRoot,
      ['LOAD_A', 'LOAD_B', 'LOAD_C'].map((symbol, index) => ({
        symbol,
        timeframe: '5M',
        year: 2024,
        count: 2000,
        seed: 21 + index,
      })),
    );
    env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      WORKER_CONCURRENCY: '2',
    };
    [api, ...workers] = await Promise.all([
      startApp('api', env),
      startApp('worker', env),
      startApp('worker', env),
    ]);
    client = await TaskClient.connect(env);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all([api, ...workers].filter(Boolean).map((app) => app.stop('SIGKILL')));
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes every task once, with the right result, in exactly one folder each', async () => {
    const submitted = await Promise.all(
      Array.from({ length: TASK_COUNT }, async (_, index) => {
        const request = REQUESTS[index % REQUESTS.length];
        const response = await fetch(`${api.url}/api/backtests/run-async`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        });
        expect(response.status).toBe(202);
        const body = (await response.json()) as { task_id: string; status: string };
        expect(body.status).toBe('queued');
        return { taskId: body.task_id, request };
      }),
    );
    const ids = submitted.map(({ taskId }) => taskId);
    expect(new Set(ids).size).toBe(TASK_COUNT);

    const deadline = Date.now() + 150_000;
    let states: Array<TaskRecord | undefined> = [];
    do {
      states = await Promise.all(ids.map((taskId) => client.tasks.get(taskId)));
      if (states.every((task) => task && isTerminal(task.status))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    } while (Date.now() < deadline);
    expect(states.map((task) => task?.status)).toEqual(ids.map(() => 'completed'));

    // One folder per task, nothing else.
    expect(runFolderNames(resultsDir)).toEqual([...ids].sort());

    const references = await Promise.all(
      REQUESTS.map(async (request) => {
        const outcome = await runBacktest(parseBacktestRequest(request), {
          dataRoot,
          runId: 'reference',
          origin: { environment: 'test', executionHost: 'here', workerId: null },
        });
        return outcome.result;
      }),
    );
    for (const { taskId, request } of submitted) {
      const result = JSON.parse(
        readFileSync(join(resultsDir, taskId, 'result.json'), 'utf8'),
      ) as ResultDocument;
      const reference = references[REQUESTS.indexOf(request)];
      expect(result.run_id).toBe(taskId);
      expect(result.params).toEqual(reference.params);
      expect(result.symbols).toEqual(reference.symbols);
    }

    // Run once: started and completed by exactly one of the workers; both took a share.
    const tally = (text: string): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const worker of workers) {
        for (const line of worker.logLines()) {
          const taskId = String(line.task_id);
          if (String(line.msg) === `[Task ${taskId}] ${text}`) {
            counts.set(taskId, (counts.get(taskId) ?? 0) + 1);
          }
        }
      }
      return counts;
    };
    const starts = tally('Starting backtest: volume_long_candle');
    const completions = tally('Backtest completed successfully');
    expect(ids.filter((taskId) => starts.get(taskId) !== 1)).toEqual([]);
    expect(ids.filter((taskId) => completions.get(taskId) !== 1)).toEqual([]);
    for (const worker of workers) {
      expect(worker.logLines().some((line) => String(line.msg).startsWith('[Task '))).toBe(true);
    }

    // The API serves what the worker wrote.
    const sample = submitted[7];
    const served = await fetch(`${api.url}/api/backtests/${sample.taskId}`);
    expect(served.status).toBe(200);
    expect(((await served.json()) as ResultDocument).symbols).toEqual(
      references[REQUESTS.indexOf(sample.request)].symbols,
    );
  }, 200_000);
});
