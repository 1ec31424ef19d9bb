import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TerminalStatus } from '@app/common';
import { isMissing, ResultStore } from './result-store';

const DAY_MS = 24 * 3600 * 1000;

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
  /** When the run finished (manifest) or, without a manifest, when its folder last changed. */
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
 * SPEC §8: deletes run folders past their TTL; with `dryRun` only reports what would go.
 * Only UUID-named folders directly under RESULTS_DIR are candidates; links are never followed.
 */
export async function cleanupRuns(
  store: ResultStore,
  policy: CleanupPolicy,
  dryRun = false,
): Promise<CleanupReport> {
  const removed: CleanupEntry[] = [];
  const skippedActive: string[] = [];
  const nowMs = policy.now.getTime();
  for (const id of await store.listRunIds()) {
    const entry = await describeRun(store, id, nowMs);
    if (!entry || !isExpired(entry, policy)) continue;
    if (policy.isActive && (await policy.isActive(id))) {
      skippedActive.push(id);
      continue;
    }
    if (!dryRun) await store.removeRun(id);
    removed.push(entry);
  }
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

function isExpired(entry: CleanupEntry, policy: CleanupPolicy): boolean {
  const ageMs = entry.age_days * DAY_MS;
  switch (entry.status) {
    case 'completed':
      return ageMs > policy.resultTtlDays * DAY_MS;
    case 'failed':
    case 'cancelled':
      return ageMs > policy.failedTtlDays * DAY_MS;
    case 'unfinished':
      return ageMs > Math.max(policy.failedTtlDays * DAY_MS, policy.unfinishedGraceMs);
  }
}

async function describeRun(
  store: ResultStore,
  id: string,
  nowMs: number,
): Promise<CleanupEntry | undefined> {
  const dir = store.runDir(id);
  let folder;
  try {
    folder = await lstat(dir);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  if (!folder.isDirectory()) return undefined;
  const manifest = await store.readManifest(id);
  const finishedMs = manifest ? Date.parse(manifest.metadata.finished_at) : folder.mtimeMs;
  if (!Number.isFinite(finishedMs)) return undefined;
  return {
    id,
    status: manifest?.status ?? 'unfinished',
    finished_at: new Date(finishedMs).toISOString(),
    age_days: (nowMs - finishedMs) / DAY_MS,
    size_bytes: await folderSize(dir),
  };
}

async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const stats = await lstat(join(dir, name)).catch(() => undefined);
    if (stats?.isFile()) total += stats.size;
  }
  return total;
}
