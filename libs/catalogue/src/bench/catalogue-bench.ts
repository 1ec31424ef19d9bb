/**
 * The catalogue's own benchmark (SPEC §11 figures, measured at the library, without HTTP):
 * builds N run folders, then for each backend times a full rebuild from an empty catalogue, a
 * quick rebuild of a complete one, history pages under 10 concurrent callers with a mix of
 * filters (with the event loop's delay meanwhile: what a /health/live answer would wait),
 * `latest`, and the memory held.
 *
 *   npm run build
 *   node dist/libs/catalogue/src/bench/catalogue-bench.js [--runs 100000] [--backend sqlite|postgres|all]
 *        [--results-dir DIR (reused when it has run folders)] [--calls 2000] [--concurrency 10]
 *        [--read-cache ENTRIES (SQLite; 0: none)]
 *
 * PostgreSQL: a private database is created on CATALOGUE_BENCH_POSTGRES_URL (default
 * postgres://postgres@127.0.0.1:5432/test) and dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, opendir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Catalogue, HistoryFilters } from '../catalogue';
import { openCatalogue, OpenCatalogueOptions } from '../open-catalogue';
import { rebuildCatalogue } from '../rebuild';
import { seededRandom } from '@app/data';
import { BENCH_STRATEGIES, BENCH_SYMBOLS, generateRunFolders } from './run-folders';

/** A named kind of history query; `make` draws its values. */
export interface HistoryFilterKind {
  name: string;
  make(random: () => number): HistoryFilters & { offset?: number };
}

const pickFrom =
  (random: () => number) =>
  <T>(items: readonly T[]): T =>
    items[Math.floor(random() * items.length)];

const isoDay = (day: number): string =>
  new Date(Date.UTC(2018, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);

/** The mix the bench cycles through: every filter of SPEC §5/§10.4 alone, and some together. */
export const HISTORY_FILTER_MIX: readonly HistoryFilterKind[] = [
  { name: 'default (completed)', make: () => ({}) },
  { name: 'strategy', make: (r) => ({ strategy: pickFrom(r)(BENCH_STRATEGIES) }) },
  { name: 'symbol', make: (r) => ({ symbol: pickFrom(r)(BENCH_SYMBOLS) }) },
  { name: 'status=failed', make: () => ({ status: 'failed' }) },
  { name: 'status=all', make: () => ({ status: 'all' }) },
  {
    name: 'overlap start/end_date',
    make: (r) => {
      const day = Math.floor(r() * 2400);
      return { start_date: isoDay(day), end_date: isoDay(day + 90) };
    },
  },
  {
    name: 'containment date_from/to',
    make: (r) => {
      const day = Math.floor(r() * 2000);
      return { date_from: isoDay(day), date_to: isoDay(day + 365) };
    },
  },
  { name: 'min_return', make: (r) => ({ min_return: Math.round(r() * 600 - 200) / 100 }) },
  {
    name: 'min/max_signals',
    make: (r) => {
      const low = Math.floor(r() * 200);
      return { min_signals: low, max_signals: low + 50 };
    },
  },
  {
    name: 'symbol+strategy+min_return',
    make: (r) => ({
      symbol: pickFrom(r)(BENCH_SYMBOLS),
      strategy: pickFrom(r)(BENCH_STRATEGIES),
      min_return: 0,
    }),
  },
  {
    name: 'status=all+symbol+overlap',
    make: (r) => {
      const day = Math.floor(r() * 2400);
      return {
        status: 'all',
        symbol: pickFrom(r)(BENCH_SYMBOLS),
        start_date: isoDay(day),
        end_date: isoDay(day + 30),
      };
    },
  },
  { name: 'default, page 11', make: () => ({ offset: 200 }) },
];

export interface LatencySummary {
  calls: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface HistoryBenchResult {
  overall: LatencySummary;
  byFilter: Record<string, LatencySummary>;
  /** The event loop's delay meanwhile (what a /health/live answer would wait at most). */
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
}

/** `calls` history pages from `concurrency` callers at once, cycling through the mix. */
export async function benchHistory(
  catalogue: Catalogue,
  { calls = 2000, concurrency = 10, seed = 1 } = {},
): Promise<HistoryBenchResult> {
  const random = seededRandom(seed);
  const timings = new Map<string, number[]>();
  const loop = watchEventLoop();
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < calls) {
      const kind = HISTORY_FILTER_MIX[next++ % HISTORY_FILTER_MIX.length];
      const { offset = 0, ...filters } = kind.make(random);
      const started = performance.now();
      await catalogue.history({ ...filters, limit: 20, offset });
      const elapsed = performance.now() - started;
      const times = timings.get(kind.name) ?? [];
      times.push(elapsed);
      timings.set(kind.name, times);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const lateness = loop.stop();
  const all = [...timings.values()].flat();
  return {
    overall: summarise(all),
    byFilter: Object.fromEntries([...timings].map(([name, times]) => [name, summarise(times)])),
    event_loop_delay_p99_ms: lateness.p99_ms,
    event_loop_delay_max_ms: lateness.max_ms,
  };
}

const TICK_MS = 5;

/**
 * How late a 5 ms timer fires while the load runs: what an HTTP answer on this event loop
 * (/health/live) would wait. The wait until stop() counts too: a loop blocked to the end runs
 * no tick to report it.
 */
function watchEventLoop(): { stop(): LatencySummary } {
  const late: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    late.push(Math.max(0, now - last - TICK_MS));
    last = now;
  }, TICK_MS);
  return {
    stop() {
      clearInterval(timer);
      late.push(Math.max(0, performance.now() - last - TICK_MS));
      return summarise(late);
    },
  };
}

