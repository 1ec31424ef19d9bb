import { createHash } from 'node:crypto';
import { TERMINAL_STATUSES, TerminalStatus } from '@app/common';
import { isRunId, Manifest, PortfolioFigures, RunSummary } from '@app/storage';

/**
 * The catalogue's rows: what each one holds and how it is made from the file that is the
 * truth (a run's manifest.json, a preset file, a sweep's manifest.json). Pure functions: no
 * I/O, so the writer of a folder, the rebuild and the tests all build a row the same way.
 */

/** A JSON object kept as it came (parameters, execution settings, figures). */
export type JsonObject = { readonly [key: string]: unknown };

/**
 * Fields the manifest gains with SPEC §12 (written by the run's writer); manifests written
 * before them lack them, so every one is optional here.
 */
export interface ManifestCatalogueFields {
  /** Manifests written before part two lack execution_time and portfolio. */
  summary: Omit<RunSummary, 'execution_time' | 'portfolio'> &
    Partial<Pick<RunSummary, 'execution_time' | 'portfolio'>>;
  /** SPEC §12 execution settings: {fee, slippage, positions}; absent before part two. */
  execution?: JsonObject | null;
}

/** A manifest as the catalogue reads it: any version of the format. */
export type CataloguedManifest = Omit<Manifest, 'summary' | 'execution'> & ManifestCatalogueFields;

export type { PortfolioFigures };

/** One run folder, as history, latest, lookups and cleanup read it. */
export interface RunRow {
  /** The run id (= task id), lower case, as its folder is named. */
  id: string;
  status: TerminalStatus;
  strategy: string;
  params: JsonObject;
  /** As requested, in order. The same in every version of a run's manifest. */
  symbols: string[];
  /** KST calendar dates YYYY-MM-DD (they compare as text). */
  start_date: string;
  end_date: string;
  timeframe: string;
  /** ISO-8601 UTC with milliseconds ("...T10:00:00.000Z"), so they compare as text. */
  created_at: string | null;
  started_at: string | null;
  finished_at: string;
  duration_ms: number | null;
  total_signals: number;
  symbols_processed: number;
  symbols_failed: number;
  /** Mean trade return in percent; null without trades. */
  avg_return: number | null;
  /** Seconds: the result document's for a completed run, duration_ms / 1000 otherwise. */
  execution_time: number | null;
  /** Why it failed or was cancelled. */
  error: string | null;
  execution: JsonObject | null;
  portfolio: PortfolioFigures | null;
  /** The version of the manifest file this row came from (see fileFingerprint); null: unknown. */
  manifest_fingerprint: string | null;
}

/** A saved strategy configuration (SPEC §10.7), one file `presets/{sha256 of name}.json`. */
export interface PresetRow {
  name: string;
  strategy: string;
  params: JsonObject;
  description: string | null;
  created_at: string;
  updated_at: string;
  file_fingerprint: string | null;
}

export const SWEEP_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];
/**
 * Only a completed sweep has a folder (`sweeps/{id}/manifest.json`): a failed or cancelled one
 * keeps no files by design (SPEC §13), and a queued or running one has none yet. So only these
 * rows can be checked against RESULTS_DIR; the others' only record is their row.
 */
export const SWEEP_STATUSES_WITH_FOLDER: readonly SweepStatus[] = ['completed'];

/** A parameter sweep (SPEC §13), one folder `sweeps/{id}/` once it has completed. */
export interface SweepRow {
  sweep_id: string;
  status: SweepStatus;
  strategy: string;
  symbols: string[];
  timeframe: string;
  start_date: string;
  end_date: string;
  combinations: number;
  done: number;
  objective: string;
  created_at: string;
  finished_at: string | null;
  /** The best combination's summary, as the sweep reports it. */
  best: JsonObject | null;
  error: string | null;
  manifest_fingerprint: string | null;
}

