import type { PinoLogger } from 'nestjs-pino';
import { isTransientFault } from '@app/common';

/** At most one log line per this interval about Redis connection errors. */
export const CONNECTION_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * The queue worker's `error` events. While Redis is away every reconnect attempt is one: say
 * so once per interval (with how many were left out), not hundreds of times. Anything else is
 * logged as it comes.
 */
export class ConnectionErrorLog {
  private loggedAtMs = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: PinoLogger,
    private readonly intervalMs = CONNECTION_ERROR_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  record(error: Error): void {
    if (!isTransientFault(error)) {
      this.logger.error({ err: error }, `Queue worker error: ${error.message}`);
      return;
    }
    const now = this.now();
    if (now - this.loggedAtMs < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn(
      { err_message: error.message, repeated: this.suppressed },
      `Queue connection problem (retrying): ${error.message}`,
    );
    this.loggedAtMs = now;
    this.suppressed = 0;
  }
}
