import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultDocument } from '@app/backtest';
import { isTerminal, TaskStatus } from '@app/task-state';
import type { ErrorBody } from '../../apps/api/src/http/error-response';
import { ENTRY, REPO_ROOT } from './app-process';
import { eventually } from './task-harness';

/** A response read whole: status, headers, raw bytes, and the body as JSON when it is JSON. */
export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  text: string;
  bytes: Buffer;
  body: T;
}

/** GET /api/backtests/status/{id} and each SSE event. */
export interface TaskState {
  task_id: string;
  status: TaskStatus;
  progress: number;
  result: ResultDocument | null;
  error: string | null;
}

export interface TaskAccepted {
  task_id: string;
  status: TaskStatus;
  created_at: string;
}

/** Calls the API over HTTP; a plain object body is sent as JSON. */
export async function call<T = ErrorBody>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; rawBody?: string | Buffer } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let payload: string | Buffer | undefined = options.rawBody;
  if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body: payload });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString('utf8');
  const isJson = response.headers.get('content-type')?.includes('json') ?? false;
  const body = (isJson ? JSON.parse(text) : undefined) as T;
  return { status: response.status, headers: response.headers, text, bytes, body };
}

/** Polls the task's status until it has finished; returns the final status document. */
export async function waitForTask(
  baseUrl: string,
  taskId: string,
  timeoutMs = 30_000,
): Promise<TaskState> {
  let last: ApiResponse<TaskState> | undefined;
  await eventually(
    async () => {
      last = await call<TaskState>(baseUrl, 'GET', `/api/backtests/status/${taskId}`);
      return isTerminal(last.body.status);
    },
    timeoutMs,
    `task ${taskId} to finish`,
  );
  return last!.body;
}

/** What two runs of the same request share: everything but the run's id, timing and host. */
export function comparableResult(document: ResultDocument): unknown {
  const { run_id: _runId, execution_time: _time, metadata: _metadata, ...rest } = document;
  return rest;
}

/** Runs the built CLI's backtest for the same request (in-process engine, no Redis). */
export function cliBacktest(
  dataRoot: string,
  request: {
    strategy: string;
    params?: Record<string, unknown>;
    symbols: string[];
    timeframe: string;
    start_date: string;
    end_date: string;
  },
): ResultDocument {
  const resultsDir = mkdtempSync(join(tmpdir(), 'coin-cli-results-'));
  try {
    const args = [
      ENTRY.cli,
      'backtest',
      '--strategy',
      request.strategy,
      '--symbols',
      request.symbols.join(','),
      '--timeframe',
      request.timeframe,
      '--start',
      request.start_date,
      '--end',
      request.end_date,
      '--data-root',
      dataRoot,
      '--results-dir',
      resultsDir,
      '--json',
      ...(request.params ? ['--params', JSON.stringify(request.params)] : []),
    ];
    const run = spawnSync(process.execPath, args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ENV_FILE: '' },
    });
    if (run.status !== 0) throw new Error(`cli backtest failed (${run.status}): ${run.stderr}`);
    return JSON.parse(run.stdout) as ResultDocument;
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
}
