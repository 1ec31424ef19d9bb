import Redis from 'ioredis';
import { InvalidInputError } from '@app/common';
import { AppConfig, loadConfig, redisOptions } from '@app/config';
import { cleanupRuns, ResultStore } from '@app/storage';
import { ACTIVE_STATUSES, TaskStateStore } from '@app/task-state';
import { parseFlags } from '../args';

export const CLEANUP_HELP = `Usage: cli cleanup [--ttl-days N] [--dry-run] [--data-root DIR] [--results-dir DIR] [--json]

Deletes run folders under RESULTS_DIR past their time to live (SPEC §8), by the time the run
finished: completed runs older than N days (default $TASK_RESULT_TTL_DAYS = 7), failed and
cancelled runs older than min(N, $FAILED_TASK_TTL_DAYS = 1). Prints what it deletes (count, MB).
A folder of a task that is still queued or running is never deleted: when Redis is reachable
the task states are checked; folders without a manifest are kept until the job timeout has
passed in any case.

  --ttl-days N       days to keep completed runs (a number, 0 or more)
  --dry-run          only list what would be deleted
  --data-root DIR    market data root (RESULTS_DIR defaults to DATA_ROOT/tasks)
  --results-dir DIR  the results folder itself
  --json             print the report as JSON`;

export async function cleanupCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      'ttl-days': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'data-root': { type: 'string' },
      'results-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    'cleanup',
  );
  const config = loadConfig({
    ...process.env,
    ...(typeof flags['data-root'] === 'string' && { DATA_ROOT: flags['data-root'] }),
    ...(typeof flags['results-dir'] === 'string' && { RESULTS_DIR: flags['results-dir'] }),
  });
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
  const redis = await connectIfReachable(config);
  try {
    const tasks =
      redis && new TaskStateStore(redis, { queueName: config.queueName, ttlS: config.taskTtlS });
    if (!redis)
      process.stderr.write(
        `Redis at ${config.redis.displayUrl} is not reachable: task states not checked\n`,
      );
    const report = await cleanupRuns(
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
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
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
    return 0;
  } finally {
    redis?.disconnect();
  }
}

/** A Redis connection if one answers within a second; the CLI works without Redis. */
async function connectIfReachable(config: AppConfig): Promise<Redis | undefined> {
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