/** A file that cannot become a row: it is counted as unreadable and left alone. */
export class UnreadableEntryError extends Error {
  override readonly name = 'UnreadableEntryError';
}

/**
 * The version of a file, from its metadata alone: a rebuild compares it with the row's and
 * re-reads only files that changed. Every atomic write renames a new inode into place, so the
 * inode changes with each version even when size and mtime happen to match.
 */
export function fileFingerprint(stats: {
  ino: number | bigint;
  size: number | bigint;
  mtimeMs: number | bigint;
}): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

/** The row of a run folder, from its manifest alone (never its result.json). */
export function runRowFromManifest(
  manifest: CataloguedManifest,
  manifestFingerprint: string | null = null,
): RunRow {
  const read = new FieldReader(manifest, 'manifest');
  const id = read.string('task_id');
  if (!isRunId(id))
    throw new UnreadableEntryError(`manifest: task_id ${manifest.task_id} is not a run id`);
  const status = read.oneOf('status', TERMINAL_STATUSES);
  const metadata = read.object('metadata');
  const summary = read.object('summary');
  const durationMs = metadata.numberOrNull('duration_ms', { optional: true });
  const executionTime = summary.numberOrNull('execution_time', { optional: true });
  return {
    id: id.toLowerCase(),
    status,
    strategy: read.string('strategy'),
    params: read.json('params'),
    symbols: read.strings('symbols'),
    start_date: read.date('start_date'),
    end_date: read.date('end_date'),
    timeframe: read.string('timeframe'),
    created_at: metadata.timestampOrNull('created_at'),
    started_at: metadata.timestampOrNull('started_at'),
    finished_at: metadata.timestamp('finished_at'),
    duration_ms: durationMs,
    total_signals: summary.count('total_signals'),
    symbols_processed: summary.count('symbols_processed'),
    symbols_failed: summary.count('symbols_failed'),
    avg_return: summary.numberOrNull('avg_return', { optional: true }),
    execution_time:
      status === 'completed' && executionTime !== null
        ? executionTime
        : durationMs === null
          ? null
          : durationMs / 1000,
    error: read.optionalObject('error')?.stringOrNull('message', { optional: true }) ?? null,
    execution: read.jsonOrNull('execution'),
    portfolio: summary.jsonOrNull('portfolio') as PortfolioFigures | null,
    manifest_fingerprint: manifestFingerprint,
  };
}

/** A preset's file name under RESULTS_DIR/presets/: the sha256 of its (NFC) name. */
export function presetFileName(name: string): string {
  return `${presetFileKey(name)}.json`;
}

/** The hex sha256 of a preset's name: its file's stem and its row's file key. */
export function presetFileKey(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}

/** The row of a preset file (`{name, strategy, params, description, created_at, updated_at}`). */
export function presetRowFromFile(file: unknown, fileFingerprint: string | null = null): PresetRow {
  const read = new FieldReader(file, 'preset');
  return {
    name: read.string('name'),
    strategy: read.string('strategy'),
    params: read.json('params'),
    description: read.stringOrNull('description', { optional: true }),
    created_at: read.timestamp('created_at'),
    updated_at: read.timestamp('updated_at'),
    file_fingerprint: fileFingerprint,
  };
}

/**
 * The row of a sweep, from `sweeps/{id}/manifest.json`, which carries the row's fields at its
 * top level (sweep_id, status, strategy, symbols, timeframe, start_date, end_date,
 * combinations, done, objective, created_at, finished_at, best, error).
 */
export function sweepRowFromManifest(
  manifest: unknown,
  manifestFingerprint: string | null = null,
): SweepRow {
  const read = new FieldReader(manifest, 'sweep manifest');
  return {
    sweep_id: read.string('sweep_id'),
    status: read.oneOf('status', SWEEP_STATUSES),
    strategy: read.string('strategy'),
    symbols: read.strings('symbols'),
    timeframe: read.string('timeframe'),
    start_date: read.date('start_date'),
    end_date: read.date('end_date'),
    combinations: read.count('combinations'),
    done: read.count('done'),
    objective: read.string('objective'),
    created_at: read.timestamp('created_at'),
    finished_at: read.timestampOrNull('finished_at'),
    best: read.jsonOrNull('best'),
    error: read.stringOrNull('error', { optional: true }),
    manifest_fingerprint: manifestFingerprint,
  };
}

