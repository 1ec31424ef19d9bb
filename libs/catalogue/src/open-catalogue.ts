import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Catalogue } from './catalogue';
import { SqlDriver } from './driver';
import { migrationPlan } from './schema';
import { SqlCatalogue } from './sql-catalogue';
import { openSqliteDriver, SqliteMode } from './sqlite-driver';

export interface OpenCatalogueOptions {
  /** The SQLite file (CATALOG_PATH, default $RESULTS_DIR/catalog.sqlite). */
  catalogPath: string;
  /** DATABASE_URL: with a postgres:// (or postgresql://) URL the catalogue is PostgreSQL. */
  databaseUrl?: string;
  /** SQLite: where the connection runs (default `thread`, see SqliteMode). */
  sqliteMode?: SqliteMode;
  /** SQLite: how long a statement waits for another process's write lock (default 5 s). */
  busyTimeoutMs?: number;
  /** SQLite: how long a unit of work keeps retrying past that before it fails (default 30 s). */
  busyGiveUpMs?: number;
  /**
   * SQLite, thread mode: reader threads beside the writer thread (default 2: a history total
   * is CPU work, and two run side by side on two cores).
   */
  sqliteReaders?: number;
  /** SQLite: history answers kept until the database changes (default 128; 0: none). */
  readCacheEntries?: number;
  /** PostgreSQL: connections per process (default 10). */
  poolSize?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
export const DEFAULT_BUSY_GIVE_UP_MS = 30_000;
export const DEFAULT_POSTGRES_POOL_SIZE = 10;
export const DEFAULT_READ_CACHE_ENTRIES = 128;
export const DEFAULT_SQLITE_READERS = 2;

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Opens the catalogue the configuration names (PostgreSQL when `databaseUrl` is set, else
 * the SQLite file) and migrates it to the newest schema before returning.
 */
export async function openCatalogue(options: OpenCatalogueOptions): Promise<Catalogue> {
  const driver = await openDriver(options);
  try {
    const version = await driver.migrate(migrationPlan(driver.dialect.name));
    return new SqlCatalogue(driver, version);
  } catch (error) {
    await driver.close().catch(() => undefined);
    throw error;
  }
}

async function openDriver(options: OpenCatalogueOptions): Promise<SqlDriver> {
  const { databaseUrl } = options;
  if (databaseUrl !== undefined && databaseUrl !== '') {
    if (!POSTGRES_URL.test(databaseUrl))
      throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
    // Loaded only here: pg is ~30 modules (~20 ms) every SQLite process (a CLI run) would load.
    const { openPostgresDriver } = await import('./postgres-driver.js');
    return openPostgresDriver(databaseUrl, {
      poolSize: options.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE,
    });
  }
  await mkdir(dirname(options.catalogPath), { recursive: true });
  return openSqliteDriver(
    options.catalogPath,
    options.sqliteMode ?? 'thread',
    {
      busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
      busyGiveUpMs: options.busyGiveUpMs ?? DEFAULT_BUSY_GIVE_UP_MS,
      readCacheEntries: options.readCacheEntries ?? DEFAULT_READ_CACHE_ENTRIES,
    },
    options.sqliteReaders ?? DEFAULT_SQLITE_READERS,
  );
}
