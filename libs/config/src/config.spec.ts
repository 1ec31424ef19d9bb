import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig, loadEnvFile } from './config';

describe('loadConfig', () => {
  it('applies the SPEC §9 defaults when nothing is set', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      port: 8000,
      dataRoot: '/srv/app/data',
      resultsDir: '/srv/app/data/tasks',
      queueName: 'backtests',
      workerHealthPort: 8001,
      jobTimeoutS: 3600,
      syncTimeoutS: 60,
      taskTtlS: 3600,
      taskResultTtlDays: 7,
      failedTaskTtlDays: 1,
      cleanupCron: '0 0 * * *',
      logLevel: 'info',
      environment: 'development',
      apiKey: undefined,
      host: '127.0.0.1',
      catalogPath: '/srv/app/data/tasks/catalog.sqlite',
      databaseUrl: undefined,
      uploadMaxBytes: 200 * 1024 * 1024,
      maxSweepCombinations: 100_000,
      maxQueuedTasks: 10_000,
      rateLimitPerMin: 600,
      maxCandlesPerRun: 50_000_000,
      inlineResultMaxBytes: 8 * 1024 * 1024,
    });
    expect(config.redis).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(config.workerConcurrency).toBeGreaterThanOrEqual(1);
  });

  it('puts RESULTS_DIR under DATA_ROOT unless it is set', () => {
    expect(loadConfig({ DATA_ROOT: '/d' }).resultsDir).toBe('/d/tasks');
    expect(loadConfig({ DATA_ROOT: '/d', RESULTS_DIR: '/r' }).resultsDir).toBe('/r');
  });

  it('puts the catalogue beside the results unless CATALOG_PATH says otherwise', () => {
    expect(loadConfig({ RESULTS_DIR: '/r' }).catalogPath).toBe('/r/catalog.sqlite');
    expect(loadConfig({ RESULTS_DIR: '/r', CATALOG_PATH: '/c/x.sqlite' }).catalogPath).toBe(
      '/c/x.sqlite',
    );
  });

  it('refuses a DATABASE_URL that is not PostgreSQL without echoing it (it may hold a password)', () => {
    let error: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://root:hunter2@db/x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('DATABASE_URL');
    expect((error as ConfigError).message).not.toContain('hunter2');
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h:5432/d' }).databaseUrl).toBe(
      'postgres://u:p@h:5432/d',
    );
  });

  it('reads REDIS_URL with credentials and database, and hides the password when displayed', () => {
    const { redis } = loadConfig({ REDIS_URL: 'redis://user:s%40cret@cache.internal:6380/2' });
    expect(redis).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      db: 2,
      username: 'user',
      password: 's@cret',
      tls: false,
    });
    expect(redis.displayUrl).toBe('redis://cache.internal:6380/2');
  });

  it('falls back to REDIS_HOST/REDIS_PORT/REDIS_DB when REDIS_URL is unset', () => {
    expect(
      loadConfig({ REDIS_HOST: 'redis', REDIS_PORT: '7000', REDIS_DB: '3' }).redis,
    ).toMatchObject({
      host: 'redis',
      port: 7000,
      db: 3,
    });
  });

  it('stops with every bad variable named and what it should be', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        CLEANUP_CRON: 'every day',
        REDIS_URL: 'http://x',
        TASK_TTL_S: '0',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT: got "eighty"; expected an integer from 1 to 65535');
    expect(message).toContain(
      'LOG_LEVEL: got "loud"; expected one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(message).toContain('CLEANUP_CRON: got "every day"');
    expect(message).toContain('REDIS_URL');
    expect(message).toContain('TASK_TTL_S');
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('lists every variable in .env.sample with its default', () => {
    const sample = readFileSync(join(__dirname, '../../../.env.sample'), 'utf8');
    for (const variable of CONFIG_VARIABLES) {
      const line = sample
        .split('\n')
        .find((l) => l.replace(/^#\s*/, '').startsWith(`${variable.name}=`));
      expect(line).toBeDefined();
      if (!variable.computed)
        expect(line!.replace(/^#\s*/, '')).toBe(`${variable.name}=${variable.default}`);
    }
  });

  it('reads ENV_FILE into the environment without overriding what is already set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coin-env-'));
    const file = join(dir, 'service.env');
    writeFileSync(file, 'COIN_TEST_FROM_FILE=file\nCOIN_TEST_ALREADY_SET=file\n');
    try {
      const env: Record<string, string | undefined> = {
        ENV_FILE: file,
        COIN_TEST_ALREADY_SET: 'environment',
      };
      loadEnvFile(env);
      expect(env).toEqual({
        ENV_FILE: file,
        COIN_TEST_ALREADY_SET: 'environment',
        COIN_TEST_FROM_FILE: 'file',
      });
      const none: Record<string, string | undefined> = { ENV_FILE: '' };
      loadEnvFile(none);
      expect(none).toEqual({ ENV_FILE: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
