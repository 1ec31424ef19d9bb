import { Pool, PoolClient, types } from 'pg';
import { SqlDriver, SqlRecord } from './driver';
import { MigrationPlan } from './schema';
import { POSTGRES_DIALECT, Sql } from './sql';

export interface PostgresDriverOptions {
  /** Connections per process (the API's readers, a rebuild's writes). */
  poolSize: number;
}

/** Any number: the catalogue's advisory lock, held by the one process migrating. */
const MIGRATION_LOCK_KEY = 7_301_100_001;
/** deadlock_detected, serialization_failure: the transaction did nothing and may run again. */
const RETRYABLE_CODES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;
const INT8_OID = 20;

export function openPostgresDriver(url: string, options: PostgresDriverOptions): SqlDriver {
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize,
    // count(*) and bigint columns come as numbers, for this pool only (not pg's global
    // parsers, which other code in the process may rely on). Catalogue figures stay far below
    // 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : (types.getTypeParser(oid, format) as (
              value: string,
            ) => unknown)) as typeof types.getTypeParser,
    },
  });
  // An idle connection that breaks (a server restart) is reported here; without a listener
  // it would end the process. The next query takes a fresh connection and reports any fault.
  pool.on('error', () => undefined);
  return new PostgresDriver(pool);
}

class PostgresDriver implements SqlDriver {
  readonly dialect = POSTGRES_DIALECT;

  constructor(private readonly pool: Pool) {}

  async migrate(plan: MigrationPlan): Promise<number> {
    return this.inTransaction(async (client) => {
      // Several processes start at once: one migrates, the others wait here, then find
      // nothing left to do. The lock goes with the transaction.
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await client.query(plan.bootstrap);
      const applied = new Set(
        (await client.query<{ version: number }>(plan.selectApplied)).rows.map((row) =>
          Number(row.version),
        ),
      );
      for (const migration of plan.migrations) {
        if (applied.has(migration.version)) continue;
        for (const statement of migration.statements) await client.query(statement);
        await client.query(plan.recordApplied, [
          migration.version,
          migration.name,
          new Date().toISOString(),
        ]);
        applied.add(migration.version);
      }
      return Math.max(0, ...applied);
    });
  }

  async query(statement: Sql): Promise<SqlRecord[]> {
    const { text, values } = statement.render(POSTGRES_DIALECT);
    return (await this.pool.query<SqlRecord>(text, values)).rows;
  }

  async queries(statements: readonly Sql[]): Promise<SqlRecord[][]> {
    return Promise.all(statements.map((statement) => this.query(statement)));
  }

  async transaction(statements: readonly Sql[]): Promise<number[]> {
    const rendered = statements.map((s) => s.render(POSTGRES_DIALECT));
    return this.inTransaction(async (client) => {
      const changes: number[] = [];
      for (const { text, values } of rendered) {
        changes.push((await client.query(text, values)).rowCount ?? 0);
      }
      return changes;
    });
  }

  async optimize(): Promise<void> {
    // VACUUM too: PostgreSQL counts from an index alone only for pages it knows to be
    // all-visible. Neither runs inside a transaction.
    await this.pool.query('VACUUM (ANALYZE) runs, run_symbols');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const code = (error as { code?: unknown }).code;
        if (attempt >= MAX_ATTEMPTS || !RETRYABLE_CODES.has(code as string)) throw error;
      } finally {
        client.release();
      }
    }
  }
}
