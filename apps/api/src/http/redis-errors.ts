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

/**
 * What ioredis says when the API's fail-fast connection (no offline queue, one retry) cannot
 * run a command, and what Redis answers while it cannot serve one yet.
 */
const UNAVAILABLE_MESSAGES =
  /enableOfflineQueue|Connection is closed|Stream isn't writeable|max retries per request|^(LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/i;

/**
 * True when an error means "Redis cannot be reached right now": the client answers 503 and
 * may retry, rather than 500 (a fault of ours).
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return true;
  return UNAVAILABLE_MESSAGES.test(error.message);
}
