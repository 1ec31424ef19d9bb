import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CleanupEntry, CleanupPolicy, CleanupReport, cleanupReport } from '@app/catalogue';
import { isRunId } from '@app/storage';
import { SWEEP_MANIFEST_FILE, SWEEPS_DIR } from './sweep-files';

const DAY_MS = 86_400_000;
const TEMP_FOLDER = /^\..+\.tmp$/;

/**
 * SPEC §13 "cleanup treats them like runs": `RESULTS_DIR/sweeps/{id}/` folders past
 * TASK_RESULT_TTL_DAYS by their manifest's finished time go (a sweep has a folder only once it
 * completed: failed and cancelled ones leave none). A temp folder left by a writer that died
 * goes once it is older than the longest a job may run. Only UUID-named folders and our own
 * temp folders are candidates; links are never followed. `onRemoved` lets the caller drop the
 * catalogue row.
 */
export async function cleanupSweeps(
  resultsDir: string,
  policy: Pick<CleanupPolicy, 'now' | 'resultTtlDays' | 'unfinishedGraceMs'>,
  dryRun = false,
  onRemoved?: (sweepId: string) => Promise<unknown>,
): Promise<CleanupReport> {
  const root = join(resultsDir, SWEEPS_DIR);
  const nowMs = policy.now.getTime();
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') names = [];
    else throw error;
  }
  const removed: CleanupEntry[] = [];
  for (const name of names) {
    const temp = TEMP_FOLDER.test(name);
    if (!temp && !(isRunId(name) && name === name.toLowerCase())) continue;
    const dir = join(root, name);
    const stats = await lstat(dir).catch(() => undefined);
    if (!stats?.isDirectory()) continue;
    let finishedMs = stats.mtimeMs;
    let expired: boolean;
    if (temp) {
      expired = nowMs - finishedMs > policy.unfinishedGraceMs;
    } else {
      const manifest = await readFile(join(dir, SWEEP_MANIFEST_FILE), 'utf8')
        .then((text) => JSON.parse(text) as { finished_at?: string })
        .catch(() => undefined);
      const parsed = Date.parse(manifest?.finished_at ?? '');
      if (Number.isFinite(parsed)) finishedMs = parsed;
      expired = manifest
        ? nowMs - finishedMs > policy.resultTtlDays * DAY_MS
        : nowMs - finishedMs > policy.unfinishedGraceMs;
    }
    if (!expired) continue;
    let size = 0;
    for (const file of await readdir(dir)) {
      const fileStats = await lstat(join(dir, file)).catch(() => undefined);
      if (fileStats?.isFile()) size += fileStats.size;
    }
    if (!dryRun) {
      await rm(dir, { recursive: true, force: true });
      if (!temp) await onRemoved?.(name);
    }
    removed.push({
      id: name,
      status: temp ? 'unfinished' : 'completed',
      finished_at: new Date(finishedMs).toISOString(),
      age_days: (nowMs - finishedMs) / DAY_MS,
      size_bytes: size,
    });
  }
  return cleanupReport(removed, dryRun);
}
