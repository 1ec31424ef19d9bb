import { startApp } from './support/app-process';
import { OpsSystem, SMALL_REQUEST, startOpsSystem, until } from './ops-support/system';

/**
 * Logs as the runbook promises them: JSON lines by default at LOG_LEVEL, readable lines with
 * LOG_PRETTY=true, request ids and no probe noise in the API's lines, and every worker line of
 * a task carrying its id, with `execution_time` on completion (so `grep execution_time` finds
 * run times).
 */

jest.setTimeout(90_000);

type LogLine = Record<string, unknown>;

describe('logs', () => {
  let system: OpsSystem;

  beforeAll(async () => {
    system = await startOpsSystem();
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('writes JSON lines with the service, and a request id, and leaves out probes and scrapes', async () => {
    const api = system.api!;
    for (const path of ['/health', '/health/live', '/health/ready', '/metrics']) {
      expect((await fetch(`${api.url}${path}`)).status).toBe(200);
    }
    const answered = await fetch(`${api.url}/api/strategies`, {
      headers: { 'x-request-id': 'ops-logs-request-1' },
    });
    expect(answered.headers.get('x-request-id')).toBe('ops-logs-request-1');
    await until(
      () => Promise.resolve(api.logLines()),
      (lines) => lines.some((line) => (line.req as LogLine | undefined)?.url === '/api/strategies'),
      5000,
      'the request to be logged',
    );

    const output = api.output().trim().split('\n');
    const lines = api.logLines();
    expect(lines).toHaveLength(output.length);
    for (const line of lines) {
      expect(line).toMatchObject({ service: 'api', environment: 'test' });
      expect(typeof line.level).toBe('number');
      expect(typeof line.time).toBe('number');
    }
    const requestLines = lines.filter((line) => line.req !== undefined);
    const urls = requestLines.map((line) => (line.req as LogLine).url);
    expect(urls.filter((url) => /^\/(health|metrics)/.test(String(url)))).toEqual([]);
    expect(
      requestLines.find((line) => (line.req as LogLine).url === '/api/strategies'),
    ).toMatchObject({
      req: { id: 'ops-logs-request-1', method: 'GET' },
      res: { statusCode: 200 },
    });
  });

  it('tags every worker line of a task with its id, and logs execution_time on completion', async () => {
    const [worker] = system.workers;
    const response = await fetch(`${system.api!.url}/api/backtests/run-async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(SMALL_REQUEST),
    });
    const { task_id: taskId } = (await response.json()) as { task_id: string };
    const completion = await until(
      () => Promise.resolve(worker.logLines().filter((line) => line.task_id === taskId)),
      (lines) => lines.some((line) => line.execution_time !== undefined),
      30_000,
      'the completion line',
    );
    const messages = completion.map((line) => String(line.msg));
    for (const message of messages) expect(message.startsWith(`[Task ${taskId}] `)).toBe(true);
    expect(messages).toEqual(
      expect.arrayContaining([
        `[Task ${taskId}] Starting backtest: volume_long_candle`,
        `[Task ${taskId}] Backtest completed successfully`,
      ]),
    );
    const done = completion.find((line) => line.execution_time !== undefined)!;
    expect(done).toMatchObject({ service: 'worker', task_id: taskId });
    expect(typeof done.execution_time).toBe('number');
    // The runbook's `grep execution_time` finds exactly the completion lines.
    const grepped = worker
      .output()
      .split('\n')
      .filter((line) => line.includes('execution_time') && line.includes(taskId));
    expect(grepped).toHaveLength(1);
  });

  it('logs nothing below LOG_LEVEL', async () => {
    const quiet = await startApp('api', { ...system.env, LOG_LEVEL: 'warn' });
    try {
      await fetch(`${quiet.url}/api/strategies`);
      await fetch(`${quiet.url}/api/backtests/00000000-0000-4000-8000-000000000000`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const levels = quiet.logLines().map((line) => line.level as number);
      expect(levels.filter((level) => level < 40)).toEqual([]);
    } finally {
      await quiet.stop();
    }
  });

  it('prints readable lines instead of JSON with LOG_PRETTY=true', async () => {
    const pretty = await startApp('worker', { ...system.env, LOG_PRETTY: 'true' });
    try {
      const lines = await until(
        () => Promise.resolve(pretty.output().split('\n').filter(Boolean)),
        (output) => output.some((line) => line.includes('Results cleanup scheduled')),
        10_000,
        'the start-up lines',
      );
      expect(pretty.logLines()).toEqual([]);
      expect(lines.find((line) => line.includes('Results cleanup scheduled'))).toMatch(/INFO/);
    } finally {
      await pretty.stop();
    }
  });
});
