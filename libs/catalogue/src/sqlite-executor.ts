/**
 * Runs SQL on one `node:sqlite` connection, synchronously: in the caller's thread (a CLI, a
 * backtest thread), or as the body of the catalogue's own worker thread, so that the API's
 * event loop never waits for SQLite (see sqlite-driver.ts).
 *
 * This file imports nothing but Node's own modules and uses only TypeScript that erases to
 * JavaScript: Node runs it as it is in a worker thread when the sources run (tests), and as
 * compiled JavaScript from dist/. Keep it that way.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { MigrationPlan } from './schema';
import type { SqlStatement, SqlValue } from './sql';

export interface SqliteExecutorOptions {
  /**
   * How long a statement waits for another connection's write lock (SQLite's busy timeout).
   * Past it the whole transaction is retried, until `busyGiveUpMs`.
   */
  busyTimeoutMs: number;
  busyGiveUpMs: number;
  /**
   * Results of `queries` kept until the database changes (0: none). Paging through one
   * filter, or a client polling the history, repeats the same total; with 100,000 runs a
   * total is a count over tens of thousands of index entries, its cached answer one check.
   */
  readCacheEntries: number;
}

export type SqliteRecord = Record<string, SqlValue>;

/** Prepared statements kept per connection (the catalogue's queries are a few dozen). */
const STATEMENT_CACHE_SIZE = 128;
const CACHED_STATEMENT_MAX_VALUES = 64;
const CACHE_KIB = 32 * 1024;
const ANALYSIS_ROWS = 20_000;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

export class SqliteExecutor {
  private readonly db: DatabaseSync;
  private readonly options: SqliteExecutorOptions;
  private readonly statements = new Map<string, StatementSync>();
  private readonly readCache = new Map<string, SqliteRecord[][]>();
  /** The database version the cached reads belong to (see databaseVersion). */
  private readCacheVersion = '';
  private ownCommits = 0;

  constructor(path: string, options: SqliteExecutorOptions) {
    this.options = options;
    this.db = new DatabaseSync(path, {
      timeout: options.busyTimeoutMs,
      enableForeignKeyConstraints: true,
    });
    this.whileBusy(() => {
      // WAL: readers never wait for the writer, and the API, the workers and the CLI each
      // hold a connection. The mode is stored in the file; setting it again is a no-op.
      this.db.exec('PRAGMA journal_mode = WAL');
    });
    // In WAL mode, NORMAL syncs at checkpoints only: a power cut may lose the last commits but
    // never corrupts the file, and the catalogue is rebuilt from the folders anyway.
    this.db.exec('PRAGMA synchronous = NORMAL');
    // SQLite's default page cache is 2 MB: with 100,000 runs the indexes are ~100 MB, and
    // inserts at random keys (UUIDs) or a count over an index would go to the OS for nearly
    // every page. A fixed size, so the process's memory does not follow the number of runs
    // (memory-mapped reads would: 1.1 GB of resident pages for three connections).
    this.db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
    // The planner picks among several indexes by their statistics: keep them current, cheaply
    // (ANALYZE samples this many rows per index; 1,000 misjudged a status as 1 row in 100).
    this.db.exec(`PRAGMA analysis_limit = ${ANALYSIS_ROWS}`);
    this.whileBusy(() => this.db.exec('PRAGMA optimize = 0x10002'));
  }

  query(statement: SqlStatement): SqliteRecord[] {
    return this.whileBusy(() => this.all(statement));
  }

  /** Several reads from one snapshot: nothing committed between them shows in one and not another. */
  queries(statements: readonly SqlStatement[]): SqliteRecord[][] {
    return this.whileBusy(() => {
      this.db.exec('BEGIN');
      try {
        return this.cachedRead(statements, () => statements.map((s) => this.all(s)));
      } finally {
        this.db.exec('COMMIT');
      }
    });
  }

  /** Refreshes the planner's statistics (after a rebuild's many writes). */
  optimize(): void {
    this.whileBusy(() => this.db.exec('PRAGMA optimize'));
  }

  /** Runs the statements in one write transaction; returns the rows each one changed. */
  transaction(statements: readonly SqlStatement[]): number[] {
    return this.whileBusy(() => this.inWriteTransaction(() => statements.map((s) => this.run(s))));
  }

  /**
   * Brings the file to the newest schema. BEGIN IMMEDIATE takes the write lock first, so of
   * several processes starting at once one migrates and the others wait, then find nothing
   * left to do. Returns the schema version.
   */
  migrate(plan: MigrationPlan): number {
    return this.whileBusy(() =>
      this.inWriteTransaction(() => {
        this.db.exec(plan.bootstrap);
        const applied = new Set(
          this.db
            .prepare(plan.selectApplied)
            .all()
            .map((row) => Number(row.version)),
        );
        for (const migration of plan.migrations) {
          if (applied.has(migration.version)) continue;
          for (const statement of migration.statements) this.db.exec(statement);
          this.db
            .prepare(plan.recordApplied)
            .run(migration.version, migration.name, new Date().toISOString());
          applied.add(migration.version);
        }
        return Math.max(0, ...applied);
      }),
    );
  }

  close(): void {
    this.statements.clear();
    if (!this.db.isOpen) return;
    try {
      // Keeps the planner's statistics current, as SQLite advises before closing.
      this.db.exec('PRAGMA optimize');
    } catch {
      // Another connection holds the lock: the statistics wait for the next close.
    }
    this.db.close();
  }

