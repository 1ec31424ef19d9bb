import { MigrationPlan } from './schema';
import { Dialect, Sql, SqlValue } from './sql';

export type SqlRecord = Record<string, SqlValue>;

/**
 * What the catalogue needs of a database, and all it needs: the queries are written once
 * (sql-catalogue.ts) over this, and each backend is a driver. Writes are whole transactions
 * handed over at once, never a transaction left open across awaits: a SQLite connection lives
 * in its own thread, and nothing else can slip into the middle of a unit of work.
 */
export interface SqlDriver {
  readonly dialect: Dialect;
  /** Applies the migrations not yet applied, under the backend's lock; the schema version. */
  migrate(plan: MigrationPlan): Promise<number>;
  query(statement: Sql): Promise<SqlRecord[]>;
  /**
   * Several reads at once: SQLite answers them from one snapshot (a page and its total
   * agree), PostgreSQL runs them side by side on two connections (it is the faster there).
   */
  queries(statements: readonly Sql[]): Promise<SqlRecord[][]>;
  /** The statements in one write transaction; the number of rows each one changed. */
  transaction(statements: readonly Sql[]): Promise<number[]>;
  /** Refreshes the planner's statistics after many writes (a rebuild). */
  optimize(): Promise<void>;
  close(): Promise<void>;
}
