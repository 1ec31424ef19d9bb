import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { Client } from 'pg';
import { OpenCatalogueOptions } from '../open-catalogue';

/**
 * The backends every catalogue spec runs against, for real: a SQLite file in a temp folder
 * (its connection in a thread, as the API has it, or inline, as the CLI has it) and
 * PostgreSQL. PostgreSQL tests get a private database per spec file, with a random name,
 * dropped at the end; each test a schema of its own in it.
 */
export const BACKENDS = ['sqlite', 'sqlite-inline', 'postgres'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** The server the PostgreSQL specs use (only ever to create and drop their own database). */
export const TEST_POSTGRES_URL =
  process.env.CATALOGUE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BackendUnderTest {
  /** Options opening a new, empty catalogue (a new file, or a new PostgreSQL schema). */
  freshOptions(): Promise<OpenCatalogueOptions>;
  /** A scratch folder for this spec file, removed at the end. */
  scratchDir(): string;
}

/** Sets up the backend for the enclosing describe block (beforeAll / afterAll). */
export function useBackend(name: BackendName): BackendUnderTest {
  let scratch = '';
  let database: string | undefined;
  let count = 0;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'catalogue-spec-'));
    if (name === 'postgres') {
      database = `catalogue_test_${randomBytes(6).toString('hex')}`;
      await withAdmin((admin) => admin.query(`CREATE DATABASE ${database}`));
    }
  });

  afterAll(async () => {
    if (database !== undefined) {
      const name = database;
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    }
    await rm(scratch, { recursive: true, force: true });
  });

  return {
    scratchDir: () => scratch,
    async freshOptions() {
      count++;
      const catalogPath = join(scratch, `catalogue-${count}`, 'catalog.sqlite');
      if (name === 'sqlite') return { catalogPath, sqliteMode: 'thread' };
      if (name === 'sqlite-inline') return { catalogPath, sqliteMode: 'inline' };
      const schema = `spec_${count}`;
      const url = databaseUrl(database!);
      await withClient(url, (client) => client.query(`CREATE SCHEMA ${schema}`));
      // Every connection of the catalogue's pool works in the test's own schema.
      url.searchParams.set('options', `-c search_path=${schema}`);
      return { catalogPath, databaseUrl: url.toString() };
    },
  };
}

/** The versions recorded in the catalogue's schema_version table, read past the catalogue. */
export async function appliedMigrations(options: OpenCatalogueOptions): Promise<number[]> {
  const select = 'SELECT version FROM schema_version ORDER BY version';
  if (options.databaseUrl === undefined) {
    const db = new DatabaseSync(options.catalogPath, { readOnly: true });
    try {
      return db
        .prepare(select)
        .all()
        .map((row) => Number(row.version));
    } finally {
      db.close();
    }
  }
  return withClient(new URL(options.databaseUrl), async (client) =>
    (await client.query<{ version: string }>(select)).rows.map((row) => Number(row.version)),
  );
}

function databaseUrl(database: string): URL {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${database}`;
  return url;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(new URL(TEST_POSTGRES_URL), work);
}

async function withClient<T>(url: URL, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url.toString() });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `The PostgreSQL specs need a server at ${TEST_POSTGRES_URL} (set CATALOGUE_TEST_POSTGRES_URL): ${String(error)}`,
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
