/**
 * The one classifier of infrastructure faults: errors that say nothing about a request or a
 * task and may be gone a moment later. The API answers them 503 (with Retry-After) rather
 * than 500; a worker retries them with backoff rather than failing the task.
 */
export type InfrastructureFault =
  /** Redis cannot be reached, is restarting or refuses commands for now. */
  | 'redis-unavailable'
  /** Redis is at `maxmemory` (noeviction): writes fail until memory is freed or raised. */
  | 'redis-full'
  /** A file held by another process, or the process out of file handles. */
  | 'io-busy';

/** Socket-level failures: Redis is down, restarting or unreachable. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Local resources that free themselves: a busy file, file handles, an interrupted call. */
const BUSY_IO_CODES = new Set(['EBUSY', 'EMFILE', 'ENFILE', 'EAGAIN', 'EINTR']);

/**
 * What ioredis says when a fail-fast connection (no offline queue, one retry) cannot run a
 * command, and what Redis answers while it cannot serve one yet.
 */
const REDIS_UNAVAILABLE_MESSAGES =
  /enableOfflineQueue|Connection is closed|Stream isn't writeable|max retries per request|^(LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|BUSY)\b/i;

/** Redis's answer to a write at maxmemory with the noeviction policy. */
const REDIS_FULL_MESSAGE = /^OOM\b|OOM command not allowed/;

/** The fault an error (or an error it was caused by) is, if it is one of the above. */
export function infrastructureFault(error: unknown): InfrastructureFault | undefined {
  const seen = new Set<unknown>();
  let current = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const { name, code, message, cause } = current as {
      name?: unknown;
      code?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    const text = typeof message === 'string' ? message : '';
    if (REDIS_FULL_MESSAGE.test(text)) return 'redis-full';
    if (name === 'MaxRetriesPerRequestError' || REDIS_UNAVAILABLE_MESSAGES.test(text)) {
      return 'redis-unavailable';
    }
    if (typeof code === 'string') {
      if (CONNECTION_ERROR_CODES.has(code)) return 'redis-unavailable';
      if (BUSY_IO_CODES.has(code)) return 'io-busy';
    }
    current = cause;
  }
  return undefined;
}

/** True for any infrastructure fault: worth another try later, never the task's failure. */
export function isTransientFault(error: unknown): boolean {
  return infrastructureFault(error) !== undefined;
}
