import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldProblem } from '@app/common';
import { describeAllowedValues, listStrategies } from '@app/strategies';
import type { StrategyListDto } from '../apps/api/src/strategies/strategy.dto';
import type { ServiceInfoDto } from '../apps/api/src/root/root.dto';
import { call, TaskAccepted } from './support/api-client';
import { AppProcess, ENTRY, REPO_ROOT, startApp } from './support/app-process';
import { OpenApiDocument, runAsyncExample } from './support/openapi';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { sampleDataRoot } from './support/sample-data';
import { openSse } from './support/sse';

/**
 * The HTTP face of the API (SPEC §5): routes, errors, validation, security headers, the API
 * key, the OpenAPI document and logs. The built API over HTTP with a private redis-server;
 * no worker is needed, nothing here runs a backtest.
 */

jest.setTimeout(60_000);

const API_KEY = 'e2e-secret-key-1234';
const KEY = { 'x-api-key': API_KEY };
const ALLOWED_ORIGIN = 'https://app.example.com';
const SOME_UUID = '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';

/** Every route of SPEC §5 the API app serves itself (health and metrics come with their module). */
const SPEC_ROUTES: Array<[string, string]> = [
  ['get', '/'],
  ['get', '/api/strategies'],
  ['post', '/api/backtests/run'],
  ['post', '/api/backtests/run-async'],
  ['get', '/api/backtests/status/{task_id}'],
  ['get', '/api/backtests/status/{task_id}/events'],
  ['delete', '/api/backtests/tasks/{task_id}'],
  ['get', '/api/backtests/{id}'],
  ['get', '/api/backtests/latest'],
  ['get', '/api/backtests/history'],
  ['get', '/api/backtests/{id}/download'],
  ['get', '/api/data/inventory'],
];

