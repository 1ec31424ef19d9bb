import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { Catalogue, rebuildCatalogue, RebuildReport } from '@app/catalogue';
import { AppConfig } from '@app/config';
import { RedisLock, redisKeys } from '@app/task-state';
import { CATALOGUE } from './catalogue.token';
import { APP_CONFIG } from './config.module';
import { withTimeout } from './health/with-timeout';
import { MetricsService } from './metrics/metrics.service';
import { RedisConnections } from './redis.module';

/**
 * Longest a start-up rebuild may hold its lock; the expiry frees it if its process dies. A
 * quick rebuild of 100,000 complete folders takes seconds (docs/decisions/catalogue.md).
 */
export const CATALOGUE_REBUILD_LOCK_TTL_MS = 15 * 60 * 1000;
/** How long the rebuild waits for Redis at start-up before it goes on without the lock. */
const REDIS_WAIT_MS = 10_000;
/**
 * Longest one lock command may take: a worker's Redis connection queues commands while Redis
 * is away, and a command that never answers must hold neither the rebuild nor a shutdown.
 */
const LOCK_COMMAND_TIMEOUT_MS = 1000;
/** Longest a shutdown waits for the rebuild to stop at its next batch. */
const SHUTDOWN_WAIT_MS = 5000;

/** What this process's start-up rebuild did, for /health and the tests. */
export type CatalogueRebuildState =
  | { state: 'running' }
  | { state: 'done'; report: RebuildReport }
  | { state: 'skipped'; reason: 'another process is rebuilding' }
  | { state: 'failed'; message: string };

/**
 * SPEC §11: at start, in the background (the process serves meanwhile), folders the catalogue
 * lacks are indexed and rows whose folder is gone removed: a crash between folder and row
 * heals here. Quick mode: only missing entries and rows without a folder (`cli catalog
 * rebuild` re-reads changed manifests too).
 *
 * Every process starts one, but only one runs at a time across processes (a Redis lock):
 * API replicas and workers starting together would otherwise all list the same 100,000
 * folders. Without Redis it runs anyway — the rebuild's writes never undo a writer's newer
 * row, so two at once are only wasted work, never a wrong index.
 */
@Injectable()
export class CatalogueRebuildOnStart implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('CatalogueRebuild');
  private readonly abort = new AbortController();
  private running: Promise<void> = Promise.resolve();
  state: CatalogueRebuildState = { state: 'running' };

  constructor(
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.run().catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.state = { state: 'failed', message };
      this.logger.error(
        { err: message },
        `Catalogue rebuild failed (${message}); history lists what the catalogue holds, "cli catalog rebuild" retries`,
      );
    });
  }

  /** Stops the rebuild between batches, so shutdown does not wait for a long one. */
  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await withTimeout(this.running, SHUTDOWN_WAIT_MS, 'the catalogue rebuild').catch(() => {
      this.logger.warn('Catalogue rebuild still stopping at shutdown; not waited for');
    });
  }

  private async run(): Promise<void> {
    const lock = new RedisLock(
      this.redis.client,
      redisKeys.catalogueRebuildLock(this.config.queueName),
      CATALOGUE_REBUILD_LOCK_TTL_MS,
    );
    let token: string | undefined;
    let locked = false;
    try {
      token = await this.acquire(lock);
      locked = true;
    } catch (error) {
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'Redis not reachable: the catalogue rebuild runs without its lock',
      );
    }
    if (locked && token === undefined) {
      this.state = { state: 'skipped', reason: 'another process is rebuilding' };
      this.logger.log('Catalogue rebuild skipped: another process is rebuilding it');
      return;
    }
    try {
      const report = await rebuildCatalogue(this.catalogue, this.config.resultsDir, {
        mode: 'quick',
        signal: this.abort.signal,
      });
      this.state = { state: 'done', report };
      this.metrics?.catalogueRebuildDuration.set(report.duration_ms / 1000);
      const { runs, presets, sweeps } = report;
      this.logger.log(
        {
          duration_ms: report.duration_ms,
          complete: report.complete,
          results_dir_found: report.results_dir_found,
          runs,
          presets,
          sweeps,
          unreadable_files: report.unreadable_files,
        },
        `Catalogue rebuild (quick) ${report.complete ? 'done' : 'stopped'} in ${report.duration_ms} ms: ${runs.indexed} run(s) indexed, ${runs.removed} removed, ${runs.unreadable} unreadable`,
      );
    } finally {
      if (token !== undefined)
        await withTimeout(lock.release(token), LOCK_COMMAND_TIMEOUT_MS, 'lock release').catch(
          () => undefined, // it expires by itself
        );
    }
  }

  /**
   * The lock's token, undefined when another process holds it; throws when Redis stays away.
   * No command is sent before the connection is up: a worker's connection would queue it
   * until Redis came back, and that queue would outlive a shutdown.
   */
  private async acquire(lock: RedisLock): Promise<string | undefined> {
    const deadline = Date.now() + REDIS_WAIT_MS;
    while (this.redis.client.status !== 'ready') {
      if (Date.now() >= deadline || this.abort.signal.aborted)
        throw new Error(`not connected to Redis (connection ${this.redis.client.status})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return withTimeout(lock.acquire(), LOCK_COMMAND_TIMEOUT_MS, 'Redis');
  }
}
