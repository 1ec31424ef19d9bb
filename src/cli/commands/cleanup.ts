import type { Redis } from 'ioredis';
import { InvalidInputError } from '@app/common';
import { AppConfig, redisOptions } from '@app/config';
import { cleanupRuns } from '@app/catalogue';
import { ResultStore } from '@app/storage';
import { cleanupSweeps } from '@app/sweeps';
import { ACTIVE_STATUSES, TaskStateStore } from '@app/task-state';
import { openCliCatalogue } from '../cli-catalogue';
import { cliConfig } from '../cli-config';
import { FlagValues } from '../args';

export async function cleanupCommand(flags: FlagValues): Promise<number> {
  const config = cliConfig(flags);
  const ttlText = flags['ttl-days'];
  const ttlDays = typeof ttlText === 'string' ? Number(ttlText) : config.taskResultTtlDays;
  if (
    !Number.isFinite(ttlDays) ||
    ttlDays < 0 ||
    (typeof ttlText === 'string' && ttlText.trim() === '')
  ) {
    throw InvalidInputError.of('--ttl-days', ttlText, 'a number of days, 0 or more, e.g. 7');
  }
  const dryRun = flags['dry-run'] === true;
  const withoutRedis = flags['without-redis'] === true;
  // Which Redis it reads, always (issue 10, item 10: it used 127.0.0.1:6379 without a word).
  const where = `Redis at ${config.redis.displayUrl} (queue ${config.queueName})`;
  const redis = withoutRedis ? undefined : await connectIfReachable(config);
  if (!redis && !withoutRedis && !dryRun) {
    // Deleting without the task states could remove the folder of a task being rewritten or
    // re-run: refuse, and say how to point it at the right Redis or to go on regardless.
    throw new Error(
      `${where} is not reachable, and cleanup reads it to keep the folders of tasks still queued or running. Set REDIS_URL (or REDIS_HOST/REDIS_PORT) to the service's Redis, or pass --without-redis to decide by the run folders alone (folders without a manifest are still kept for JOB_TIMEOUT_S)`,
    );
  }
  // What to delete comes from the catalogue (SPEC §11); each folder, then its row.
  const catalogue = await openCliCatalogue(config).catch((error: unknown) => {
    redis?.disconnect();
    throw error;
  });
  try {
    const tasks =
      redis && new TaskStateStore(redis, { queueName: config.queueName, ttlS: config.taskTtlS });
    process.stderr.write(
      redis
        ? `Task states from ${where}\n`
        : withoutRedis
          ? 'Task states not checked (--without-redis)\n'
          : `${where} is not reachable: task states not checked (a dry run deletes nothing; a real run would stop here)\n`,
    );
    const report = await cleanupRuns(
      catalogue,
      new ResultStore(config.resultsDir),
      {
        now: new Date(),
        resultTtlDays: ttlDays,
        failedTtlDays: Math.min(ttlDays, config.failedTaskTtlDays),
        unfinishedGraceMs: config.jobTimeoutS * 1000,
        ...(tasks && {
          isActive: async (id: string) =>
            ACTIVE_STATUSES.includes((await tasks.get(id))?.status ?? 'completed'),
        }),
      },
      dryRun,
    );
    // Sweep folders exist only for completed sweeps: nothing of theirs is ever active. Each
    // removed folder's catalogue row goes with it, as the worker's cleanup does.
    const sweeps = await cleanupSweeps(
      config.resultsDir,
      { now: new Date(), resultTtlDays: ttlDays, unfinishedGraceMs: config.jobTimeoutS * 1000 },
      dryRun,
      (sweepId) => catalogue.removeSweep(sweepId),
    );
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...report, sweeps }, null, 2)}\n`);
      return 0;
    }
    for (const entry of report.removed) {
      process.stdout.write(
        `${dryRun ? 'would delete' : 'deleted'} ${entry.id}  ${entry.status}  finished ${entry.finished_at}  ${(entry.size_bytes / 1048576).toFixed(2)} MB\n`,
      );
    }
    for (const id of report.skipped_active)
      process.stdout.write(`kept ${id}: task still queued or running\n`);
    process.stdout.write(
      `${dryRun ? 'Dry run: would delete' : 'Deleted'} ${report.count} run folder(s), ${report.size_mb.toFixed(2)} MB, from ${config.resultsDir}\n`,
    );
    for (const entry of sweeps.removed) {
      process.stdout.write(
        `${dryRun ? 'would delete' : 'deleted'} sweeps/${entry.id}  ${entry.status}  finished ${entry.finished_at}  ${(entry.size_bytes / 1048576).toFixed(2)} MB\n`,
      );
    }
    if (sweeps.count > 0)
      process.stdout.write(
        `${dryRun ? 'Dry run: would delete' : 'Deleted'} ${sweeps.count} sweep folder(s), ${sweeps.size_mb.toFixed(2)} MB\n`,
      );
    return 0;
  } finally {
    redis?.disconnect();
    await catalogue.close();
  }
}

/** A Redis connection if one answers within a second; the CLI works without Redis. */
async function connectIfReachable(config: AppConfig): Promise<Redis | undefined> {
  // Loaded here, not at the top: no other command needs a Redis client.
  const { Redis } = await import('ioredis');
  const redis = new Redis({
    ...redisOptions(config.redis),
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch {
    redis.disconnect();
    return undefined;
  }
}
