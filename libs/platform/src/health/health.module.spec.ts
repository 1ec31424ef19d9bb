import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@app/config';
import { PrivateRedis, startPrivateRedis } from '../../../../test/support/redis-server';
import { AppConfigModule } from '../config.module';
import { RedisModule, RedisRole } from '../redis.module';
import { FilesystemHealthIndicator } from './filesystem.health';
import { HealthModule } from './health.module';

interface Answer {
  status: number;
  body: {
    status: string;
    timestamp: string;
    failed: string[];
    checks: Record<string, { status: string; message?: string }>;
  };
}

/** The HealthModule mounted as the apps mount it, on Fastify, with the given environment. */
async function startHealthApp(
  env: Record<string, string>,
  role: RedisRole = 'api',
): Promise<{ get(path: string): Promise<Answer>; close(): Promise<void> }> {
  @Module({
    imports: [AppConfigModule.forRoot(loadConfig(env)), RedisModule.forRoot(role), HealthModule],
  })
  class TestAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return {
    get: async (path) => {
      const response = await app.inject({ method: 'GET', url: path });
      return { status: response.statusCode, body: response.json() };
    },
    close: () => app.close(),
  };
}

/** Once Redis has answered: these tests are about the other checks. */
const redisUp = (answer: Answer): boolean => answer.body.checks.redis?.status === 'up';

/** Polls until `predicate` holds for the answer (liveness: a few seconds at most). */
async function eventually(
  read: () => Promise<Answer>,
  predicate: (answer: Answer) => boolean,
  timeoutMs = 10_000,
): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await read();
    if (predicate(answer) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// `eventually` waits up to 10 s for a first Redis connection; under a full test run's load
// that can outlast Jest's default of 5 s per test.
jest.setTimeout(30_000);

describe('HealthModule', () => {
  let redis: PrivateRedis;
  let dir: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coin-health-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const envFor = (overrides: Record<string, string> = {}): Record<string, string> => ({
    REDIS_URL: redis.url,
    DATA_ROOT: dir,
    MIN_FREE_DISK_MB: '1',
    ...overrides,
  });

  it('reports healthy with every check, creates the results dir, and leaves no probe file', async () => {
    const app = await startHealthApp(envFor());
    try {
      const health = await eventually(
        () => app.get('/health'),
        (answer) => answer.status === 200,
      );
      expect(health.body).toMatchObject({
        status: 'healthy',
        data_root: dir,
        results_dir: join(dir, 'tasks'),
        failed: [],
        checks: {
          redis: { status: 'up' },
          data_root: { status: 'up' },
          results_dir: { status: 'up' },
          disk: { status: 'up', min_free_mb: 1 },
        },
      });
      expect(Date.parse(health.body.timestamp)).not.toBeNaN();
      expect(await readdir(join(dir, 'tasks'))).toEqual([]);
      expect(await app.get('/health/ready')).toMatchObject({
        status: 200,
        body: { status: 'healthy' },
      });
      expect(await app.get('/health/live')).toMatchObject({
        status: 200,
        body: { status: 'healthy' },
      });
    } finally {
      await app.close();
    }
  });

  it.each<RedisRole>(['api', 'worker'])(
    'with the %s connection: Redis down makes ready/health 503 naming redis, live stays 200, and it recovers',
    async (role) => {
      const app = await startHealthApp(envFor(), role);
      let redisStopped = false;
      try {
        // Start-up is not what this is about: wait for the first connection, however slow.
        await eventually(
          () => app.get('/health/ready'),
          (answer) => answer.status === 200,
        );
        await redis.stop();
        redisStopped = true;
        const ready = await eventually(
          () => app.get('/health/ready'),
          (answer) => answer.status === 503,
        );
        expect(ready).toMatchObject({
          status: 503,
          body: { status: 'unhealthy', failed: ['redis'], checks: { redis: { status: 'down' } } },
        });
        expect(await app.get('/health')).toMatchObject({
          status: 503,
          body: { status: 'unhealthy', failed: ['redis'] },
        });
        expect(await app.get('/health/live')).toMatchObject({
          status: 200,
          body: { status: 'healthy' },
        });
        await redis.start();
        redisStopped = false;
        const recovered = await eventually(
          () => app.get('/health'),
          (answer) => answer.status === 200,
        );
        expect(recovered.body).toMatchObject({ status: 'healthy', failed: [] });
      } finally {
        if (redisStopped) await redis.start();
        await app.close();
      }
    },
    30_000,
  );

  it('names data_root when the market data directory is missing', async () => {
    const app = await startHealthApp(
      envFor({ DATA_ROOT: join(dir, 'missing'), RESULTS_DIR: join(dir, 'results') }),
    );
    try {
      const health = await eventually(() => app.get('/health'), redisUp);
      expect(health).toMatchObject({
        status: 503,
        body: { status: 'unhealthy', failed: ['data_root'] },
      });
      expect(health.body.checks.data_root.message).toContain('missing');
    } finally {
      await app.close();
    }
  });

  it('names results_dir when results cannot be written there', async () => {
    // A path through a regular file can never be created, whoever runs the test (even root).
    writeFileSync(join(dir, 'not-a-dir'), '');
    const app = await startHealthApp(envFor({ RESULTS_DIR: join(dir, 'not-a-dir', 'tasks') }));
    try {
      const ready = await eventually(() => app.get('/health/ready'), redisUp);
      expect(ready.status).toBe(503);
      expect(ready.body.failed).toContain('results_dir');
      expect(ready.body.checks.results_dir.message).toMatch(/ENOTDIR/);
    } finally {
      await app.close();
    }
  });

  it('names disk when the results disk has less free space than MIN_FREE_DISK_MB', async () => {
    const app = await startHealthApp(envFor({ MIN_FREE_DISK_MB: '999999999' }));
    try {
      const ready = await eventually(() => app.get('/health/ready'), redisUp);
      expect(ready).toMatchObject({
        status: 503,
        body: { status: 'unhealthy', failed: ['disk'] },
      });
      expect(ready.body.checks.disk.message).toMatch(/MB free, below 999999999 MB/);
    } finally {
      await app.close();
    }
  });

  it('measures free space on the disk a results dir will be on before it exists', async () => {
    const indicator = new FilesystemHealthIndicator(new HealthIndicatorService());
    const notYet = join(dir, 'not', 'yet', 'tasks');
    const result = await indicator.freeSpace('disk', notYet, 1);
    expect(result).toMatchObject({ disk: { status: 'up', path: notYet, min_free_mb: 1 } });
  });
});