const KST_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads the fields of a parsed JSON file, checking each: a file from disk is only as good as
 * its checks. The fields the catalogue sorts or filters by must be right; a figure that is
 * merely missing (an older writer) reads as 0 or null.
 */
class FieldReader {
  private readonly fields: Record<string, unknown>;

  constructor(
    value: unknown,
    private readonly where: string,
  ) {
    if (!isPlainObject(value)) throw new UnreadableEntryError(`${where}: not a JSON object`);
    this.fields = value;
  }

  private fail(field: string, expected: string): never {
    throw new UnreadableEntryError(
      `${this.where}: ${field} should be ${expected}, got ${JSON.stringify(this.fields[field]) ?? 'nothing'}`,
    );
  }

  string(field: string): string {
    const value = this.fields[field];
    return typeof value === 'string' && value.length > 0 ? value : this.fail(field, 'a string');
  }

  stringOrNull(field: string, { optional = false } = {}): string | null {
    const value = this.fields[field];
    if (value === null || (optional && value === undefined)) return null;
    return typeof value === 'string' ? value : this.fail(field, 'a string or null');
  }

  strings(field: string): string[] {
    const value = this.fields[field];
    const valid = Array.isArray(value) && value.every((item) => typeof item === 'string');
    return valid ? [...value] : this.fail(field, 'a list of strings');
  }

  oneOf<T extends string>(field: string, allowed: readonly T[]): T {
    const value = this.fields[field];
    return allowed.includes(value as T) ? (value as T) : this.fail(field, allowed.join(' | '));
  }

  date(field: string): string {
    const value = this.fields[field];
    return typeof value === 'string' && KST_DATE.test(value)
      ? value
      : this.fail(field, 'a date YYYY-MM-DD');
  }

  /** An instant, rewritten as ISO-8601 UTC with milliseconds so that text order is time order. */
  timestamp(field: string): string {
    const value = this.fields[field];
    const ms = typeof value === 'string' ? Date.parse(value) : NaN;
    return Number.isFinite(ms) ? new Date(ms).toISOString() : this.fail(field, 'an ISO time');
  }

  timestampOrNull(field: string): string | null {
    const value = this.fields[field];
    return value === null || value === undefined ? null : this.timestamp(field);
  }

  /** A count: a whole number >= 0 (0 when an older writer left it out). */
  count(field: string): number {
    const value = this.fields[field];
    if (value === undefined) return 0;
    return Number.isInteger(value) && (value as number) >= 0
      ? (value as number)
      : this.fail(field, 'a whole number >= 0');
  }

  numberOrNull(field: string, { optional = false } = {}): number | null {
    const value = this.fields[field];
    if (value === null || (optional && value === undefined)) return null;
    return typeof value === 'number' && Number.isFinite(value)
      ? value
      : this.fail(field, 'a number or null');
  }

  json(field: string): JsonObject {
    const value = this.fields[field];
    return isPlainObject(value) ? value : this.fail(field, 'a JSON object');
  }

  jsonOrNull(field: string): JsonObject | null {
    const value = this.fields[field];
    if (value === null || value === undefined) return null;
    return isPlainObject(value) ? value : this.fail(field, 'a JSON object or null');
  }

  object(field: string): FieldReader {
    return new FieldReader(this.json(field), `${this.where}.${field}`);
  }

  optionalObject(field: string): FieldReader | undefined {
    const value = this.jsonOrNull(field);
    return value === null ? undefined : new FieldReader(value, `${this.where}.${field}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
