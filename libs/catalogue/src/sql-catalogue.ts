import { ConflictError } from '@app/common';
import { TERMINAL_STATUSES } from '@app/common';
import {
  Catalogue,
  CatalogueCounts,
  CleanupCandidate,
  CleanupSelection,
  HistoryFilters,
  HistoryQuery,
  IndexedKind,
  IndexedRows,
  IndexWrite,
  ListPage,
  PageRequest,
  SweepListQuery,
} from './catalogue';
import { SqlDriver, SqlRecord } from './driver';
import { PresetRow, RunRow, SWEEP_STATUSES, SWEEP_STATUSES_WITH_FOLDER, SweepRow } from './rows';
import { Sql, sql, sqlIdentifier as id, sqlJoin, sqlList, SqlValue } from './sql';
import { TABLES, TableSpec } from './tables';

/**
 * Values per statement, well under SQLite's limit (32,766) and PostgreSQL's (65,535): a batch
 * of rows is written as a few multi-row statements rather than a statement per row.
 */
const MAX_VALUES_PER_STATEMENT = 8_000;

/** The catalogue over any SqlDriver: every query written once, in SQL both backends speak. */
export class SqlCatalogue implements Catalogue {
  readonly backend: 'sqlite' | 'postgres';

  constructor(
    private readonly driver: SqlDriver,
    readonly schemaVersion: number,
  ) {
    this.backend = driver.dialect.name;
  }

  // Runs --------------------------------------------------------------------------------

  async upsertRun(row: RunRow): Promise<void> {
    await this.driver.transaction([
      ...insertStatements(TABLES.runs, [row], onConflictReplace(TABLES.runs)),
      ...runSymbolStatements([row]),
    ]);
  }

  async removeRun(runId: string): Promise<boolean> {
    return (await this.removeIndexed('runs', [runId.toLowerCase()])) > 0;
  }

  async getRun(runId: string): Promise<RunRow | undefined> {
    const rows = await this.driver.query(
      sql`SELECT ${columns(TABLES.runs)} FROM runs WHERE id = ${runId.toLowerCase()}`,
    );
    return rows.length > 0 ? TABLES.runs.fromRecord(rows[0]) : undefined;
  }

  async latestCompletedRun(): Promise<RunRow | undefined> {
    const rows = await this.driver.query(
      sql`SELECT ${columns(TABLES.runs)} FROM runs WHERE status = ${'completed'}
          ORDER BY finished_at DESC, id LIMIT 1`,
    );
    return rows.length > 0 ? TABLES.runs.fromRecord(rows[0]) : undefined;
  }

  async history(query: HistoryQuery): Promise<ListPage<RunRow>> {
    checkPage(query);
    const [rows, [count]] = await this.driver.queries(historyStatements(query));
    return { items: rows.map((row) => TABLES.runs.fromRecord(row)), total: Number(count.total) };
  }

  async runsToCleanUp(selection: CleanupSelection): Promise<CleanupCandidate[]> {
    checkCount('limit', selection.limit, 1);
    const { after } = selection;
    // Newest first like history, so one index serves both; `after` is a keyset, not an offset:
    // rows deleted between pages shift nothing.
    const resume = after
      ? sql`AND (finished_at < ${after.finished_at} OR (finished_at = ${after.finished_at} AND id > ${after.id}))`
      : sql``;
    const rows = await this.driver.query(
      sql`SELECT id, status, finished_at FROM runs
          WHERE ((status = ${'completed'} AND finished_at < ${selection.completedBefore.toISOString()})
             OR (status IN ${sqlList(['failed', 'cancelled'])} AND finished_at < ${selection.failedBefore.toISOString()}))
          ${resume}
          ORDER BY finished_at DESC, id LIMIT ${selection.limit}`,
    );
    return rows.map((row) => ({
      id: String(row.id),
      status: String(row.status) as CleanupCandidate['status'],
      finished_at: String(row.finished_at),
    }));
  }

  // Presets -----------------------------------------------------------------------------

  async createPreset(row: PresetRow): Promise<void> {
    const presets = TABLES.presets;
    const [changed] = await this.driver.transaction(
      insertStatements(presets, [row], sql`ON CONFLICT (name) DO NOTHING`),
    );
    if (changed === 0) throw new ConflictError(`A preset named "${row.name}" exists already`);
  }

  async savePreset(row: PresetRow): Promise<void> {
    await this.driver.transaction(
      insertStatements(TABLES.presets, [row], onConflictReplace(TABLES.presets)),
    );
  }

