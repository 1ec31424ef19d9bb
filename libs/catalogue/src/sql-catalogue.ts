import { ConflictError } from '@app/common';
import { FINAL_STATUSES } from '@app/storage';
import {
  Catalogue,
  CatalogueCounts,
  CleanupCandidate,
  CleanupSelection,
  HistoryQuery,
  IndexedKind,
  IndexedRows,
  IndexWrite,
  ListPage,
  PageRequest,
  SweepListQuery,
} from './catalogue';
import { SqlDriver, SqlRecord } from './driver';
import { FINAL_SWEEP_STATUSES, PresetRow, RunRow, SWEEP_STATUSES, SweepRow } from './rows';
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
    const runs = TABLES.runs;
    // A run's symbols are those of its request, the same in every version of its manifest;
    // the writer's row still drops any the new row lacks, so the index follows the folder.
    const keepSymbols =
      row.symbols.length > 0 ? sql` AND symbol NOT IN ${sqlList(row.symbols)}` : sql``;
    await this.driver.transaction([
      ...insertStatements(runs, [row], onConflictReplace(runs)),
      sql`DELETE FROM run_symbols WHERE run_seq = (SELECT seq FROM runs WHERE id = ${row.id})${keepSymbols}`,
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
    const { from, where } = historyFilter(query);
    const [rows, [count]] = await this.driver.queries([
      sql`SELECT ${columns(TABLES.runs, 'r')} FROM ${from} ${where}
          ORDER BY r.finished_at DESC, r.id LIMIT ${query.limit} OFFSET ${query.offset}`,
      sql`SELECT count(*) AS total FROM ${from} ${where}`,
    ]);
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
      sql`SELECT status, count(*) AS n FROM runs GROUP BY status`,
      sql`SELECT count(*) AS n FROM presets`,
      sql`SELECT status, count(*) AS n FROM sweeps GROUP BY status`,
    ]);
    return {
      runs: countsByStatus(FINAL_STATUSES, runs),
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
      // Insert-only and idempotent: the symbols are the same whichever version wins.
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
    if (kind === 'sweeps') conditions.push(sql`status IN ${sqlList(FINAL_SWEEP_STATUSES)}`);
    const rows = await this.driver.query(
      sql`SELECT ${key} AS k FROM ${id(spec.table)} ${whereClause(conditions)} ORDER BY ${key} LIMIT ${limit}`,
    );
    return rows.map((row) => String(row.k));
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

/** FROM and WHERE of a history query: every filter a parameter, none spliced into the text. */
function historyFilter(query: HistoryQuery): { from: Sql; where: Sql } {
  const conditions: Sql[] = [];
  const status = query.status ?? 'completed';
  if (status !== 'all') conditions.push(sql`r.status = ${status}`);
  if (query.strategy !== undefined) conditions.push(sql`r.strategy = ${query.strategy}`);
  // Overlap: the run's range reaches into [start_date, end_date].
  if (query.start_date !== undefined) conditions.push(sql`r.end_date >= ${query.start_date}`);
  if (query.end_date !== undefined) conditions.push(sql`r.start_date <= ${query.end_date}`);
  // Containment: the run's range lies inside [date_from, date_to].
  if (query.date_from !== undefined) conditions.push(sql`r.start_date >= ${query.date_from}`);
  if (query.date_to !== undefined) conditions.push(sql`r.end_date <= ${query.date_to}`);
  // A null avg_return (no trades) compares as unknown in SQL: it never matches a bound.
  if (query.min_return !== undefined) conditions.push(sql`r.avg_return >= ${query.min_return}`);
  if (query.max_return !== undefined) conditions.push(sql`r.avg_return <= ${query.max_return}`);
  if (query.min_signals !== undefined)
    conditions.push(sql`r.total_signals >= ${query.min_signals}`);
  if (query.max_signals !== undefined)
    conditions.push(sql`r.total_signals <= ${query.max_signals}`);
  const from =
    query.symbol === undefined
      ? sql`runs AS r`
      : sql`runs AS r JOIN run_symbols AS s ON s.run_seq = r.seq AND s.symbol = ${query.symbol}`;
  return { from, where: whereClause(conditions) };
}

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

/** The run_symbols rows of the runs (whose rows are written first, in the same transaction). */
function runSymbolStatements(rows: readonly RunRow[]): Sql[] {
  const pairs = rows.flatMap((row) => row.symbols.map((symbol): SqlValue[] => [row.id, symbol]));
  return chunks(pairs, MAX_VALUES_PER_STATEMENT / 2).map(
    // WHERE true: SQLite's parser needs it between a join's ON and the upsert's ON CONFLICT.
    (chunk) => sql`WITH v (id, symbol) AS (VALUES ${sqlJoin(chunk.map(sqlList), ', ')})
      INSERT INTO run_symbols (symbol, run_seq)
      SELECT v.symbol, r.seq FROM v JOIN runs AS r ON r.id = v.id WHERE true
      ON CONFLICT DO NOTHING`,
  );
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
