import { Injectable } from '@nestjs/common';
import { Catalogue, indexRunFolder } from '@app/catalogue';
import { NotFoundError, TryLaterError } from '@app/common';
import { AppConfig } from '@app/config';
import { InjectCatalogue, InjectConfig, RedisConnections } from '@app/platform';
import { RedisLock, redisKeys } from '@app/task-state';
import { ApiThreads } from '../threads/api-threads.service';

/** Longest a rewrite may hold a run's lock (a huge result on a slow disk); it expires after. */
const RUN_LOCK_TTL_MS = 120_000;
/** How long a request waits for another replica's rewrite of the same run. */
const RUN_LOCK_WAIT_MS = 30_000;

/**
 * SPEC §10.6: a symbol of a completed run switched in or out of its portfolio. Writers of one
 * run are serialised by a Redis lock, so concurrent PATCHes on any number of API replicas
 * each land on the result the previous one wrote (no lost update); the rewrite itself (parse,
 * recompute, write) runs on an API thread, then the run's catalogue row follows.
 */
@Injectable()
export class RunSymbols {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly redis: RedisConnections,
    private readonly threads: ApiThreads,
    @InjectCatalogue() private readonly catalogue: Catalogue,
  ) {}

  async setActive(
    runId: string,
    symbol: string,
    isActive: boolean,
  ): Promise<{ symbol: string; is_active: boolean }> {
    const lock = new RedisLock(
      this.redis.client,
      redisKeys.runLock(this.config.queueName, runId),
      RUN_LOCK_TTL_MS,
    );
    const token = await lock.acquireWithin(RUN_LOCK_WAIT_MS);
    if (token === undefined) {
      throw new TryLaterError(`Run ${runId} is being rewritten; retry in a few seconds`, 5);
    }
    try {
      const outcome = await this.threads.run({
        kind: 'set-symbol-active',
        resultsDir: this.config.resultsDir,
        dataRoot: this.config.dataRoot,
        runId,
        symbol,
        isActive,
      });
      if (outcome.kind === 'no-run') {
        throw new NotFoundError(`No completed run ${runId} (only a completed run has symbols)`);
      }
      if (outcome.kind === 'no-symbol') {
        throw new NotFoundError(`Run ${runId} has no symbol ${symbol} with a result`);
      }
      await indexRunFolder(this.catalogue, this.config.resultsDir, runId);
      return { symbol, is_active: outcome.isActive };
    } finally {
      await lock.release(token).catch(() => undefined);
    }
  }
}
