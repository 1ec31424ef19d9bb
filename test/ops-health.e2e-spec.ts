import type { HealthReport, LivenessReport } from '@app/platform';
import type { OpenApiDocument } from './support/openapi';
import { getJson, OpsSystem, SMALL_REQUEST, startOpsSystem, until } from './ops-support/system';

/**
 * SPEC §5 health rows and the operations issue's "done when": the built API and worker with a
 * private Redis; stopping Redis makes readiness fail naming it while liveness holds, and
 * starting it again recovers both processes without restarting either.
 */

jest.setTimeout(90_000);

const API_KEY = 'ops-health-key';

describe('health probes of the running API and worker', () => {
  let system: OpsSystem;
  let apiUrl: string;
  let workerUrl: string;

  beforeAll(async () => {
    system = await startOpsSystem({ env: { API_KEY } });
    apiUrl = system.api!.url;
    workerUrl = system.workers[0].url;
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('answers healthy with the SPEC fields and every check on the API and the worker', async () => {
    for (const url of [apiUrl, workerUrl]) {
      const health = await getJson<HealthReport>(`${url}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('cache-control')).toBe('no-store');
      expect(health.body).toMatchObject({
        status: 'healthy',
        data_root: system.dataRoot,
        results_dir: system.resultsDir,
        failed: [],
        checks: {
          redis: { status: 'up' },
          data_root: { status: 'up' },
          results_dir: { status: 'up' },
          disk: { status: 'up' },
        },
      });
      expect(Number.isNaN(Date.parse(health.body.timestamp))).toBe(false);
      expect(await getJson(`${url}/health/ready`)).toMatchObject({
        status: 200,
        body: { status: 'healthy' },
      });
      expect(await getJson(`${url}/health/live`)).toMatchObject({
        status: 200,
        body: { status: 'healthy' },
      });
    }
  });

  it('keeps probes and metrics open while the API key guards /api', async () => {
    for (const path of ['/health', '/health/live', '/health/ready', '/metrics']) {
      expect((await fetch(`${apiUrl}${path}`)).status).toBe(200);
    }
    expect((await fetch(`${apiUrl}/api/strategies`)).status).toBe(401);
    expect(
      (await fetch(`${apiUrl}/api/strategies`, { headers: { 'x-api-key': API_KEY } })).status,
    ).toBe(200);
  });

  it('documents the probes and /metrics in the OpenAPI document', async () => {
    const { body } = await getJson<OpenApiDocument>(`${apiUrl}/docs-json`);
    for (const path of ['/health', '/health/live', '/health/ready', '/metrics']) {
      expect(body.paths[path]?.get).toBeDefined();
    }
    expect(Object.keys(body.paths['/health/ready'].get!.responses)).toEqual(
      expect.arrayContaining(['200', '503']),
    );
  });

  it('turns ready and health to 503 naming redis while Redis is down, keeps live at 200, and recovers without a restart', async () => {
    const processes = [system.api!, ...system.workers];
    await system.redis.stop();
    let redisStopped = true;
    try {
      for (const url of [apiUrl, workerUrl]) {
        const ready = await until(
          () => getJson<HealthReport>(`${url}/health/ready`),
          (answer) => answer.status === 503,
          15_000,
          `${url}/health/ready to fail`,
        );
        expect(ready.body).toMatchObject({
          status: 'unhealthy',
          failed: ['redis'],
          checks: { redis: { status: 'down' }, data_root: { status: 'up' } },
        });
        expect(await getJson(`${url}/health`)).toMatchObject({
          status: 503,
          body: { status: 'unhealthy', failed: ['redis'] },
        });
        const live = await getJson<LivenessReport>(`${url}/health/live`);
        expect(live).toMatchObject({ status: 200, body: { status: 'healthy' } });
      }

      await system.redis.start();
      redisStopped = false;
      for (const url of [apiUrl, workerUrl]) {
        await until(
          () => getJson<HealthReport>(`${url}/health`),
          (answer) => answer.status === 200 && answer.body.status === 'healthy',
          15_000,
          `${url}/health to recover`,
        );
      }
    } finally {
      if (redisStopped) await system.redis.start();
    }
    for (const process of processes) expect(process.child.exitCode).toBeNull();

    // Recovered for real: a task submitted now runs to the end on the same processes.
    const accepted = await fetch(`${apiUrl}/api/backtests/run-async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify(SMALL_REQUEST),
    });
    expect(accepted.status).toBe(202);
    const { task_id: taskId } = (await accepted.json()) as { task_id: string };
    await until(
      () =>
        getJson<{ status: string }>(`${apiUrl}/api/backtests/status/${taskId}`, {
          'x-api-key': API_KEY,
        }),
      (answer) => answer.body.status === 'completed',
      30_000,
      `task ${taskId} to complete after the outage`,
    );

    // The outage and the recovery are each logged once, not once per probe.
    for (const process of processes) {
      const messages = process.logLines().map((line) => String(line.msg));
      expect(messages.filter((msg) => msg === 'Health checks failing: redis')).toHaveLength(1);
      expect(messages).toContain('Health checks pass again');
    }
  });
});
