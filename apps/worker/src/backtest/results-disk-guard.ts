import { randomBytes } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { makeDirectory, ResultsDirError } from '@app/common';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';

/** How often an unusable RESULTS_DIR is checked again. */
export const DISK_RECHECK_MS = 5000;

/**
 * Whether this worker can write run folders. A job that could not write its folder reports
 * it here; the worker then stops taking jobs (BacktestConsumer pauses its BullMQ Worker, the
 * job itself goes back to the queue for another worker) and checks the directory every
 * DISK_RECHECK_MS, resuming once a probe file can be written again. Without this a worker
 * with a read-only or full disk would take job after job and fail each one.
 */
@Injectable()
export class ResultsDiskGuard implements OnModuleDestroy {
  private unusable: ResultsDirError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(usable: boolean) => void>();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectPinoLogger(ResultsDiskGuard.name) private readonly logger: PinoLogger,
  ) {}

  get usable(): boolean {
    return this.unusable === undefined;
  }

  /** Calls `listener(false)` when the disk becomes unusable and `listener(true)` when it recovers. */
  onChange(listener: (usable: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reportFault(error: ResultsDirError | Error): void {
    if (this.unusable) return;
    this.unusable =
      error instanceof ResultsDirError ? error : new ResultsDirError(this.config.resultsDir, error);
    this.logger.error(
      { results_dir: this.config.resultsDir, err_message: this.unusable.message },
      `${this.unusable.message}: this worker takes no more jobs until it can write there again`,
    );
    for (const listener of this.listeners) listener(false);
    this.timer = setInterval(() => void this.recheck(), DISK_RECHECK_MS);
    this.timer.unref();
  }

  private async recheck(): Promise<void> {
    const dir = this.config.resultsDir;
    const probe = join(dir, `.disk-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await makeDirectory(dir);
      await writeFile(probe, 'ok');
      await unlink(probe);
    } catch {
      return;
    }
    clearInterval(this.timer);
    this.unusable = undefined;
    this.logger.info({ results_dir: dir }, `RESULTS_DIR ${dir} is writable again: taking jobs`);
    for (const listener of this.listeners) listener(true);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
