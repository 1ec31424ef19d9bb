import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlDriver, SqlRecord } from './driver';
import { MigrationPlan } from './schema';
import { Sql, SQLITE_DIALECT } from './sql';
import {
  SQLITE_THREAD_ROLE,
  SqliteExecutor,
  SqliteExecutorOptions,
  ThreadError,
  ThreadRequest,
  ThreadResponse,
} from './sqlite-executor';

/**
 * Where the SQLite connection runs.
 * - `thread`: in a worker thread of its own. `node:sqlite` is synchronous: a filtered count
 *   over 100,000 rows, or a wait for another process's write lock, would stop every request
 *   of the API's event loop meanwhile. The thread keeps them apart (docs/decisions/catalogue.md).
 * - `inline`: in the caller's thread, for callers with nothing else to serve (the CLI, a
 *   backtest thread writing the row of the folder it has just written).
 */
export type SqliteMode = 'thread' | 'inline';

export async function openSqliteDriver(
  path: string,
  mode: SqliteMode,
  options: SqliteExecutorOptions,
  readers: number,
): Promise<SqlDriver> {
  if (mode === 'inline') return new SqliteInlineDriver(new SqliteExecutor(path, options));
  return SqliteThreadDriver.open(path, options, readers);
}

class SqliteInlineDriver implements SqlDriver {
  readonly dialect = SQLITE_DIALECT;

  constructor(private readonly executor: SqliteExecutor) {}

  migrate(plan: MigrationPlan): Promise<number> {
    return settled(() => this.executor.migrate(plan));
  }

  query(statement: Sql): Promise<SqlRecord[]> {
    return settled(() => this.executor.query(statement.render(SQLITE_DIALECT)));
  }

  queries(statements: readonly Sql[]): Promise<SqlRecord[][]> {
    return settled(() => this.executor.queries(statements.map((s) => s.render(SQLITE_DIALECT))));
  }

  transaction(statements: readonly Sql[]): Promise<number[]> {
    return settled(() =>
      this.executor.transaction(statements.map((s) => s.render(SQLITE_DIALECT))),
    );
  }

  optimize(): Promise<void> {
    return settled(() => this.executor.optimize());
  }

  close(): Promise<void> {
    return settled(() => this.executor.close());
  }
}

/** A synchronous call as a promise: a throw becomes a rejection, as from the thread. */
function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * The compiled thread file in dist/, or, when the sources run (tests), the TypeScript file
 * itself: Node strips its types (it is written to allow that, see sqlite-executor.ts).
 */
function threadFile(): { filename: string; execArgv: string[] } {
  const compiled = join(__dirname, 'sqlite-executor.js');
  if (existsSync(compiled)) return { filename: compiled, execArgv: process.execArgv };
  return {
    filename: join(__dirname, 'sqlite-executor.ts'),
    // Node reads the file's `import`s as an ES module, and says so on every start; it is.
    execArgv: [...process.execArgv, '--disable-warning=MODULE_TYPELESS_PACKAGE_JSON'],
  };
}

type RequestBody = ThreadRequest extends infer R
  ? R extends ThreadRequest
    ? Omit<R, 'id'>
    : never
  : never;

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The thread driver: one thread writes (transactions, migrations), `readers` threads read,
 * each with its own connection. WAL lets the readers run side by side with each other and
 * with the writer; a read sent after a write has resolved sees it (its read transaction
 * starts after the commit).
 */
class SqliteThreadDriver implements SqlDriver {
  readonly dialect = SQLITE_DIALECT;

  static async open(
    path: string,
    options: SqliteExecutorOptions,
    readers: number,
  ): Promise<SqliteThreadDriver> {
    const threads = await Promise.allSettled(
      Array.from({ length: 1 + readers }, () => SqliteThread.open(path, options)),
    );
    const opened = threads.flatMap((t) => (t.status === 'fulfilled' ? [t.value] : []));
    const failed = threads.find((t) => t.status === 'rejected');
    if (failed) {
      await Promise.all(opened.map((thread) => thread.close()));
      throw failed.reason;
    }
    return new SqliteThreadDriver(opened[0], opened.slice(1));
  }

  private constructor(
    private readonly writer: SqliteThread,
    private readonly readers: SqliteThread[],
  ) {}

  async migrate(plan: MigrationPlan): Promise<number> {
    return (await this.writer.request({ op: 'migrate', plan })) as number;
  }

  async query(statement: Sql): Promise<SqlRecord[]> {
    return (await this.reader().request({
      op: 'query',
      statement: statement.render(SQLITE_DIALECT),
    })) as SqlRecord[];
  }

  async queries(statements: readonly Sql[]): Promise<SqlRecord[][]> {
    return (await this.reader().request({
      op: 'queries',
      statements: statements.map((s) => s.render(SQLITE_DIALECT)),
    })) as SqlRecord[][];
  }

  async transaction(statements: readonly Sql[]): Promise<number[]> {
    return (await this.writer.request({
      op: 'transaction',
      statements: statements.map((s) => s.render(SQLITE_DIALECT)),
    })) as number[];
  }

  async optimize(): Promise<void> {
    await this.writer.request({ op: 'optimize' });
  }

  async close(): Promise<void> {
    await Promise.all([this.writer, ...this.readers].map((thread) => thread.close()));
  }

  /** The reader with the least work waiting (the writer when there are none). */
  private reader(): SqliteThread {
    let best = this.readers[0] ?? this.writer;
    for (const reader of this.readers) if (reader.waiting < best.waiting) best = reader;
    return best;
  }
}

/** One worker thread owning one connection; requests are answered in order. */
class SqliteThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the thread is gone (closed or died): every later call is refused with it. */
  private stopped: Error | undefined;

  static async open(path: string, options: SqliteExecutorOptions): Promise<SqliteThread> {
    const thread = new SqliteThread();
    try {
      await thread.request({ op: 'open', path, options });
    } catch (error) {
      await thread.worker.terminate();
      throw error;
    }
    return thread;
  }

  private constructor() {
    const { filename, execArgv } = threadFile();
    this.worker = new Worker(filename, { execArgv, workerData: { role: SQLITE_THREAD_ROLE } });
    // An idle catalogue does not keep the process alive; a request in flight does (ref below).
    this.worker.unref();
    this.worker.on('message', (response: ThreadResponse) => this.settle(response));
    this.worker.on('error', (error: Error) => this.stop(error));
    this.worker.on('exit', (code) =>
      this.stop(new Error(`The catalogue's SQLite thread stopped (exit code ${code})`)),
    );
  }

  get waiting(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.request({ op: 'close' });
    } finally {
      this.stop(new Error('The catalogue is closed'));
      await this.worker.terminate();
    }
  }

  request(body: RequestBody): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id });
    });
  }

  private settle(response: ThreadResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker.unref();
    if (response.ok) pending.resolve(response.result);
    else pending.reject(errorFromThread(response.error));
  }

  private stop(reason: Error): void {
    this.stopped ??= reason;
    for (const pending of this.pending.values()) pending.reject(reason);
    this.pending.clear();
  }
}

/** The thread's error as an Error again, with SQLite's codes (errcode 5: busy) kept. */
function errorFromThread(fields: ThreadError): Error {
  const error = new Error(fields.message);
  error.name = fields.name;
  return Object.assign(error, { code: fields.code, errcode: fields.errcode });
}
