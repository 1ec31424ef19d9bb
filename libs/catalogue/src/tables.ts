import { TerminalStatus } from '@app/common';
import { IndexedKind, IndexedRows } from './catalogue';
import { SqlRecord } from './driver';
import { JsonObject, PortfolioFigures, presetFileKey, SweepStatus } from './rows';
import { SqlValue } from './sql';

/**
 * How each row kind maps to its table: the columns written (in schema.ts's names) and the
 * conversions, JSON fields as text. Both backends store the same text, so a row reads back
 * the same from either, its JSON keys in the order they were written.
 */
export interface TableSpec<Row> {
  table: string;
  /** The column an upsert resolves on. */
  conflictKey: string;
  /** The column a rebuild addresses rows by (see IndexWrite). */
  indexKey: string;
  /** The column holding the source file's fingerprint. */
  fingerprint: string;
  /** Every column written, in order. */
  columns: readonly string[];
  values(row: Row): SqlValue[];
  fromRecord(record: SqlRecord): Row;
}

const json = (value: JsonObject | readonly string[] | null): string | null =>
  value === null ? null : JSON.stringify(value);
const parsed = <T>(value: SqlValue): T => JSON.parse(String(value)) as T;
const parsedOrNull = <T>(value: SqlValue): T | null =>
  value === null ? null : (JSON.parse(String(value)) as T);
const text = (value: SqlValue): string => String(value);
const textOrNull = (value: SqlValue): string | null => (value === null ? null : String(value));
const num = (value: SqlValue): number => Number(value);
const numOrNull = (value: SqlValue): number | null => (value === null ? null : Number(value));

const RUN_COLUMNS = [
  'id',
  'status',
  'strategy',
  'params',
  'symbols',
  'start_date',
  'end_date',
  'timeframe',
  'created_at',
  'started_at',
  'finished_at',
  'duration_ms',
  'total_signals',
  'symbols_processed',
  'symbols_failed',
  'avg_return',
  'execution_time',
  'error',
  'execution',
  'portfolio',
  'manifest_fingerprint',
] as const;

const RUNS: TableSpec<IndexedRows['runs']> = {
  table: 'runs',
  conflictKey: 'id',
  indexKey: 'id',
  fingerprint: 'manifest_fingerprint',
  columns: RUN_COLUMNS,
  values: (row) => [
    row.id,
    row.status,
    row.strategy,
    json(row.params),
    json(row.symbols),
    row.start_date,
    row.end_date,
    row.timeframe,
    row.created_at,
    row.started_at,
    row.finished_at,
    row.duration_ms,
    row.total_signals,
    row.symbols_processed,
    row.symbols_failed,
    row.avg_return,
    row.execution_time,
    row.error,
    json(row.execution),
    json(row.portfolio),
    row.manifest_fingerprint,
  ],
  fromRecord: (r) => ({
    id: text(r.id),
    status: text(r.status) as TerminalStatus,
    strategy: text(r.strategy),
    params: parsed<JsonObject>(r.params),
    symbols: parsed<string[]>(r.symbols),
    start_date: text(r.start_date),
    end_date: text(r.end_date),
    timeframe: text(r.timeframe),
    created_at: textOrNull(r.created_at),
    started_at: textOrNull(r.started_at),
    finished_at: text(r.finished_at),
    duration_ms: numOrNull(r.duration_ms),
    total_signals: num(r.total_signals),
    symbols_processed: num(r.symbols_processed),
    symbols_failed: num(r.symbols_failed),
    avg_return: numOrNull(r.avg_return),
    execution_time: numOrNull(r.execution_time),
    error: textOrNull(r.error),
    execution: parsedOrNull<JsonObject>(r.execution),
    portfolio: parsedOrNull<PortfolioFigures>(r.portfolio),
    manifest_fingerprint: textOrNull(r.manifest_fingerprint),
  }),
};

const PRESETS: TableSpec<IndexedRows['presets']> = {
  table: 'presets',
  conflictKey: 'name',
  // Rebuild meets presets as files, named by the hash of the name.
  indexKey: 'file_key',
  fingerprint: 'file_fingerprint',
  columns: [
    'name',
    'file_key',
    'strategy',
    'params',
    'description',
    'created_at',
    'updated_at',
    'file_fingerprint',
  ],
  values: (row) => [
    row.name,
    presetFileKey(row.name),
    row.strategy,
    json(row.params),
    row.description,
    row.created_at,
    row.updated_at,
    row.file_fingerprint,
  ],
  fromRecord: (r) => ({
    name: text(r.name),
    strategy: text(r.strategy),
    params: parsed<JsonObject>(r.params),
    description: textOrNull(r.description),
    created_at: text(r.created_at),
    updated_at: text(r.updated_at),
    file_fingerprint: textOrNull(r.file_fingerprint),
  }),
};

const SWEEPS: TableSpec<IndexedRows['sweeps']> = {
  table: 'sweeps',
  conflictKey: 'sweep_id',
  indexKey: 'sweep_id',
  fingerprint: 'manifest_fingerprint',
  columns: [
    'sweep_id',
    'status',
    'strategy',
    'symbols',
    'timeframe',
    'start_date',
    'end_date',
    'combinations',
    'done',
    'objective',
    'created_at',
    'finished_at',
    'best',
    'error',
    'manifest_fingerprint',
  ],
  values: (row) => [
    row.sweep_id,
    row.status,
    row.strategy,
    json(row.symbols),
    row.timeframe,
    row.start_date,
    row.end_date,
    row.combinations,
    row.done,
    row.objective,
    row.created_at,
    row.finished_at,
    json(row.best),
    row.error,
    row.manifest_fingerprint,
  ],
  fromRecord: (r) => ({
    sweep_id: text(r.sweep_id),
    status: text(r.status) as SweepStatus,
    strategy: text(r.strategy),
    symbols: parsed<string[]>(r.symbols),
    timeframe: text(r.timeframe),
    start_date: text(r.start_date),
    end_date: text(r.end_date),
    combinations: num(r.combinations),
    done: num(r.done),
    objective: text(r.objective),
    created_at: text(r.created_at),
    finished_at: textOrNull(r.finished_at),
    best: parsedOrNull<JsonObject>(r.best),
    error: textOrNull(r.error),
    manifest_fingerprint: textOrNull(r.manifest_fingerprint),
  }),
};

export const TABLES: { [K in IndexedKind]: TableSpec<IndexedRows[K]> } = {
  runs: RUNS,
  presets: PRESETS,
  sweeps: SWEEPS,
};