export async function benchLatest(catalogue: Catalogue, calls = 200): Promise<LatencySummary> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await catalogue.latestCompletedRun();
    times.push(performance.now() - started);
  }
  return summarise(times);
}

function summarise(times: number[]): LatencySummary {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    calls: sorted.length,
    p50_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
    max_ms: round(sorted[sorted.length - 1]),
  };
}

async function countRunFolders(dir: string): Promise<number> {
  let count = 0;
  try {
    for await (const entry of await opendir(dir)) if (entry.isDirectory()) count++;
  } catch {
    return 0;
  }
  return count;
}

const megabytes = (bytes: number) => Math.round(bytes / 1024 / 1024);

function memory(): { rss_mb: number; heap_used_mb: number } {
  const { rss, heapUsed } = process.memoryUsage();
  return { rss_mb: megabytes(rss), heap_used_mb: megabytes(heapUsed) };
}

interface BenchBackend {
  name: string;
  options: OpenCatalogueOptions;
  dispose(): Promise<void>;
}

async function sqliteBackend(
  scratch: string,
  mode: 'thread' | 'inline',
  readCacheEntries: number | undefined,
): Promise<BenchBackend> {
  const dir = join(scratch, `sqlite-${mode}`);
  await mkdir(dir, { recursive: true });
  return {
    name: `sqlite (${mode}, read cache ${readCacheEntries ?? 'default'})`,
    options: { catalogPath: join(dir, 'catalog.sqlite'), sqliteMode: mode, readCacheEntries },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

async function postgresBackend(adminUrl: string): Promise<BenchBackend> {
  const database = `catalogue_bench_${randomBytes(6).toString('hex')}`;
  // pg is loaded here only: this module is part of the catalogue's index, which SQLite
  // processes (a CLI run) load without ever needing pg.
  const { Client } = await import('pg');
  const admin = async (statement: string) => {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return {
    name: 'postgres',
    options: { catalogPath: '', databaseUrl: url.toString() },
    dispose: () => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}

async function benchBackend(
  backend: BenchBackend,
  resultsDir: string,
  history: { calls: number; concurrency: number },
): Promise<object> {
  const catalogue = await openCatalogue(backend.options);
  try {
    const full = await rebuildCatalogue(catalogue, resultsDir, { mode: 'full' });
    const quick = await rebuildCatalogue(catalogue, resultsDir, { mode: 'quick' });
    await catalogue.history({ limit: 20, offset: 0 }); // warm the caches once
    const historyResult = await benchHistory(catalogue, history);
    // A second round of the same calls: what the read cache (SQLite) answers without work.
    const repeated = await benchHistory(catalogue, history);
    return {
      backend: backend.name,
      rebuild_full_from_empty_s: full.duration_ms / 1000,
      rebuild_full_counts: full.runs,
      rebuild_quick_of_complete_s: quick.duration_ms / 1000,
      history: historyResult,
      history_repeated: {
        overall: repeated.overall,
        event_loop_delay_p99_ms: repeated.event_loop_delay_p99_ms,
      },
      latest: await benchLatest(catalogue),
      memory_after: memory(),
    };
  } finally {
    await catalogue.close();
    await backend.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '100000' },
      backend: { type: 'string', default: 'all' },
      'results-dir': { type: 'string' },
      calls: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '10' },
      'read-cache': { type: 'string' },
    },
  });
  const readCache = values['read-cache'] === undefined ? undefined : Number(values['read-cache']);
  const runs = Number(values.runs);
  const history = { calls: Number(values.calls), concurrency: Number(values.concurrency) };
  const scratch = await mkdtemp(join(tmpdir(), 'catalogue-bench-'));
  const resultsDir = values['results-dir'] ?? join(scratch, 'results');
  await mkdir(resultsDir, { recursive: true });
  try {
    const present = await countRunFolders(resultsDir);
    if (present < runs) {
      const started = performance.now();
      await generateRunFolders(resultsDir, runs - present, { seed: present + 1 });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`generated ${runs - present} run folders in ${seconds} s (${resultsDir})`);
    }
    console.log(JSON.stringify({ node: process.version, runs, memory_before: memory() }));
    const postgresUrl =
      process.env.CATALOGUE_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const wanted = values.backend;
    const backends: (() => Promise<BenchBackend>)[] = [];
    const wants = (name: string) => wanted === 'all' || wanted.split(',').includes(name);
    if (wants('sqlite')) backends.push(() => sqliteBackend(scratch, 'thread', readCache));
    if (wants('sqlite-inline')) backends.push(() => sqliteBackend(scratch, 'inline', readCache));
    if (wants('postgres')) backends.push(() => postgresBackend(postgresUrl));
    for (const make of backends) {
      console.log(JSON.stringify(await benchBackend(await make(), resultsDir, history), null, 2));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