  private cachedRead(
    statements: readonly SqlStatement[],
    read: () => SqliteRecord[][],
  ): SqliteRecord[][] {
    const limit = this.options.readCacheEntries;
    if (limit <= 0) return read();
    const version = this.databaseVersion();
    if (version !== this.readCacheVersion) {
      this.readCache.clear();
      this.readCacheVersion = version;
    }
    const key = JSON.stringify(statements);
    const cached = this.readCache.get(key);
    if (cached) {
      // Most recently used last: the first entry is the one to drop.
      this.readCache.delete(key);
      this.readCache.set(key, cached);
      return cached;
    }
    const result = read();
    if (this.readCache.size >= limit) {
      const oldest = this.readCache.keys().next().value;
      if (oldest !== undefined) this.readCache.delete(oldest);
    }
    this.readCache.set(key, result);
    return result;
  }

  /**
   * Changes whenever the database does: SQLite's data_version moves when another connection
   * (of any process) commits, and this connection counts its own commits.
   */
  private databaseVersion(): string {
    const { data_version: other } = this.prepared('PRAGMA data_version').get() as {
      data_version: number;
    };
    return `${other}:${this.ownCommits}`;
  }

  private all(statement: SqlStatement): SqliteRecord[] {
    return this.withStatement(statement, (s) => s.all(...statement.values) as SqliteRecord[]);
  }

  private run(statement: SqlStatement): number {
    return this.withStatement(statement, (s) => Number(s.run(...statement.values).changes));
  }

  /**
   * The catalogue's queries are few and small: prepared once, kept. A batch write (hundreds
   * of values, its text varying with the batch) is prepared, run once and released at once:
   * kept, 256 of them held hundreds of MB.
   */
  private withStatement<T>(statement: SqlStatement, use: (prepared: StatementSync) => T): T {
    if (statement.values.length <= CACHED_STATEMENT_MAX_VALUES)
      return use(this.prepared(statement.text));
    const prepared = this.db.prepare(statement.text);
    try {
      return use(prepared);
    } finally {
      // Node 24 statements can be released before the garbage collector comes round.
      (prepared as { [Symbol.dispose]?: () => void })[Symbol.dispose]?.();
    }
  }

  private inWriteTransaction<T>(work: () => T): T {
    // IMMEDIATE: take the write lock before reading. A deferred transaction that reads and
    // then writes fails with SQLITE_BUSY at once in WAL mode when another connection wrote
    // meanwhile, without waiting out the busy timeout.
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      this.ownCommits++;
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private prepared(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (statement) return statement;
    statement = this.db.prepare(text);
    if (this.statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next().value;
      if (oldest !== undefined) this.statements.delete(oldest);
    }
    this.statements.set(text, statement);
    return statement;
  }

  /**
   * SQLite's busy timeout covers most waits; a writer can still be starved past it under
   * heavy contention, so the whole unit is retried with a growing pause until `busyGiveUpMs`.
   */
  private whileBusy<T>(work: () => T): T {
    const giveUpAt = Date.now() + this.options.busyGiveUpMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return work();
      } catch (error) {
        if (!isBusy(error) || Date.now() >= giveUpAt) throw error;
        sleepSync(Math.min(5 * 2 ** attempt, 200));
      }
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && [SQLITE_BUSY, SQLITE_LOCKED].includes(code & 0xff);
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

// ---- The worker thread ----------------------------------------------------------------

/** Marks the catalogue's thread, so the file does nothing when another thread imports it. */
export const SQLITE_THREAD_ROLE = 'catalogue-sqlite';

export type ThreadRequest =
  | { id: number; op: 'open'; path: string; options: SqliteExecutorOptions }
  | { id: number; op: 'query'; statement: SqlStatement }
  | { id: number; op: 'queries'; statements: SqlStatement[] }
  | { id: number; op: 'transaction'; statements: SqlStatement[] }
  | { id: number; op: 'migrate'; plan: MigrationPlan }
  | { id: number; op: 'optimize' }
  | { id: number; op: 'close' };

export interface ThreadError {
  name: string;
  message: string;
  code?: string;
  errcode?: number;
}

export type ThreadResponse =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ThreadError };

function serveThread(): void {
  const port = parentPort;
  if (!port) return;
  let executor: SqliteExecutor | undefined;
  const handle = (request: ThreadRequest): unknown => {
    if (request.op === 'open') {
      executor = new SqliteExecutor(request.path, request.options);
      return null;
    }
    if (!executor) throw new Error('The catalogue thread has no open database');
    switch (request.op) {
      case 'query':
        return executor.query(request.statement);
      case 'queries':
        return executor.queries(request.statements);
      case 'transaction':
        return executor.transaction(request.statements);
      case 'migrate':
        return executor.migrate(request.plan);
      case 'optimize':
        executor.optimize();
        return null;
      case 'close':
        executor.close();
        executor = undefined;
        return null;
    }
  };
  port.on('message', (request: ThreadRequest) => {
    let response: ThreadResponse;
    try {
      response = { id: request.id, ok: true, result: handle(request) };
    } catch (error) {
      const { name, message, code, errcode } = error as Error & ThreadError;
      response = { id: request.id, ok: false, error: { name, message, code, errcode } };
    }
    port.postMessage(response);
  });
}

if ((workerData as { role?: unknown } | null)?.role === SQLITE_THREAD_ROLE) serveThread();
