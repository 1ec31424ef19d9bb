import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiResponse, call } from './support/api-client';
import { AppProcess, startApp } from './support/app-process';
import { OpenApiDocument } from './support/openapi';
import { OpenApiValidator, SeenResponse } from './support/openapi-validator';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { sampleDataRoot } from './support/sample-data';
import { eventually } from './support/task-harness';

/**
 * The OpenAPI document and the API cannot drift (issue 10, item 8): every response this file
 * sees, of every route, successes and errors, is checked against the document the API
 * serves at /docs-json with ajv: its status documented for the route, its content type
 * among the documented ones, its JSON body valid against the documented schema. The API and
 * a worker in one process (npm start) so that completed runs are seen too.
 */

jest.setTimeout(120_000);

const API_KEY = 'openapi-e2e-key-123';
const KEY = { 'x-api-key': API_KEY };
const MISSING_UUID = '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';

const REQUEST = {
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC', 'LTC_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

/** A request with any method (fetch refuses TRACE): status, Allow and the JSON body. */
function rawCall(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; allow: string | undefined; body: { detail?: string } }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${baseUrl}${path}`, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          allow: response.headers.allow,
          body: JSON.parse(text) as { detail?: string },
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('every response agrees with the OpenAPI document (ajv)', () => {
  let redis: PrivateRedis;
  let service: AppProcess;
  let resultsDir: string;
  let validator: OpenApiValidator;
  const seen: SeenResponse[] = [];

  /** A call whose response is kept for the check against the document. */
  async function send<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: Parameters<typeof call>[3] & { noKey?: boolean } = {},
  ): Promise<ApiResponse<T>> {
    const headers = { ...(options.noKey ? {} : KEY), ...options.headers };
    const response = await call<T>(service.url, method, path, { ...options, headers });
    seen.push({
      method,
      path: path.split('?')[0],
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: response.body ?? response.text,
    });
    return response;
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-api-openapi-'));
    service = await startApp('standalone', {
      REDIS_URL: redis.url,
      DATA_ROOT: await sampleDataRoot(),
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: 'api-openapi-e2e',
      WORKER_CONCURRENCY: '2',
      API_KEY,
      RATE_LIMIT_PER_MIN: '0',
    });
    const document = await call<OpenApiDocument>(service.url, 'GET', '/docs-json');
    validator = new OpenApiValidator(document.body);
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await redis?.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
  });

  it('answers each route as documented, errors included', async () => {
    // Open routes and probes.
    for (const path of ['/', '/health', '/api/health', '/health/live', '/health/ready']) {
      await send('GET', path, { noKey: true });
    }
    await send('GET', '/api/strategies');
    await send('GET', '/api/strategies', { noKey: true }); // 401

    // A run, synchronous and queued; the task's status until it completes.
    const run = await send<{ run_id?: string; task_id?: string }>('POST', '/api/backtests/run', {
      body: REQUEST,
    });
    expect(run.status).toBe(200);
    const queued = await send<{ task_id: string }>('POST', '/api/backtests/run-async', {
      body: REQUEST,
    });
    expect(queued.status).toBe(202);
    const taskId = queued.body.task_id;
    await eventually(
      async () =>
        (await send<{ status: string }>('GET', `/api/backtests/status/${taskId}`)).body.status ===
        'completed',
      30_000,
      'the queued run to complete',
    );
    await send('POST', '/api/backtests/run', {
      body: REQUEST,
      headers: { prefer: 'respond-async' },
    });

    // Results of the completed run.
    for (const path of [
      `/api/backtests/${taskId}`,
      '/api/backtests/latest',
      '/api/backtests/history',
      '/api/backtests/history?status=all&limit=5',
      `/api/backtests/${taskId}/download`,
      `/api/backtests/${taskId}/trades.csv`,
      `/api/backtests/${taskId}/chart.json`,
      '/api/data/inventory',
      '/api/data/candles?symbol=ETH_BTC&timeframe=5M&start_date=2018-01-10&end_date=2018-01-11',
    ]) {
      await send('GET', path);
    }
    await send('PATCH', `/api/backtests/${taskId}/symbols/ETH_BTC`, { body: { is_active: false } });

    // Presets: create, read, replace, conflict, delete.
    const preset = { name: 'openapi check', strategy: 'volume_long_candle', params: {} };
    expect((await send('POST', '/api/strategies/presets', { body: preset })).status).toBe(201);
    await send('POST', '/api/strategies/presets', { body: preset }); // 409
    await send('GET', '/api/strategies/presets');
    await send('GET', '/api/strategies/presets/openapi%20check');
    await send('PUT', '/api/strategies/presets/openapi%20check', { body: preset });
    await send('DELETE', '/api/strategies/presets/openapi%20check');

    // Errors: 400, 404, 409, 413, 415, 422.
    await send('POST', '/api/backtests/run-async', {
      rawBody: '{"strategy":',
      headers: { 'content-type': 'application/json' },
    });
    await send('POST', '/api/backtests/run-async', {
      rawBody: `{"params":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`,
      headers: { 'content-type': 'application/json' },
    });
    await send('POST', '/api/backtests/run-async', {
      rawBody: 'x'.repeat(1024 * 1024 + 1),
      headers: { 'content-type': 'application/json' },
    });
    await send('POST', '/api/backtests/run-async', {
      rawBody: 'strategy=x',
      headers: { 'content-type': 'text/plain' },
    });
    await send('POST', '/api/backtests/run-async', { body: { ...REQUEST, symbols: ['a/b'] } });
    await send('POST', '/api/backtests/run', { body: { ...REQUEST, bogus: 1 } });
    await send('GET', `/api/backtests/status/${MISSING_UUID}`);
    await send('GET', `/api/backtests/status/${MISSING_UUID}/events`, {
      headers: { accept: 'text/event-stream' },
    });
    await send('DELETE', `/api/backtests/tasks/${MISSING_UUID}`);
    await send('DELETE', `/api/backtests/tasks/${taskId}`); // 409: already completed
    await send('GET', `/api/backtests/${MISSING_UUID}`);
    await send('GET', `/api/backtests/not-a-uuid/download`);
    await send('GET', '/api/backtests/history?limit=1000');
    await send('PATCH', `/api/backtests/${taskId}/symbols/NOPE_BTC`, { body: { is_active: true } });
    await send('PATCH', `/api/backtests/${taskId}/symbols/ETH_BTC`, { body: { is_active: 'y' } });
    await send('GET', '/api/strategies/presets/nobody');
    await send('GET', '/api/data/candles?symbol=ETH_BTC&timeframe=7M');

    const problems = seen.flatMap((response) => validator.problems(response));
    expect(problems).toEqual([]);
    // Every route of the document was seen at least once.
    const statuses = new Set(seen.map(({ status }) => status));
    for (const status of [200, 201, 202, 204, 400, 401, 404, 409, 413, 415, 422]) {
      expect([status, statuses.has(status)]).toEqual([status, true]);
    }
  });

  it('documents request bodies no looser than the validation: undeclared fields are refused', async () => {
    const document = (await call<OpenApiDocument>(service.url, 'GET', '/docs-json')).body;
    const request = document.paths['/api/backtests/run-async'].post!.requestBody as {
      content: Record<string, { schema: { $ref: string } }>;
    };
    const name = request.content['application/json'].schema.$ref.split('/').at(-1)!;
    expect(document.components!.schemas![name]).toMatchObject({ additionalProperties: false });
    const refused = await call(service.url, 'POST', '/api/backtests/run-async', {
      body: { ...REQUEST, colour: 'blue' },
      headers: KEY,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0]).toMatchObject({ field: 'colour' });
  });

  it('answers TRACE, QUERY and an unrouted method with 405 and Allow, after the key check', async () => {
    for (const method of ['TRACE', 'QUERY', 'PUT']) {
      const refused = await rawCall(service.url, method, '/api/strategies');
      expect([method, refused.status]).toEqual([method, 401]);
      const answer = await rawCall(service.url, method, '/api/strategies', KEY);
      expect([method, answer.status, answer.allow]).toEqual([method, 405, 'GET, HEAD']);
      expect(answer.body.detail).toContain(`${method} is not allowed on /api/strategies`);
    }
    const trace = await rawCall(service.url, 'TRACE', '/health');
    expect([trace.status, trace.allow]).toEqual([405, 'GET, HEAD']);
    expect((await rawCall(service.url, 'TRACE', '/nowhere')).status).toBe(404);
  });

  it('checks the key before a path parameter’s length, then answers 404 or 414 in JSON', async () => {
    const long = 'a'.repeat(150);
    for (const path of [`/api/backtests/${long}`, `/api/backtests/status/${long}/events`]) {
      expect([path, (await call(service.url, 'GET', path)).status]).toEqual([path, 401]);
      const answer = await call(service.url, 'GET', path, { headers: KEY });
      expect([path, answer.status]).toEqual([path, 404]);
      expect(answer.body.detail).toMatch(/No task or run/);
    }
    const tooLong = `/api/backtests/${'a'.repeat(3000)}`;
    expect((await call(service.url, 'GET', tooLong)).status).toBe(401);
    const answer = await call(service.url, 'GET', tooLong, { headers: KEY });
    expect(answer.status).toBe(414);
    expect(answer.body).toMatchObject({ statusCode: 414, detail: expect.stringContaining('2048') });
    // A preset name of 100 non-Latin code points is valid; percent-encoded it is 900 characters.
    const name = '가'.repeat(100);
    const missing = await call(
      service.url,
      'GET',
      `/api/strategies/presets/${encodeURIComponent(name)}`,
      { headers: KEY },
    );
    expect(missing.status).toBe(404);
  });
});
