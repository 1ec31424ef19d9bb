import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '@app/data';
import { MANIFEST_FILE_NAME, RESULT_FILE_NAME } from '@app/storage';
import type { Manifest } from '@app/storage';

/**
 * Realistic run folders for benchmarks and tests: manifest.json (with the SPEC §12 summary
 * fields) and, for completed runs, a small result.json. Seeded, so a bench and its rerun see
 * the same runs. Statuses mixed (about 80 % completed, 13 % failed, 7 % cancelled), two
 * strategies, 12 symbols (1–5 per run), six timeframes, market dates 2018–2024, finish times
 * spread over the retention window before `now`.
 */
export interface RunFolderOptions {
  /** Default 1. */
  seed?: number;
  /** Finish times fall in the `retentionDays` before this (default: now). */
  now?: Date;
  /** Default 7 (TASK_RESULT_TTL_DAYS). */
  retentionDays?: number;
}

export const BENCH_STRATEGIES = ['volume_long_candle', 'volume_zone_breakout'] as const;
export const BENCH_SYMBOLS = [
  'BTC_KRW',
  'ETH_KRW',
  'XRP_KRW',
  'ADA_KRW',
  'SOL_KRW',
  'DOGE_KRW',
  'ETH_BTC',
  'LTC_BTC',
  'ADA_BTC',
  'XRP_BTC',
  'BNB_USDT',
  'BTC_USDT',
] as const;
export const BENCH_TIMEFRAMES = ['1M', '5M', '15M', '1H', '4H', '1D'] as const;

const DAY_MS = 24 * 3600 * 1000;
const FIRST_MARKET_DAY = Date.UTC(2018, 0, 1);
const MARKET_DAYS = 7 * 365;

/** The manifests, one at a time (nothing is held: 100,000 cost no more memory than one). */
export function* generateRunManifests(
  count: number,
  options: RunFolderOptions = {},
): Generator<Manifest> {
  const random = seededRandom(options.seed ?? 1);
  const nowMs = (options.now ?? new Date()).getTime();
  const windowMs = (options.retentionDays ?? 7) * DAY_MS;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const between = (low: number, high: number): number => low + random() * (high - low);
  const round = (value: number, digits: number): number => Number(value.toFixed(digits));

  for (let index = 0; index < count; index++) {
    const id = seededUuid(random);
    const draw = random();
    const status = draw < 0.8 ? 'completed' : draw < 0.93 ? 'failed' : 'cancelled';
    const strategy = pick(BENCH_STRATEGIES);
    const symbols = distinct(random, BENCH_SYMBOLS, 1 + Math.floor(random() * 5));
    const startDay = Math.floor(random() * (MARKET_DAYS - 200));
    const startDate = isoDate(FIRST_MARKET_DAY + startDay * DAY_MS);
    const endDate = isoDate(FIRST_MARKET_DAY + (startDay + Math.floor(random() * 180)) * DAY_MS);
    // Whole milliseconds, so that some runs share a finish time and ties by id are exercised.
    const finishedMs = Math.floor(nowMs - random() * windowMs);
    const durationMs = Math.round(between(40, 60_000));
    const completed = status === 'completed';
    const failedSymbols = completed ? Math.floor(random() * Math.min(2, symbols.length)) : 0;
    const totalSignals = completed ? Math.floor(random() ** 2 * 500) : 0;
    const avgReturn = completed && totalSignals > 0 ? round(between(-5, 8), 6) : null;
    const manifest: Manifest = {
      task_id: id,
      status,
      strategy,
      params:
        strategy === 'volume_long_candle'
          ? {
              vol_ma_window: pick([10, 20, 30, 50]),
              vol_multiplier: pick([1.5, 2, 2.5]),
              body_pct: pick([0.01, 0.02, 0.03]),
              hold_period_bars: pick([1, 2, 5]),
            }
          : {
              volume_window: pick([30, 60, 90]),
              top_percentile: pick([0.1, 0.2, 0.3]),
              breakout_buffer: pick([0, 0.01, 0.02]),
              hold_period_bars: pick([1, 2, 5]),
              num_bins: pick([10, 20, 40]),
              include_wicks: random() < 0.5,
            },
      symbols,
      start_date: startDate,
      end_date: endDate,
      timeframe: pick(BENCH_TIMEFRAMES),
      result_files: [],
      metadata: {
        created_at: new Date(finishedMs - durationMs - Math.round(random() * 5000)).toISOString(),
        started_at: new Date(finishedMs - durationMs).toISOString(),
        finished_at: new Date(finishedMs).toISOString(),
        duration_ms: durationMs,
        execution_host: 'bench-host',
        environment: 'bench',
        worker_id: `worker-${1 + Math.floor(random() * 4)}`,
      },
      summary: {
        total_signals: totalSignals,
        symbols_processed: completed ? symbols.length - failedSymbols : 0,
        symbols_failed: failedSymbols,
        average_execution_time_per_symbol_ms: completed ? round(durationMs / symbols.length, 3) : 0,
        avg_return: avgReturn,
        execution_time: completed ? round((durationMs * 0.95) / 1000, 6) : null,
        portfolio: completed
          ? {
              total_return_pct: round(between(-40, 120), 6),
              trades: totalSignals,
              win_rate: totalSignals > 0 ? round(random(), 6) : null,
              avg_return: avgReturn,
              profit_factor: totalSignals > 1 ? round(between(0.2, 4), 6) : null,
              sqn: totalSignals > 1 ? round(between(-3, 5), 6) : null,
              best_trade_pct: totalSignals > 0 ? round(between(0, 30), 6) : null,
              worst_trade_pct: totalSignals > 0 ? round(between(-30, 0), 6) : null,
              return_ann_pct: null,
              volatility_ann_pct: null,
              sharpe: null,
              sortino: null,
              calmar: null,
              max_drawdown_pct: null,
              max_drawdown_duration_s: null,
            }
          : null,
      },
      execution: {
        fee: pick([0, 0.0005, 0.001]),
        slippage: pick([0, 0.0005]),
        positions: pick(['overlap', 'single']),
      },
      error: completed
        ? { occurred: false, message: null }
        : {
            occurred: true,
            message:
              status === 'failed'
                ? `No data found for symbols [${symbols.join(', ')}] in range ${startDate}..${endDate}`
                : 'The task was cancelled',
          },
    };
    yield manifest;
  }
}

