import { lstat, opendir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TerminalStatus } from '@app/common';
import { isMissing, isRunId, MANIFEST_FILE_NAME, ResultStore } from '@app/storage';
import { Catalogue, CleanupCandidate } from './catalogue';
import { isReservedResultsEntry } from './results-dir';

const DAY_MS = 24 * 3600 * 1000;
/** Candidates read from the catalogue at a time: memory stays flat with 100,000 runs. */
const CANDIDATES_PER_PAGE = 500;

export interface CleanupPolicy {
  now: Date;
  /** Completed runs older than this (by the manifest's finished time) go. */
  resultTtlDays: number;
  /** Failed and cancelled runs older than this go. */
  failedTtlDays: number;
  /**
   * A folder without a manifest belongs to a run that has not finished (or died while
   * writing). It goes only once it is older than the failed TTL and than this (the longest a
   * job may run), and the task is not queued or running.
   */
  unfinishedGraceMs: number;
  /** Whether the task is still queued or running (its folder is never deleted then). */
  isActive?: (id: string) => Promise<boolean>;
}

export interface CleanupEntry {
  id: string;
  status: TerminalStatus | 'unfinished';
  /** When the run finished (its row) or, without a manifest, when its folder last changed. */
  finished_at: string;
  age_days: number;
  size_bytes: number;
}

export interface CleanupReport {
  dry_run: boolean;
  removed: CleanupEntry[];
  count: number;
  size_bytes: number;
  size_mb: number;
  /** Folders that were old enough but belong to a queued or running task. */
  skipped_active: string[];
}

/**
 * SPEC §8 with §11: deletes the runs past their TTL, chosen by the catalogue (runsToCleanUp,
 * a page at a time), never by reading every manifest; each one's folder first, then its row
 * (a crash between leaves a row without a folder, which the next rebuild removes). With
 * `dryRun` it only reports what would go. The worker's scheduled cleanup and `cli cleanup`
 * both call this.
 *
 * Folders without a manifest have no row: they are found by listing RESULTS_DIR's names
 * (one descriptor, no file opened; the reserved entries — sweeps/, presets/, catalog.sqlite*
 * — and anything not named by a run id are left alone), and go once older than the grace.
 * Links are never followed.
 */
export async function cleanupRuns(
  catalogue: Catalogue,
  store: ResultStore,
  policy: CleanupPolicy,
  dryRun = false,
): Promise<CleanupReport> {
  const removed: CleanupEntry[] = [];
  const skippedActive: string[] = [];
  const nowMs = policy.now.getTime();
  const take = async (entry: CleanupEntry, removeRow: boolean): Promise<void> => {
    if (policy.isActive && (await policy.isActive(entry.id))) {
      skippedActive.push(entry.id);
      return;
    }
    if (!dryRun) {
      await store.removeRun(entry.id);
      if (removeRow) await catalogue.removeRun(entry.id);
    }
    removed.push(entry);
  };

  let after: CleanupCandidate | undefined;
  for (;;) {
    const page = await catalogue.runsToCleanUp({
      completedBefore: new Date(nowMs - policy.resultTtlDays * DAY_MS),
      failedBefore: new Date(nowMs - policy.failedTtlDays * DAY_MS),
      limit: CANDIDATES_PER_PAGE,
      ...(after && { after }),
    });
    for (const candidate of page) {
      const dir = store.runDir(candidate.id);
      const folder = await lstat(dir).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (folder && !folder.isDirectory()) continue; // never follow a link
      const finishedMs = Date.parse(candidate.finished_at);
      await take(
        {
          id: candidate.id,
          status: candidate.status,
          finished_at: candidate.finished_at,
          age_days: (nowMs - finishedMs) / DAY_MS,
          size_bytes: folder ? await folderSize(dir) : 0,
        },
        true,
      );
    }
    if (page.length < CANDIDATES_PER_PAGE) break;
    after = page[page.length - 1];
  }

  const unfinishedAgeMs = Math.max(policy.failedTtlDays * DAY_MS, policy.unfinishedGraceMs);
  for await (const entry of await listRunFolders(store.resultsDir)) {
    const dir = join(store.resultsDir, entry);
    const folder = await lstat(dir).catch(() => undefined);
    if (!folder?.isDirectory() || nowMs - folder.mtimeMs <= unfinishedAgeMs) continue;
    // lstat opens nothing: a folder with a manifest is a finished run, the catalogue's to choose.
    const manifest = await lstat(join(dir, MANIFEST_FILE_NAME)).catch(() => undefined);
    if (manifest) continue;
    await take(
      {
        id: entry,
        status: 'unfinished',
        finished_at: new Date(folder.mtimeMs).toISOString(),
        age_days: (nowMs - folder.mtimeMs) / DAY_MS,
        size_bytes: await folderSize(dir),
      },
      false,
    );
  }

  return cleanupReport(removed, dryRun, skippedActive);
}

/** A cleanup's report from what it removed (or, in a dry run, would remove). */
export function cleanupReport(
  removed: CleanupEntry[],
  dryRun: boolean,
  skippedActive: string[] = [],
): CleanupReport {
  const sizeBytes = removed.reduce((sum, entry) => sum + entry.size_bytes, 0);
  return {
    dry_run: dryRun,
    removed,
    count: removed.length,
    size_bytes: sizeBytes,
    size_mb: Math.round((sizeBytes / (1024 * 1024)) * 100) / 100,
    skipped_active: skippedActive,
  };
}

/** The names under RESULTS_DIR that may be run folders, read entry by entry (none: no dir). */
async function listRunFolders(resultsDir: string): Promise<AsyncIterable<string>> {
  let dir;
  try {
    dir = await opendir(resultsDir, { bufferSize: 256 });
  } catch (error) {
    if (isMissing(error)) return (async function* () {})();
    throw error;
  }
  return (async function* () {
    for await (const entry of dir) {
      if (isReservedResultsEntry(entry.name) || !isRunId(entry.name)) continue;
      if (entry.isSymbolicLink()) continue;
      yield entry.name;
    }
  })();
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const stats = await lstat(join(dir, name)).catch(() => undefined);
    if (stats?.isFile()) total += stats.size;
  }
  return total;
}
