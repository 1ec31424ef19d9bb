import { createHash, timingSafeEqual } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { AppConfig } from '@app/config';
import { redisClientOptions } from '@app/platform';
import { redisKeys } from '@app/task-state';
import { API_KEY_HEADER } from './api-key.guard';

/** More submissions than RATE_LIMIT_PER_MIN in the current minute (HTTP 429, Retry-After). */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}

/**
 * The routes that put work on the service: each run is a job in Redis (2.7 KB) and a worker's
 * minutes; an upload is up to UPLOAD_MAX_MB on disk. A flood of them once filled a 256 MB
 * Redis in 90 s (issue 10, item 1). Reads, health and metrics are not counted: probes and
 * dashboards must never be refused. Matched by route, not URL (`/%61pi/...` routes here too).
 */
export const SUBMISSION_ROUTES: ReadonlySet<string> = new Set([
  'POST /api/backtests/run',
  'POST /api/backtests/run-async',
  'POST /api/data/upload',
  // A sweep is one job per chunk: the heaviest submission of all (SPEC §13).
  'POST /api/sweeps',
]);

const WINDOW_MS = 60_000;

/** Redis keys of the counters: one per client (or key) per window, expiring with it. */
function nameSpace(config: AppConfig): string {
  return redisKeys.rateLimitPrefix(config.queueName);
}

function isSubmission(request: FastifyRequest): boolean {
  return SUBMISSION_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`);
}

/**
 * Whose budget a submission spends: with API_KEY set, the clients that hold the key share
 * its budget (a hash of it names the counter; the key itself never reaches Redis); anyone
 * else, and every client when no key is set, spends their address's. A wrong key does not
 * open a new budget: it counts against its address, like no key.
 */
function budgetOf(config: AppConfig): (request: FastifyRequest) => string {
  const key = config.apiKey === undefined ? undefined : Buffer.from(config.apiKey, 'utf8');
  const keyBudget =
    config.apiKey === undefined
      ? ''
      : `key:${createHash('sha256').update(config.apiKey).digest('hex').slice(0, 16)}`;
  return (request) => {
    const given = request.headers[API_KEY_HEADER];
    if (key && typeof given === 'string') {
      const bytes = Buffer.from(given, 'utf8');
      if (bytes.length === key.length && timingSafeEqual(bytes, key)) return keyBudget;
    }
    return `ip:${request.ip}`;
  };
}

/**
 * RATE_LIMIT_PER_MIN submissions per minute per budget (see budgetOf), counted in Redis so
 * that every replica spends the same budget (@fastify/rate-limit's Redis store: one INCR and
 * PEXPIRE in a Lua script per submission). Past it, 429 with Retry-After (the seconds left
 * in the window) through the API's one error mapping. When Redis cannot count, the
 * submission is let through: it then meets Redis itself and gets the API's 503 there.
 * RATE_LIMIT_PER_MIN=0 turns the limit off. Registered before Nest adds its routes, so that
 * the hook reaches every route (and lets all but submissions pass).
 */
export async function registerRateLimit(
  fastify: FastifyInstance,
  config: AppConfig,
): Promise<void> {
  if (config.rateLimitPerMin <= 0) return;
  const redis = new Redis({
    ...redisClientOptions(config, 'api'),
    connectionName: 'coin-backtest-api-rate-limit',
  });
  redis.on('error', () => undefined);
  fastify.addHook('onClose', async () => {
    if (redis.status === 'ready') await redis.quit().catch(() => undefined);
    redis.disconnect();
  });
  const max = config.rateLimitPerMin;
  await fastify.register(fastifyRateLimit, {
    global: true,
    max,
    timeWindow: WINDOW_MS,
    redis,
    nameSpace: nameSpace(config),
    skipOnError: true,
    keyGenerator: budgetOf(config),
    allowList: (request) => !isSubmission(request),
    // The remaining budget is not worth three headers on every 202; Retry-After on the 429 is.
    addHeadersOnExceeding: {
      'x-ratelimit-limit': false,
      'x-ratelimit-remaining': false,
      'x-ratelimit-reset': false,
    },
    addHeaders: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
      'retry-after': true,
    },
    errorResponseBuilder: (_request, context) => {
      const retryAfterS = Math.max(1, Math.ceil(context.ttl / 1000));
      return new RateLimitedError(
        `More than RATE_LIMIT_PER_MIN (${max}) submissions in a minute from this client; retry in ${retryAfterS} s`,
        retryAfterS,
      );
    },
  });
}
