import { ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRunManifests } from './bench/run-folders';
import { Catalogue } from './catalogue';
import { SqlDriver } from './driver';
import { openCatalogue } from './open-catalogue';
import { runRowFromManifest, RunRow } from './rows';
import { Sql, SQLITE_DIALECT, SqlStatement } from './sql';
import { SqlCatalogue } from './sql-catalogue';
import { useBackend } from './testing/backends';

// Real databases and files, on a machine others share: seconds, not the default 5.
jest.setTimeout(60_000);
const NOW = new Date('2026-12-10T12:00:00.000Z');
const EXECUTOR = join(__dirname, 'sqlite-executor.ts');

const rows = (count: number, seed: number): RunRow[] =>
  [...generateRunManifests(count, { seed, now: NOW })].map((m) => runRowFromManifest(m));

/**
 * The statements the catalogue sends for each upsert, caught on their way to the database:
 * so another process can send exactly those.
 */
async function upsertStatements(runs: RunRow[]): Promise<SqlStatement[][]> {
  const batches: SqlStatement[][] = [];
  const recorder: SqlDriver = {
    dialect: SQLITE_DIALECT,
    migrate: () => Promise.resolve(1),
    query: () => Promise.resolve([]),
    queries: () => Promise.resolve([]),
    transaction: (statements: readonly Sql[]) => {
      batches.push(statements.map((s) => s.render(SQLITE_DIALECT)));
      return Promise.resolve(statements.map(() => 1));
    },
    optimize: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const catalogue = new SqlCatalogue(recorder, 1);
  for (const run of runs) await catalogue.upsertRun(run);
  return batches;
}

/** Another Node process, running `code` (CommonJS) with `args`; resolves with its output. */
function nodeProcess(code: string, args: string[]): { child: ChildProcess; done: Promise<string> } {
  const child = spawn(
    process.execPath,
    ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', '-e', code, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stderr}`)),
    );
  });
  return { child, done };
}

function printed(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
  });
}

/** Runs the given transactions through the catalogue's own executor, in its own process. */
const WRITER_PROCESS = `
  const { readFileSync } = require('node:fs');
  const [executor, database, batchesFile] = process.argv.slice(1);
  const { SqliteExecutor } = require(executor);
  const batches = JSON.parse(readFileSync(batchesFile, 'utf8'));
  const sqlite = new SqliteExecutor(database, {
    busyTimeoutMs: 20,
    busyGiveUpMs: 60000,
    readCacheEntries: 0,
  });
  process.stdout.write('ready\\n');
  for (const batch of batches) sqlite.transaction(batch);
  sqlite.close();
  process.stdout.write('wrote ' + batches.length + '\\n');
`;

/** Holds the database's write lock for a while, as a long write of another process would. */
const LOCK_HOLDER_PROCESS = `
  const { DatabaseSync } = require('node:sqlite');
  const [database, holdMs] = process.argv.slice(1);
  const db = new DatabaseSync(database);
  db.exec('BEGIN IMMEDIATE');
  process.stdout.write('locked\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
  db.exec('COMMIT');
  db.close();
`;

async function allIds(catalogue: Catalogue): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await catalogue.history({ status: 'all', limit: 100, offset });
    ids.push(...page.items.map((row) => row.id));
    if (page.items.length < 100) return ids.sort();
  }
}

describe('catalogue on sqlite, shared by several processes', () => {
  const backend = useBackend('sqlite');

  it('loses no write of either of two processes writing at once, and surfaces no SQLITE_BUSY', async () => {
    // A short busy timeout, so the retries past it are exercised too.
    const options = { ...(await backend.freshOptions()), busyTimeoutMs: 20 };
    const catalogue = await openCatalogue(options);
    const mine = rows(600, 31);
    const theirs = rows(600, 32);
    const batchesFile = join(backend.scratchDir(), 'batches.json');
    await writeFile(batchesFile, JSON.stringify(await upsertStatements(theirs)));

    const everything = { status: 'all' as const, limit: 1, offset: 0 };
    expect((await catalogue.history(everything)).total).toBe(0);
    const other = nodeProcess(WRITER_PROCESS, [EXECUTOR, options.catalogPath, batchesFile]);
    await printed(other.child, 'ready');
    for (const [index, run] of mine.entries()) {
      await catalogue.upsertRun(run);
      if (index % 50 === 0)
        await catalogue.history({ symbol: run.symbols[0], limit: 5, offset: 0 });
    }
    expect(await other.done).toContain('wrote 600');

    // The answers this process had cached are not served once the other process has written.
    const expected = [...mine, ...theirs].map((run) => run.id).sort();
    expect((await catalogue.history(everything)).total).toBe(expected.length);
    expect(await allIds(catalogue)).toEqual(expected);
    for (const symbol of ['BTC_KRW', 'ETH_BTC']) {
      const page = await catalogue.history({ status: 'all', symbol, limit: 1, offset: 0 });
      expect(page.total).toBe(
        [...mine, ...theirs].filter((r) => r.symbols.includes(symbol)).length,
      );
    }
    await catalogue.close();
  });

  it("waits out another process's long write lock off the event loop", async () => {
    const options = { ...(await backend.freshOptions()), busyTimeoutMs: 100 };
    const catalogue = await openCatalogue(options);
    const holder = nodeProcess(LOCK_HOLDER_PROCESS, [options.catalogPath, '1500']);
    await printed(holder.child, 'locked');

    let last = performance.now();
    let longestPause = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestPause = Math.max(longestPause, now - last);
      last = now;
    }, 10);
    const started = performance.now();
    const [run] = rows(1, 33);
    await catalogue.upsertRun(run);
    const waited = performance.now() - started;
    clearInterval(ticker);
    // The pause up to now counts too: a blocked loop runs no tick until it is free again.
    longestPause = Math.max(longestPause, performance.now() - last);
    await holder.done;

    expect(waited).toBeGreaterThan(1000); // it did wait for the lock, past its busy timeout
    expect(longestPause).toBeLessThan(250); // while the event loop went on
    expect((await catalogue.getRun(run.id))?.id).toBe(run.id);
    await catalogue.close();
  });
});

describe('catalogue on postgres, shared by several processes', () => {
  const backend = useBackend('postgres');

  it('loses no write of two catalogues writing at once, some rows written by both', async () => {
    const options = await backend.freshOptions();
    const [one, two] = await Promise.all([openCatalogue(options), openCatalogue(options)]);
    const shared = rows(100, 41);
    const mine = [...rows(300, 42), ...shared];
    const theirs = [
      ...rows(300, 43),
      ...shared.map((run) => ({ ...run, status: 'failed' as const })),
    ];
    await Promise.all([
      (async () => {
        for (const run of mine) await one.upsertRun(run);
      })(),
      (async () => {
        for (const run of theirs) await two.upsertRun(run);
      })(),
      one.index(
        'runs',
        shared.map((row) => ({ row, when: 'absent' as const })),
      ),
    ]);
    const expected = [...new Set([...mine, ...theirs].map((run) => run.id))].sort();
    expect(await allIds(two)).toEqual(expected);
    const sharedRow = await one.getRun(shared[0].id);
    expect(['completed', 'failed', 'cancelled']).toContain(sharedRow?.status);
    await Promise.all([one.close(), two.close()]);
  }, 30_000);
});
