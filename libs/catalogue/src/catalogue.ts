import { TerminalStatus } from '@app/common';
import { PresetRow, RunRow, SweepRow, SweepStatus } from './rows';

/**
 * The run catalogue (SPEC §11): an index of the run folders, presets and sweeps under
 * RESULTS_DIR, which stay the truth. One interface, two backends (SQLite, PostgreSQL); see
 * docs/decisions/catalogue.md.
 */
export interface Catalogue {
  readonly backend: 'sqlite' | 'postgres';
  /** The schema version the database is at after the migrations run at open. */
  readonly schemaVersion: number;

  // Runs --------------------------------------------------------------------------------
  /** The writer of a run folder, once the folder is complete: its row, replacing any other. */
  upsertRun(row: RunRow): Promise<void>;
  /** After the folder is deleted. Whether there was a row. */
  removeRun(id: string): Promise<boolean>;
  getRun(id: string): Promise<RunRow | undefined>;
  /** The completed run that finished last (ties: the smallest id). */
  latestCompletedRun(): Promise<RunRow | undefined>;
  /** A page of runs matching the filters, newest `finished_at` first, ties by id; and the total. */
  history(query: HistoryQuery): Promise<ListPage<RunRow>>;
  /**
   * Runs past their TTL (SPEC §8), oldest finished first, one page at a time: pass the last
   * candidate of a page as `after` for the next, deleting as you go.
   */
  runsToCleanUp(selection: CleanupSelection): Promise<CleanupCandidate[]>;

  // Presets (SPEC §10.7) ------------------------------------------------------------------
  /** A new preset; ConflictError (HTTP 409) when one of that name exists. */
  createPreset(row: PresetRow): Promise<void>;
  /** Creates or replaces the preset of that name (PUT). */
  savePreset(row: PresetRow): Promise<void>;
  getPreset(name: string): Promise<PresetRow | undefined>;
  /** Every preset, newest `created_at` first, ties by name. */
  listPresets(): Promise<PresetRow[]>;
  removePreset(name: string): Promise<boolean>;

  // Sweeps (SPEC §13) ---------------------------------------------------------------------
  upsertSweep(row: SweepRow): Promise<void>;
  getSweep(sweepId: string): Promise<SweepRow | undefined>;
  /** Newest `created_at` first, ties by id. */
  listSweeps(query: SweepListQuery): Promise<ListPage<SweepRow>>;
  removeSweep(sweepId: string): Promise<boolean>;

  /** How many of each, for /metrics. */
  counts(): Promise<CatalogueCounts>;

  // What a rebuild needs (rebuildCatalogue), the same for each kind of entry -------------
  /** The stored fingerprint of each key that has a row (keys without a row are left out). */
  fingerprints(kind: IndexedKind, keys: readonly string[]): Promise<Map<string, string | null>>;
  /** Writes rows under the rebuild's conditions (IndexWrite); how many were written. */
  index<K extends IndexedKind>(
    kind: K,
    writes: readonly IndexWrite<IndexedRows[K]>[],
  ): Promise<number>;
  removeIndexed(kind: IndexedKind, keys: readonly string[]): Promise<number>;
  /**
   * The keys in key order after `after` (null: from the start), at most `limit`: every row a
   * rebuild may remove (for sweeps, only completed ones: no other status has a folder).
   */
  indexedKeys(kind: IndexedKind, after: string | null, limit: number): Promise<string[]>;

  /** Refreshes the planner's statistics after many writes; rebuildCatalogue calls it. */
  optimize(): Promise<void>;

  close(): Promise<void>;
}

/** `all` selects every final status; history defaults to `completed` (SPEC §10.4). */
export type HistoryStatus = TerminalStatus | 'all';

/** The filters of GET /api/backtests/history (SPEC §5, §10.4), validated by the caller. */
export interface HistoryFilters {
  strategy?: string;
  /** Runs including this symbol; as stored (upper case, SPEC §2). */
  symbol?: string;
  /** Default `completed`. */
  status?: HistoryStatus;
  /** Overlap: runs whose range reaches this date or later (`end_date >= start_date`). */
  start_date?: string;
  /** Overlap: runs whose range starts on or before this date (`start_date <= end_date`). */
  end_date?: string;
  /** Containment: `start_date >= date_from`. */
  date_from?: string;
  /** Containment: `end_date <= date_to`. */
  date_to?: string;
  /** On avg_return (percent); a run without trades (null) never matches either bound. */
  min_return?: number;
  max_return?: number;
  /** On total_signals. */
  min_signals?: number;
  max_signals?: number;
}

export interface PageRequest {
  limit: number;
  offset: number;
}

export type HistoryQuery = HistoryFilters & PageRequest;

export interface ListPage<T> {
  items: T[];
  /** Every row matching the filters, not only this page's. */
  total: number;
}

export interface CleanupSelection {
  /** Completed runs that finished before this go. */
  completedBefore: Date;
  /** Failed and cancelled runs that finished before this go. */
  failedBefore: Date;
  /** The last candidate of the previous page; none for the first page. */
  after?: Pick<CleanupCandidate, 'finished_at' | 'id'>;
  limit: number;
}

export interface CleanupCandidate {
  id: string;
  status: TerminalStatus;
  finished_at: string;
}

export interface SweepListQuery extends PageRequest {
  strategy?: string;
  status?: SweepStatus;
}

export interface CatalogueCounts {
  runs: Record<TerminalStatus, number>;
  presets: number;
  sweeps: Record<SweepStatus, number>;
}

/** The kinds of entry under RESULTS_DIR the catalogue indexes. */
export type IndexedKind = 'runs' | 'presets' | 'sweeps';

export interface IndexedRows {
  runs: RunRow;
  presets: PresetRow;
  sweeps: SweepRow;
}

/**
 * A rebuild's write, conditional so that it never undoes a writer's newer row:
 * - `absent`: only when there is no row yet (a writer that got there first wins);
 * - `unchanged`: replace the row only while it still has the fingerprint the rebuild saw
 *   when it found the row stale.
 * Keys: a run's id, a preset's file key (presetFileKey), a sweep's id.
 */
export type IndexWrite<Row> =
  { row: Row; when: 'absent' } | { row: Row; when: 'unchanged'; fingerprint: string | null };
