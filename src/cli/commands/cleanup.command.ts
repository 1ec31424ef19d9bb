import type { CommandDefinition } from '../command';

export const CLEANUP: CommandDefinition = {
  name: 'cleanup',
  summary: 'delete run folders past their time to live',
  help: `Usage: cli cleanup [--ttl-days N] [--dry-run] [--without-redis] [--data-root DIR] [--results-dir DIR] [--json]

Deletes run folders under RESULTS_DIR past their time to live (SPEC §8), by the time the run
finished: completed runs older than N days (default $TASK_RESULT_TTL_DAYS = 7), failed and
cancelled runs older than min(N, $FAILED_TASK_TTL_DAYS = 1). Prints what it deletes (count, MB).
A folder of a task that is still queued or running is never deleted: the task states are read
from REDIS_URL (it says which Redis and queue on stderr) and, when that Redis is not
reachable, cleanup stops with exit 1 and deletes nothing (a --dry-run goes on, saying so);
folders without a manifest are kept until the job timeout has passed in any case.

  --ttl-days N       days to keep completed runs (a number, 0 or more)
  --dry-run          only list what would be deleted
  --without-redis    decide by the run folders alone, without the task states
  --data-root DIR    market data root (RESULTS_DIR defaults to DATA_ROOT/tasks)
  --results-dir DIR  the results folder itself
  --json             print the report as JSON`,
  flags: {
    'ttl-days': { type: 'string', expects: 'a number of days, 0 or more, e.g. 7' },
    'dry-run': { type: 'boolean', default: false },
    'without-redis': { type: 'boolean', default: false },
    'data-root': { type: 'string', expects: 'a directory' },
    'results-dir': { type: 'string', expects: 'a directory' },
    json: { type: 'boolean', default: false },
  },
  load: async () => (await import('./cleanup.js')).cleanupCommand,
};