const VALID_REQUEST = {
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

describe('API over HTTP: routes, errors, security, documentation', () => {
  let redis: PrivateRedis;
  let api: AppProcess;
  let resultsDir: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-api-http-'));
    api = await startApp('api', {
      REDIS_URL: redis.url,
      DATA_ROOT: await sampleDataRoot(),
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: 'api-http-e2e',
      API_KEY,
      CORS_ORIGINS: ALLOWED_ORIGIN,
    });
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await redis?.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
  });

  describe('GET /', () => {
    it('names the service, its version and every endpoint, without an API key', async () => {
      const response = await call<ServiceInfoDto>(api.url, 'GET', '/');
      expect(response.status).toBe(200);
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(response.body).toMatchObject({ name: 'Coin Backtesting API', version: pkg.version });
      const listed = response.body.endpoints.map(({ method, path }) => `${method} ${path}`);
      for (const [method, path] of SPEC_ROUTES)
        expect(listed).toContain(`${method.toUpperCase()} ${path}`);
      expect(listed).toEqual(expect.arrayContaining(['GET /docs', 'GET /docs-json']));
    });
  });

  describe('API key', () => {
    it('refuses /api routes without the X-API-Key header, or with a wrong one, with 401', async () => {
      const missing = await call(api.url, 'GET', '/api/strategies');
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.stringContaining('X-API-Key'),
        detail: expect.stringContaining('X-API-Key'),
      });
      const wrong = await call(api.url, 'GET', '/api/strategies', {
        headers: { 'x-api-key': `${API_KEY}x` },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.message).toMatch(/does not match/);
      const post = await call(api.url, 'POST', '/api/backtests/run-async', { body: VALID_REQUEST });
      expect(post.status).toBe(401);
    });

    it('cannot be bypassed with a percent-encoded path that routes to /api', async () => {
      for (const path of ['/%61pi/strategies', '/%61%70%69/backtests/latest']) {
        expect([path, (await call(api.url, 'GET', path)).status]).toEqual([path, 401]);
      }
      const post = await call(api.url, 'POST', '/%61pi/backtests/run-async', {
        body: VALID_REQUEST,
      });
      expect(post.status).toBe(401);
    });

    it('lets the right key through, and keeps /, /docs, /health and /metrics open', async () => {
      expect((await call(api.url, 'GET', '/api/strategies', { headers: KEY })).status).toBe(200);
      for (const path of ['/', '/docs', '/docs-json', '/health', '/health/live', '/metrics']) {
        expect([path, (await call(api.url, 'GET', path)).status]).not.toEqual([path, 401]);
      }
    });
  });

  describe('GET /api/strategies', () => {
    it('lists each strategy with every parameter’s type, default, range and description', async () => {
      const response = await call<StrategyListDto>(api.url, 'GET', '/api/strategies', {
        headers: KEY,
      });
      expect(response.body.strategies).toEqual(
        listStrategies().map((strategy) => ({
          name: strategy.name,
          description: strategy.description,
          parameters: strategy.params.map((spec) => ({
            name: spec.name,
            type: spec.type,
            default: spec.default,
            min: spec.min ?? null,
            max: spec.max ?? null,
            values: null,
            allowed: describeAllowedValues(spec),
            description: spec.description,
          })),
        })),
      );
      const window = response.body.strategies[0].parameters.find((p) => p.name === 'vol_ma_window');
      expect(window).toMatchObject({ type: 'int', default: 20, min: 1, max: 500 });
      // The execution settings every request may carry, from their own table (SPEC §12).
      expect(response.body.execution.map((p) => [p.name, p.type, p.default, p.values])).toEqual([
        ['fee', 'float', 0, null],
        ['slippage', 'float', 0, null],
        ['positions', 'choice', 'overlap', ['overlap', 'single']],
      ]);
    });
  });

  describe('errors', () => {
    const post = (body: { raw?: string; json?: unknown }, headers: Record<string, string> = {}) =>
      call(api.url, 'POST', '/api/backtests/run-async', {
        headers: { ...KEY, 'content-type': 'application/json', ...headers },
        ...(body.raw !== undefined ? { rawBody: body.raw } : { body: body.json }),
      });

    it('answers malformed JSON with 400 saying where it breaks', async () => {
      const response = await post({ raw: '{"strategy": "volume_long_candle",' });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringMatching(/not valid JSON: .*(position|end of JSON)/i),
        detail: expect.stringMatching(/not valid JSON: .*(position|end of JSON)/i),
      });
      const proto = await post({
        raw: '{"__proto__": {"x": 1}, "strategy": "volume_long_candle"}',
      });
      expect(proto.status).toBe(400);
      expect(proto.body.message).toMatch(/__proto__/);
    });

    it('refuses fields named like built-in object properties instead of dropping them', async () => {
      const response = await post({
        json: {
          ...VALID_REQUEST,
          timeframe: '7M',
          params: { toString: 1, constructor: 2 },
          valueOf: 3,
        },
      });
      expect(response.status).toBe(422);
      const fields = (response.body.errors ?? []).map(({ field }) => field).sort();
      expect(fields).toEqual(['params.constructor', 'params.toString', 'timeframe', 'valueOf']);
    });

    it('answers a URL with broken percent-encoding with 400 in the API’s error shape', async () => {
      const response = await call(api.url, 'GET', '/api/backtests/%E0%A4%A', { headers: KEY });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: expect.stringContaining('percent-encoding'),
        detail: expect.stringContaining('percent-encoding'),
      });
    });

    it('shows a number too large for a double as Infinity, not null', async () => {
      const response = await post({
        raw: JSON.stringify({ ...VALID_REQUEST, params: { vol_ma_window: 1 } }).replace(
          '"vol_ma_window":1',
          '"vol_ma_window":1e309',
        ),
      });
      expect(response.status).toBe(422);
      expect(response.body.errors).toEqual([
        { field: 'params.vol_ma_window', value: 'Infinity', allowed: expect.any(String) },
      ]);
    });

    it('accepts a DELETE that declares a JSON body but sends none', async () => {
      const response = await call(api.url, 'DELETE', `/api/backtests/tasks/${SOME_UUID}`, {
        headers: { ...KEY, 'content-type': 'application/json' },
      });
      expect(response.status).toBe(404);
      expect(response.body.message).toMatch(/task/i);
    });

    it('answers a body over 1 MiB with 413', async () => {
      const response = await post({
        raw: JSON.stringify({ ...VALID_REQUEST, pad: 'x'.repeat(1024 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect(response.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: expect.stringContaining('1 MiB'),
        detail: expect.stringContaining('1 MiB'),
      });
    });

    it('answers a body that is not JSON with 415', async () => {
      const response = await post(
        { raw: 'strategy=volume_long_candle' },
        { 'content-type': 'text/plain' },
      );
      expect(response.status).toBe(415);
      expect(response.body.message).toMatch(/application\/json/);
    });

    it('answers an invalid request with 422 listing every failing field, its value and what is allowed', async () => {
      const response = await post({
        json: {
          strategy: 'volume_long_candle',
          params: { vol_ma_window: 0, body_pct: '0.9', nonsense: 1 },
          symbols: ['ETH_BTC', '../etc'],
          timeframe: '7M',
          start_date: '2018-02-01',
          end_date: '2018-01-01',
          extra: true,
        },
      });
      expect(response.status).toBe(422);
      expect(response.body.error).toBe('Unprocessable Entity');
      const byField = new Map((response.body.errors ?? []).map((p: FieldProblem) => [p.field, p]));
      expect([...byField.keys()].sort()).toEqual(
        [
          'extra',
          'params.vol_ma_window',
          'params.body_pct',
          'params.nonsense',
          'symbols[1]',
          'timeframe',
          'start_date',
          'end_date',
        ].sort(),
      );
      expect(byField.get('params.vol_ma_window')).toEqual({
        field: 'params.vol_ma_window',
        value: 0,
        allowed: 'an integer from 1 to 500',
      });
      expect(byField.get('symbols[1]')?.value).toBe('../etc');
      expect(byField.get('timeframe')?.allowed).toContain('1M, 3M, 5M');
      expect(byField.get('start_date')?.allowed).toMatch(/on or before end_date/);
      expect(byField.get('end_date')?.allowed).toMatch(/on or after start_date/);
      expect(byField.get('extra')?.allowed).toMatch(/no such field/);
      for (const field of byField.keys()) expect(response.body.message).toContain(field);
    });

    it('answers an unknown strategy with 422 naming the known ones', async () => {
      const response = await post({ json: { ...VALID_REQUEST, strategy: 'moon_shot' } });
      expect(response.status).toBe(422);
      expect(response.body.errors).toEqual([
        {
          field: 'strategy',
          value: 'moon_shot',
          allowed: `one of ${listStrategies()
            .map((s) => s.name)
            .join(', ')}`,
        },
      ]);
    });

    it('answers a body that is JSON but not an object with 422', async () => {
      const response = await post({ raw: '["volume_long_candle"]' });
      expect(response.status).toBe(422);
      expect(response.body.errors?.[0]).toMatchObject({
        field: 'body',
        allowed: expect.stringContaining('JSON object'),
      });
    });

    it('answers ids that are not UUIDs, unknown ids and unknown routes with 404 JSON', async () => {
      for (const [method, path] of [
        ['GET', '/api/backtests/..%2F..%2Fetc'],
        ['GET', '/api/backtests/not-a-uuid/download'],
        ['GET', '/api/backtests/status/not-a-uuid'],
        ['GET', '/api/backtests/status/not-a-uuid/events'],
        ['DELETE', '/api/backtests/tasks/not-a-uuid'],
        ['GET', `/api/backtests/${SOME_UUID}`],
        ['GET', `/api/backtests/${SOME_UUID}/download`],
        ['GET', `/api/backtests/status/${SOME_UUID}`],
        ['GET', `/api/backtests/status/${SOME_UUID}/events`],
        ['DELETE', `/api/backtests/tasks/${SOME_UUID}`],
        ['GET', '/api/nothing-here'],
      ]) {
        const response = await call(api.url, method, path, { headers: KEY });
        expect([method, path, response.status]).toEqual([method, path, 404]);
        expect(response.body).toEqual({
          statusCode: 404,
          error: 'Not Found',
          message: expect.any(String),
          detail: expect.any(String),
        });
      }
    });

    it('answers a range filter given backwards with 422 naming both fields', async () => {
      const response = await call(
        api.url,
        'GET',
        '/api/backtests/history?min_signals=5&max_signals=2&limit=500',
        { headers: KEY },
      );
      expect(response.status).toBe(422);
      expect(response.body.errors?.map((p) => p.field).sort()).toEqual([
        'limit',
        'max_signals',
        'min_signals',
      ]);
    });
  });

  describe('headers and logs', () => {
    it('echoes X-Request-Id (or makes one) and logs every request with it, never a body or the key', async () => {
      const marker = 'BODY_MARKER_7f3a';
      await call(api.url, 'POST', '/api/backtests/run-async', {
        headers: { ...KEY, 'x-request-id': 'trace-abc-123' },
        body: { ...VALID_REQUEST, strategy: marker },
      });
      const fresh = await call(api.url, 'GET', '/api/strategies', { headers: KEY });
      expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const echoed = await call(api.url, 'GET', '/', {
        headers: { 'x-request-id': 'trace-abc-124' },
      });
      expect(echoed.headers.get('x-request-id')).toBe('trace-abc-124');

      const lines = api.logLines();
      const requestLines = lines.filter((line) => line.req !== undefined);
      expect(requestLines.length).toBeGreaterThan(0);
      for (const line of requestLines)
        expect((line.req as { id?: unknown }).id).toEqual(expect.any(String));
      expect(requestLines.some((line) => (line.req as { id: string }).id === 'trace-abc-123')).toBe(
        true,
      );
      expect(api.output()).not.toContain(marker);
      expect(api.output()).not.toContain(API_KEY);
    });

    it('sends Helmet-style headers and a CSP under which Swagger UI still loads', async () => {
      const docs = await call(api.url, 'GET', '/docs');
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);
      expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
      expect(docs.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      const csp = docs.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/style-src 'self' 'unsafe-inline'/);
      expect(csp).toMatch(/script-src 'self'/);
      // Every script of the page is a file of the server's own (script-src 'self').
      const scripts = [...docs.text.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const src of scripts) {
        const script = await call(api.url, 'GET', new URL(src, `${api.url}/docs`).pathname);
        expect([src, script.status]).toEqual([src, 200]);
      }
      // /docs/ would resolve those relative script paths under /docs/docs/: it redirects.
      const slash = await fetch(`${api.url}/docs/`, { redirect: 'manual' });
      expect(slash.status).toBe(301);
      expect(slash.headers.get('location')).toBe('/docs');
    });

    it('allows the configured CORS origin only', async () => {
      const preflight = await fetch(`${api.url}/api/backtests/run-async`, {
        method: 'OPTIONS',
        headers: {
          origin: ALLOWED_ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-api-key',
        },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
        'x-api-key',
      );
      // A front end must be able to cancel a task (DELETE) across origins too.
      const cancel = await fetch(`${api.url}/api/backtests/tasks/${SOME_UUID}`, {
        method: 'OPTIONS',
        headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'DELETE' },
      });
      expect(cancel.headers.get('access-control-allow-methods')).toMatch(/DELETE/);
      const other = await fetch(`${api.url}/`, { headers: { origin: 'https://evil.example.com' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('OpenAPI document', () => {
    let document: OpenApiDocument;
    beforeAll(async () => {
      document = (await call<OpenApiDocument>(api.url, 'GET', '/docs-json')).body;
    });

    it('lists every route of SPEC §5 with its error responses and the API key scheme', () => {
      expect(document.openapi).toMatch(/^3\./);
      expect(document.components?.securitySchemes?.api_key).toMatchObject({
        type: 'apiKey',
        in: 'header',
        name: 'X-API-Key',
      });
      for (const [method, path] of SPEC_ROUTES) {
        const operation = document.paths[path]?.[method as 'get'];
        expect([method, path, operation === undefined]).toEqual([method, path, false]);
        expect(operation?.summary).toEqual(expect.any(String));
        expect(Object.keys(operation?.responses ?? {})).toContain('500');
        if (path.startsWith('/api')) {
          expect(Object.keys(operation?.responses ?? {})).toContain('401');
          expect(operation?.security).toEqual([{ api_key: [] }]);
        }
      }
      const runAsync = document.paths['/api/backtests/run-async'].post!;
      expect(Object.keys(runAsync.responses).sort()).toEqual(
        ['202', '400', '401', '413', '415', '422', '429', '500', '503'].sort(),
      );
      expect(
        Object.keys(document.paths['/api/backtests/tasks/{task_id}'].delete!.responses),
      ).toEqual(expect.arrayContaining(['200', '202', '404', '409']));
      expect(Object.keys(document.paths['/api/backtests/run'].post!.responses)).toEqual(
        expect.arrayContaining(['200', '202', '404', '422', '504']),
      );
    });

    it('documents the strategy parameters from their tables', () => {
      const schemas = document.components?.schemas ?? {};
      for (const strategy of listStrategies()) {
        const name = strategy.name.replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase());
        const schema = schemas[`${name}Params`] as {
          properties: Record<string, Record<string, unknown>>;
        };
        for (const spec of strategy.params) {
          const property = schema.properties[spec.name] as {
            default: unknown;
            anyOf: Array<Record<string, unknown>>;
          };
          expect(property.default).toBe(spec.default);
          // The JSON type with its range, or (SPEC §10.3) the string a web form sends.
          expect(property.anyOf[0]).toMatchObject({
            type: { int: 'integer', float: 'number', bool: 'boolean', choice: 'string' }[spec.type],
            ...(spec.min !== undefined && { minimum: spec.min }),
            ...(spec.max !== undefined && { maximum: spec.max }),
          });
          expect(property.anyOf[1]).toMatchObject({ type: 'string' });
        }
      }
    });

    it('gives every property of every DTO an example', () => {
      const missing: string[] = [];
      for (const [schemaName, schema] of Object.entries(document.components?.schemas ?? {})) {
        const { properties = {} } = schema as {
          properties?: Record<string, Record<string, unknown>>;
        };
        for (const [property, definition] of Object.entries(properties)) {
          const described =
            'example' in definition ||
            'default' in definition ||
            '$ref' in definition ||
            'allOf' in definition ||
            'anyOf' in definition ||
            (definition.type === 'array' && '$ref' in ((definition.items as object) ?? {}));
          if (!described) missing.push(`${schemaName}.${property}`);
        }
      }
      expect(missing).toEqual([]);
    });

    it('pre-fills run-async with an example that passes validation', async () => {
      const example = runAsyncExample(document);
      const response = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
        headers: KEY,
        body: example,
      });
      expect(response.status).toBe(202);
      expect(response.body.status).toBe('queued');
    });
  });

  describe('while Redis is down', () => {
    it('answers what needs Redis with 503, serves files meanwhile, and recovers when Redis is back', async () => {
      await redis.stop();
      try {
        const submit = await call(api.url, 'POST', '/api/backtests/run-async', {
          headers: KEY,
          body: VALID_REQUEST,
        });
        expect(submit.status).toBe(503);
        expect(submit.body).toEqual({
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'Redis is unavailable; retry shortly',
          detail: 'Redis is unavailable; retry shortly',
        });
        const status = await call(api.url, 'GET', `/api/backtests/status/${SOME_UUID}`, {
          headers: KEY,
        });
        expect(status.status).toBe(503);
        const history = await call(api.url, 'GET', '/api/backtests/history', { headers: KEY });
        expect(history.status).toBe(200);
      } finally {
        await redis.start();
      }
      let recovered = 0;
      for (let attempt = 0; attempt < 50 && recovered !== 202; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        recovered = (
          await call(api.url, 'POST', '/api/backtests/run-async', {
            headers: KEY,
            body: VALID_REQUEST,
          })
        ).status;
      }
      expect(recovered).toBe(202);
      const stream = await openSse(`${api.url}/api/backtests/status/${SOME_UUID}/events`, KEY);
      expect(stream.status).toBe(404);
    });
  });
});

describe('API start-up with a bad configuration', () => {
  it('exits with code 1 and a message naming each bad variable, before listening', async () => {
    const child = spawn(process.execPath, [ENTRY.api], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '', PORT: 'eighty', SYNC_TIMEOUT_S: '-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('PORT: got "eighty"');
    expect(stderr).toContain('SYNC_TIMEOUT_S: got "-1"');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('API shutdown while Redis is down', () => {
  it('exits 0 on SIGTERM within seconds instead of waiting for Redis', async () => {
    const redis = await startPrivateRedis();
    const api = await startApp('api', { REDIS_URL: redis.url, DATA_ROOT: await sampleDataRoot() });
    try {
      await redis.stop();
      const started = Date.now();
      expect(await api.stop('SIGTERM', 20_000)).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await api.stop('SIGKILL');
      await redis.dispose();
    }
  });
});