  async getPreset(name: string): Promise<PresetRow | undefined> {
    const rows = await this.driver.query(
      sql`SELECT ${columns(TABLES.presets)} FROM presets WHERE name = ${name}`,
    );
    return rows.length > 0 ? TABLES.presets.fromRecord(rows[0]) : undefined;
  }

  async listPresets(): Promise<PresetRow[]> {
    const rows = await this.driver.query(
      sql`SELECT ${columns(TABLES.presets)} FROM presets ORDER BY created_at DESC, name`,
    );
    return rows.map((row) => TABLES.presets.fromRecord(row));
  }

  async removePreset(name: string): Promise<boolean> {
    const [changed] = await this.driver.transaction([
      sql`DELETE FROM presets WHERE name = ${name}`,
    ]);
    return changed > 0;
  }

  // Sweeps ------------------------------------------------------------------------------

  async upsertSweep(row: SweepRow): Promise<void> {
    await this.driver.transaction(
      insertStatements(TABLES.sweeps, [row], onConflictReplace(TABLES.sweeps)),
    );
  }

  async getSweep(sweepId: string): Promise<SweepRow | undefined> {
    const rows = await this.driver.query(
      sql`SELECT ${columns(TABLES.sweeps)} FROM sweeps WHERE sweep_id = ${sweepId}`,
    );
    return rows.length > 0 ? TABLES.sweeps.fromRecord(rows[0]) : undefined;
  }

  async listSweeps(query: SweepListQuery): Promise<ListPage<SweepRow>> {
    checkPage(query);
    const conditions: Sql[] = [];
    if (query.strategy !== undefined) conditions.push(sql`strategy = ${query.strategy}`);
    if (query.status !== undefined) conditions.push(sql`status = ${query.status}`);
    const where = whereClause(conditions);
    const [rows, [count]] = await this.driver.queries([
      sql`SELECT ${columns(TABLES.sweeps)} FROM sweeps ${where}
          ORDER BY created_at DESC, sweep_id LIMIT ${query.limit} OFFSET ${query.offset}`,
      sql`SELECT count(*) AS total FROM sweeps ${where}`,
    ]);
    return {
      items: rows.map((row) => TABLES.sweeps.fromRecord(row)),
      total: Number(count.total),
    };
  }

  async removeSweep(sweepId: string): Promise<boolean> {
    return (await this.removeIndexed('sweeps', [sweepId])) > 0;
  }

  async counts(): Promise<CatalogueCounts> {
    const [runs, [presets], sweeps] = await this.driver.queries([
      sql`SELECT status, sum(n) AS n FROM run_counts WHERE symbol = ${''} GROUP BY status`,
      sql`SELECT count(*) AS n FROM presets`,
      sql`SELECT status, count(*) AS n FROM sweeps GROUP BY status`,
    ]);
    return {
      runs: countsByStatus(TERMINAL_STATUSES, runs),
      presets: Number(presets.n),
      sweeps: countsByStatus(SWEEP_STATUSES, sweeps),
    };
  }

  // Rebuild -----------------------------------------------------------------------------

  async fingerprints(
    kind: IndexedKind,
    keys: readonly string[],
  ): Promise<Map<string, string | null>> {
    const spec: TableSpec<unknown> = TABLES[kind];
    const found = new Map<string, string | null>();
    for (const chunk of chunks(keys, MAX_VALUES_PER_STATEMENT)) {
      const rows = await this.driver.query(
        sql`SELECT ${id(spec.indexKey)} AS k, ${id(spec.fingerprint)} AS f FROM ${id(spec.table)}
            WHERE ${id(spec.indexKey)} IN ${sqlList(chunk)}`,
      );
      for (const row of rows) found.set(String(row.k), row.f === null ? null : String(row.f));
    }
    return found;
  }

  async index<K extends IndexedKind>(
    kind: K,
    writes: readonly IndexWrite<IndexedRows[K]>[],
  ): Promise<number> {
    if (writes.length === 0) return 0;
    const spec: TableSpec<IndexedRows[K]> = TABLES[kind];
    const absent = writes.filter((write) => write.when === 'absent').map((write) => write.row);
    const statements = insertStatements(
      spec,
      absent,
      sql`ON CONFLICT (${id(spec.conflictKey)}) DO NOTHING`,
    );
    for (const write of writes) {
      if (write.when !== 'unchanged') continue;
      const onlyIfUnchanged = sql`${onConflictReplace(spec)}
        WHERE ${id(spec.table)}.${id(spec.fingerprint)} IS NOT DISTINCT FROM ${write.fingerprint}`;
      statements.push(...insertStatements(spec, [write.row], onlyIfUnchanged));
    }
    const rowStatements = statements.length;
    if (kind === 'runs') {
      statements.push(...runSymbolStatements(writes.map((write) => write.row as RunRow)));
    }
    const changes = await this.driver.transaction(statements);
    return changes.slice(0, rowStatements).reduce((sum, n) => sum + n, 0);
  }

