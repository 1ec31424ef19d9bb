import type { CommandDefinition } from '../command';

const COUNT = 'a whole number, 1 or more';

export const BENCH: CommandDefinition = {
  name: 'bench',
  summary: 'benchmark the engine, the whole CLI run and its start-up (DuckDB beside)',
  help: `Usage: cli bench [--runs N] [--candles N] [--seed N] [--files N] [--cli]
       cli bench --queue [--tasks N] [--latency-tasks N] [--rounds N] [--concurrency N] [--results-dir DIR]
       cli bench --http [--rounds N] [--duration S] [--connections N] [--cpu-prof DIR] [--baseline DIR]
       cli bench --catalog [--catalog-runs N] [--backend sqlite|postgres|both] [--postgres-url URL] [--history-calls N]

Benchmarks on seeded one-minute candles (a year = 525,600 per symbol) and prints JSON:
  strategies             candles/s of each strategy on in-memory arrays, one thread
  statistics_overhead    what SPEC §12 (costs, stats) adds to volume_long_candle + its §3
                         metrics, overlap and single positions, side by side (target ≤ 1.10)
  parquet_load_one_year  loading one year file (Parquet -> typed arrays), rows/s; also the
                         same year as DuckDB writes it (nullable columns, snappy and zstd)
  versus_duckdb          volume_long_candle over --files one-year files (default 10): the
                         engine on one thread against DuckDB's SQL on all cores, same files,
                         and the whole CLI run (node dist/src/cli/main.js backtest ..., its
                         own process, all cores) against the same DuckDB query
  cli_startup            node dist/src/cli/main.js --help against node -e '' (3 x --runs each)
--cli: only the last two (npm run bench:cli). Built entry needed: npm run bench builds first.
Medians of --runs runs (default 7). Not a test: figures depend on the machine and its load.

With --queue (needs redis-server on the PATH and a build; starts its own private Redis):
the queue's overhead side by side on one Redis: BullMQ alone running --tasks no-op jobs
(default 1000) against the real worker app running as many small backtests (one symbol,
1,152 five-minute candles) submitted as the API submits them; tasks/s, their ratio, and
submit-to-completed latency p50/p99 over --latency-tasks (default 200) run one at a time.
Medians of --rounds (default 3); both systems use --concurrency (default: CPUs).

With --http (needs redis-server on the PATH and a build; starts its own private Redis):
GET /api/backtests/status/{id} of the built API (API_KEY set, LOG_LEVEL=info) against bare
Fastify doing the same HGETALL and answering the same JSON, alternately, --connections
keep-alive connections (default 50) for --duration seconds each (default 5); req/s, their
ratio and p99 latency, medians of --rounds (default 3). --cpu-prof DIR runs the API under
node --cpu-prof and leaves its profile in DIR. --baseline DIR also measures the built API
of another checkout (e.g. a git worktree of an older commit) in the same rounds.

With --catalog (npm run bench:catalog; needs redis-server, a build, and for PostgreSQL a server
at --postgres-url, default postgres://postgres@127.0.0.1:5432/test, where a private database
is created and dropped): SPEC §11 through the built API on --catalog-runs generated run folders
(default 100000): the start-up rebuild of an empty catalogue, a restart on the complete one,
--history-calls history pages (default 2000) from 10 concurrent clients with a mix of filters
(p50/p99), /health/live p99 meanwhile, /latest p50/p99, the API's RSS after the restart and
after the load; for each --backend (default both).`,
  flags: {
    runs: { type: 'string', default: '7', expects: COUNT },
    candles: { type: 'string', default: '525600', expects: COUNT },
    seed: { type: 'string', default: '42', expects: COUNT },
    files: { type: 'string', default: '10', expects: COUNT },
    cli: { type: 'boolean', default: false },
    queue: { type: 'boolean', default: false },
    tasks: { type: 'string', default: '1000', expects: COUNT },
    'latency-tasks': { type: 'string', default: '200', expects: COUNT },
    rounds: { type: 'string', default: '3', expects: COUNT },
    concurrency: { type: 'string', expects: COUNT },
    'results-dir': { type: 'string', expects: 'a directory' },
    http: { type: 'boolean', default: false },
    duration: { type: 'string', default: '5', expects: COUNT },
    connections: { type: 'string', default: '50', expects: COUNT },
    'cpu-prof': { type: 'string', expects: 'a directory' },
    baseline: { type: 'string', expects: 'a checkout with a build (dist/)' },
    catalog: { type: 'boolean', default: false },
    'catalog-runs': { type: 'string', default: '100000', expects: COUNT },
    backend: { type: 'string', expects: 'sqlite, postgres or both' },
    'postgres-url': { type: 'string', expects: 'a postgres:// URL' },
    'history-calls': { type: 'string', default: '2000', expects: COUNT },
  },
  load: async () => (await import('./bench.js')).benchCommand,
};