/** Writes one folder per manifest (plain writes: bench data needs no fsync); the count written. */
export async function writeRunFolders(
  resultsDir: string,
  manifests: Iterable<Manifest>,
  concurrency = 32,
): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let written = 0;
  for (const manifest of manifests) {
    // Never more than `concurrency` folders pending: the iterable is consumed as they finish.
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const task = writeRunFolder(resultsDir, manifest).then(() => {
      written++;
      inFlight.delete(task);
    });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  return written;
}

/** `count` seeded run folders under `resultsDir` (the lead's `bench:catalog` calls this). */
export function generateRunFolders(
  resultsDir: string,
  count: number,
  options: RunFolderOptions = {},
): Promise<number> {
  return writeRunFolders(resultsDir, generateRunManifests(count, options));
}

async function writeRunFolder(resultsDir: string, manifest: Manifest): Promise<void> {
  const dir = join(resultsDir, manifest.task_id);
  await mkdir(dir, { recursive: true });
  let finalManifest = manifest;
  if (manifest.status === 'completed') {
    const result = Buffer.from(JSON.stringify(resultDocument(manifest)), 'utf8');
    await writeFile(join(dir, RESULT_FILE_NAME), result);
    finalManifest = {
      ...manifest,
      result_files: [
        {
          name: RESULT_FILE_NAME,
          path: `${manifest.task_id}/${RESULT_FILE_NAME}`,
          size_bytes: result.length,
          checksum: createHash('md5').update(result).digest('hex'),
        },
      ],
    };
  }
  await writeFile(join(dir, MANIFEST_FILE_NAME), `${JSON.stringify(finalManifest, null, 2)}\n`);
}

/** A small result document of the SPEC §4 shape (no signals: the catalogue never reads it). */
function resultDocument(manifest: Manifest): object {
  return {
    version: '1.2.0',
    run_id: manifest.task_id,
    strategy: manifest.strategy,
    params: manifest.params,
    start_date: manifest.start_date,
    end_date: manifest.end_date,
    timeframe: manifest.timeframe,
    total_signals: manifest.summary.total_signals,
    execution_time: manifest.summary.execution_time,
    symbols: manifest.symbols.map((symbol) => ({
      symbol,
      candles: 0,
      samples: 0,
      win_rate: 0,
      avg_return: manifest.summary.avg_return,
      max_drawdown: 0,
      avg_hold_bars: 0,
      is_active: true,
      signals: [],
      performance_curve: [],
    })),
    symbols_failed: [],
    portfolio: manifest.summary.portfolio,
    metadata: {
      execution_date: manifest.metadata.finished_at,
      environment: manifest.metadata.environment,
      execution_host: manifest.metadata.execution_host,
    },
  };
}

/** A version-4-shaped UUID from the generator (lower case, as run folders are named). */
function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)];
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

function distinct<T>(random: () => number, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const chosen: T[] = [];
  while (chosen.length < count && pool.length > 0)
    chosen.push(pool.splice(Math.floor(random() * pool.length), 1)[0]);
  return chosen;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
