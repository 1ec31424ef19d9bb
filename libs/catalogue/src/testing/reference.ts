import { CleanupSelection, HistoryQuery } from '../catalogue';
import { CataloguedManifest } from '../rows';

/**
 * The history and cleanup rules of SPEC §5, §8 and §10.4 read as plainly as possible, over
 * manifests in memory: what the catalogue's SQL must agree with.
 */
export function referenceHistory(
  manifests: readonly CataloguedManifest[],
  query: HistoryQuery,
): { ids: string[]; total: number } {
  const status = query.status ?? 'completed';
  const matching = manifests.filter((m) => {
    const avgReturn = m.summary.avg_return;
    const signals = m.summary.total_signals;
    if (status !== 'all' && m.status !== status) return false;
    if (query.strategy !== undefined && m.strategy !== query.strategy) return false;
    if (query.symbol !== undefined && !m.symbols.includes(query.symbol)) return false;
    // Overlap with [start_date, end_date]
    if (query.start_date !== undefined && m.end_date < query.start_date) return false;
    if (query.end_date !== undefined && m.start_date > query.end_date) return false;
    // Containment in [date_from, date_to]
    if (query.date_from !== undefined && m.start_date < query.date_from) return false;
    if (query.date_to !== undefined && m.end_date > query.date_to) return false;
    if (query.min_return !== undefined && (avgReturn === null || avgReturn < query.min_return))
      return false;
    if (query.max_return !== undefined && (avgReturn === null || avgReturn > query.max_return))
      return false;
    if (query.min_signals !== undefined && signals < query.min_signals) return false;
    if (query.max_signals !== undefined && signals > query.max_signals) return false;
    return true;
  });
  const ordered = matching.sort(newestFirst);
  return {
    ids: ordered.slice(query.offset, query.offset + query.limit).map((m) => m.task_id),
    total: matching.length,
  };
}

export function referenceCleanup(
  manifests: readonly CataloguedManifest[],
  selection: Omit<CleanupSelection, 'after' | 'limit'>,
): string[] {
  return manifests
    .filter((m) => {
      const finished = Date.parse(m.metadata.finished_at);
      return m.status === 'completed'
        ? finished < selection.completedBefore.getTime()
        : finished < selection.failedBefore.getTime();
    })
    .sort(newestFirst)
    .map((m) => m.task_id);
}

/** Newest finished first; the same finish time: the smaller id first. */
export function newestFirst(a: CataloguedManifest, b: CataloguedManifest): number {
  const byTime = Date.parse(b.metadata.finished_at) - Date.parse(a.metadata.finished_at);
  if (byTime !== 0) return byTime;
  return a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : 0;
}