  async removeIndexed(kind: IndexedKind, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const spec: TableSpec<unknown> = TABLES[kind];
    // run_symbols rows go with their run (ON DELETE CASCADE).
    const changes = await this.driver.transaction(
      chunks(keys, MAX_VALUES_PER_STATEMENT).map(
        (chunk) =>
          sql`DELETE FROM ${id(spec.table)} WHERE ${id(spec.indexKey)} IN ${sqlList(chunk)}`,
      ),
    );
    return changes.reduce((sum, n) => sum + n, 0);
  }

  async indexedKeys(kind: IndexedKind, after: string | null, limit: number): Promise<string[]> {
    checkCount('limit', limit, 1);
    const spec: TableSpec<unknown> = TABLES[kind];
    const key = id(spec.indexKey);
    const conditions: Sql[] = [];
    if (after !== null) conditions.push(sql`${key} > ${after}`);
    // A sweep row without a folder is not gone unless it should have one: failed and cancelled
    // sweeps never write theirs, so a rebuild must not remove their rows.
    if (kind === 'sweeps') conditions.push(sql`status IN ${sqlList(SWEEP_STATUSES_WITH_FOLDER)}`);
    const rows = await this.driver.query(
      sql`SELECT ${key} AS k FROM ${id(spec.table)} ${whereClause(conditions)} ORDER BY ${key} LIMIT ${limit}`,
    );
    return rows.map((row) => String(row.k));
  }

