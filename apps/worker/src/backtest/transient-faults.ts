/**
 * Faults that say nothing about the task itself and may well be gone a second later: a file
 * held by another process, the process out of file descriptors, a Redis connection dropped or
 * still loading its data after a restart. Only these are retried (with BullMQ's backoff);
 * everything else fails the task at once, because running it again would fail the same way.
 */
const TRANSIENT_ERROR_CODES = new Set([
  'EBUSY',
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'EINTR',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
]);

const TRANSIENT_REDIS_MESSAGES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN)\b|Connection is closed/;

/** True when `error`, or an error it was caused by, is one of the transient faults above. */
export function isTransientFault(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const { code, message, cause } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && TRANSIENT_ERROR_CODES.has(code)) return true;
    if (typeof message === 'string' && TRANSIENT_REDIS_MESSAGES.test(message)) return true;
    current = cause;
  }
  return false;
}