  async optimize(): Promise<void> {
    await this.driver.optimize();
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

/**
 * A history page and its total. Every filter is a parameter, none spliced into the text. The
 * filters apply to `f`: the runs table, or with a symbol that symbol's rows of run_symbols,
 * which carry the same filter columns (the page then joins its runs' rows).
 */
function historyStatements(query: HistoryQuery): [page: Sql, total: Sql] {
  const conditions: Sql[] = [];
  if (query.symbol !== undefined) conditions.push(sql`f.symbol = ${query.symbol}`);
  const status = query.status ?? 'completed';
  if (status !== 'all') conditions.push(sql`f.status = ${status}`);
  if (query.strategy !== undefined) conditions.push(sql`f.strategy = ${query.strategy}`);
  // Overlap: the run's range reaches into [start_date, end_date].
  if (query.start_date !== undefined) conditions.push(sql`f.end_date >= ${query.start_date}`);
  if (query.end_date !== undefined) conditions.push(sql`f.start_date <= ${query.end_date}`);
  // Containment: the run's range lies inside [date_from, date_to].
  if (query.date_from !== undefined) conditions.push(sql`f.start_date >= ${query.date_from}`);
  if (query.date_to !== undefined) conditions.push(sql`f.end_date <= ${query.date_to}`);
  // A null avg_return (no trades) compares as unknown in SQL: it never matches a bound.
  if (query.min_return !== undefined) conditions.push(sql`f.avg_return >= ${query.min_return}`);
  if (query.max_return !== undefined) conditions.push(sql`f.avg_return <= ${query.max_return}`);
  if (query.min_signals !== undefined)
    conditions.push(sql`f.total_signals >= ${query.min_signals}`);
  if (query.max_signals !== undefined)
    conditions.push(sql`f.total_signals <= ${query.max_signals}`);
  const where = whereClause(conditions);
  const [source, seq] =
    query.symbol === undefined ? [sql`runs`, sql`f.seq`] : [sql`run_symbols`, sql`f.run_seq`];
  // The page in two steps: find its rows' keys from the filter columns alone (an index walk,
  // or a sort of small index entries), then read just those rows, not every match's wide row.
  const page = sql`SELECT ${columns(TABLES.runs, 'r')} FROM runs AS r JOIN (
      SELECT ${seq} AS seq, f.finished_at, f.id FROM ${source} AS f ${where}
      ORDER BY f.finished_at DESC, f.id LIMIT ${query.limit} OFFSET ${query.offset}
    ) AS p ON r.seq = p.seq ORDER BY p.finished_at DESC, p.id`;
  return [page, historyTotal(query, source, where)];
}

/**
 * The total: from run_counts when the filters are status, strategy and symbol only (what
 * most pages ask), else a count over the filter columns' best index.
 */
function historyTotal(query: HistoryQuery, source: Sql, where: Sql): Sql {
  const ranged = RANGE_FILTERS.some((filter) => query[filter] !== undefined);
  if (ranged) return sql`SELECT count(*) AS total FROM ${source} AS f ${where}`;
  const conditions = [sql`symbol = ${query.symbol ?? ''}`];
  const status = query.status ?? 'completed';
  if (status !== 'all') conditions.push(sql`status = ${status}`);
  if (query.strategy !== undefined) conditions.push(sql`strategy = ${query.strategy}`);
  return sql`SELECT coalesce(sum(n), 0) AS total FROM run_counts ${whereClause(conditions)}`;
}

const RANGE_FILTERS = [
  'start_date',
  'end_date',
  'date_from',
  'date_to',
  'min_return',
  'max_return',
  'min_signals',
  'max_signals',
] as const satisfies readonly (keyof HistoryFilters)[];

function whereClause(conditions: readonly Sql[]): Sql {
  return conditions.length === 0 ? sql`` : sql`WHERE ${sqlJoin(conditions, ' AND ')}`;
}

function columns(spec: TableSpec<unknown>, alias?: string): Sql {
  return sqlJoin(
    spec.columns.map((column) => (alias ? sql`${id(alias)}.${id(column)}` : id(column))),
    ', ',
  );
}

function onConflictReplace(spec: TableSpec<unknown>): Sql {
  const assignments = spec.columns
    .filter((column) => column !== spec.conflictKey)
    .map((column) => sql`${id(column)} = excluded.${id(column)}`);
  return sql`ON CONFLICT (${id(spec.conflictKey)}) DO UPDATE SET ${sqlJoin(assignments, ', ')}`;
}

/** Multi-row INSERTs of the rows, each ending in `conflict`; none for no rows. */
function insertStatements<Row>(spec: TableSpec<Row>, rows: readonly Row[], conflict: Sql): Sql[] {
  const rowsPerStatement = Math.max(1, Math.floor(MAX_VALUES_PER_STATEMENT / spec.columns.length));
  return chunks(rows, rowsPerStatement).map((chunk) => {
    const tuples = chunk.map((row) => sqlList(spec.values(row)));
    return sql`INSERT INTO ${id(spec.table)} (${columns(spec)}) VALUES ${sqlJoin(tuples, ', ')} ${conflict}`;
  });
}

/** The filter columns run_symbols copies from runs (schema.ts). */
const RUN_SYMBOL_COPIES = [
  'id',
  'status',
  'strategy',
  'finished_at',
  'start_date',
  'end_date',
  'avg_return',
  'total_signals',
].map((column) => id(column));

/**
 * The run_symbols rows of these runs, made again from their runs rows as they stand after the
 * statements before (in the same transaction): whichever version of a row won, its symbol rows
 * copy it. The symbols themselves are the request's, the same in every version of a manifest.
 */
function runSymbolStatements(rows: readonly RunRow[]): Sql[] {
  const deletes = chunks(
    rows.map((row) => row.id),
    MAX_VALUES_PER_STATEMENT,
  ).map(
    (ids) =>
      sql`DELETE FROM run_symbols WHERE run_seq IN (SELECT seq FROM runs WHERE id IN ${sqlList(ids)})`,
  );
  const pairs = rows.flatMap((row) => row.symbols.map((symbol): SqlValue[] => [row.id, symbol]));
  const copied = sqlJoin(RUN_SYMBOL_COPIES, ', ');
  const fromRun = sqlJoin(
    RUN_SYMBOL_COPIES.map((column) => sql`r.${column}`),
    ', ',
  );
  const inserts = chunks(pairs, MAX_VALUES_PER_STATEMENT / 2).map(
    // WHERE true: SQLite's parser needs it between a join's ON and the upsert's ON CONFLICT.
    (chunk) => sql`WITH v (id, symbol) AS (VALUES ${sqlJoin(chunk.map(sqlList), ', ')})
      INSERT INTO run_symbols (symbol, run_seq, ${copied})
      SELECT v.symbol, r.seq, ${fromRun} FROM v JOIN runs AS r ON r.id = v.id WHERE true
      ON CONFLICT DO NOTHING`,
  );
  return [...deletes, ...inserts];
}

function countsByStatus<S extends string>(
  statuses: readonly S[],
  rows: SqlRecord[],
): Record<S, number> {
  const counts = Object.fromEntries(statuses.map((status) => [status, 0])) as Record<S, number>;
  for (const row of rows) {
    const status = String(row.status) as S;
    if (status in counts) counts[status] = Number(row.n);
  }
  return counts;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    result.push(items.slice(start, start + size));
  return result;
}

function checkPage(page: PageRequest): void {
  checkCount('limit', page.limit, 1);
  checkCount('offset', page.offset, 0);
}

/** Paging comes validated from the edge; a wrong value here is a caller's bug. */
function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
}
