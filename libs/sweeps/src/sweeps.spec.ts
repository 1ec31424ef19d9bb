import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { InvalidInputError } from '@app/common';
import { BacktestOutcome, parseBacktestRequest, runBacktest } from '@app/backtest';
import { CandleFileCache } from '@app/data';
import { getStrategy } from '@app/strategies';
import { sweepRowFromManifest } from '@app/catalogue';
import {
  chunkSizeOf,
  cleanupSweeps,
  chunksOf,
  combinationParams,
  CombinationResult,
  encodeSweepResults,
  evaluateChunk,
  MAX_CHUNK_ROWS,
  parseSweepRequest,
  readSweepDocument,
  summariseSweep,
  writeSweepFolder,
  SweepPlan,
} from '.';

const SAMPLE_DATA = join(__dirname, '../../../data');
const ORIGIN = { environment: 'test', executionHost: 'host', workerId: null };

function fieldsOf(raw: unknown, max = 1000): string[] {
  try {
    parseSweepRequest(raw, max);
  } catch (error) {
    if (error instanceof InvalidInputError)
      return error.problems.map((p) => `${p.field}: ${p.allowed}`);
    throw error;
  }
  return [];
}

const BASE = {
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC', 'LTC_BTC', 'ADA_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

/** 9 × 4 × 2 × 3 = 216 combinations over the shared sample data. */
const GRID = {
  vol_ma_window: [10, 20],
  vol_multiplier: { from: 1, to: 3, step: 0.25 },
  body_pct: [0.002, 0.005, 0.01, 0.02],
  hold_period_bars: [1, 3, 6],
};

async function runAll(plan: SweepPlan): Promise<CombinationResult[]> {
  const cache = new CandleFileCache({ maxBytes: 64 * 1024 * 1024 });
  const results: CombinationResult[] = [];
  for (const { from, to } of chunksOf(plan.combinations, 50)) {
    const chunk = await evaluateChunk(
      plan.request,
      from,
      to,
      { dataRoot: SAMPLE_DATA, cache },
      plan,
    );
    results.push(...chunk.combinations);
  }
  return results;
}

async function singleRun(
  plan: SweepPlan,
  index: number,
  window: { start_date: string; end_date: string },
): Promise<BacktestOutcome> {
  const { request } = plan;
  return runBacktest(
    parseBacktestRequest({
      strategy: request.strategy,
      params: combinationParams(plan, getStrategy(request.strategy)!, index),
      execution: request.execution,
      symbols: request.symbols,
      timeframe: request.timeframe,
      start_date: window.start_date,
      end_date: window.end_date,
    }),
    { dataRoot: SAMPLE_DATA, runId: 'x', origin: ORIGIN },
  );
}

describe('parseSweepRequest', () => {
  it('expands {from, to, step} rounded to the step, in table order, the last parameter fastest', () => {
    const plan = parseSweepRequest({ ...BASE, grid: GRID }, 1000);
    expect(plan.combinations).toBe(216);
    expect(plan.axes.map((axis) => axis.name)).toEqual([
      'vol_ma_window',
      'vol_multiplier',
      'body_pct',
      'hold_period_bars',
    ]);
    expect(plan.axes[1].values).toEqual([1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3]);
    const strategy = getStrategy('volume_long_candle')!;
    expect(combinationParams(plan, strategy, 0)).toEqual({
      vol_ma_window: 10,
      vol_multiplier: 1,
      body_pct: 0.002,
      hold_period_bars: 1,
    });
    expect(combinationParams(plan, strategy, 1)).toEqual({
      vol_ma_window: 10,
      vol_multiplier: 1,
      body_pct: 0.002,
      hold_period_bars: 3,
    });
    expect(combinationParams(plan, strategy, 215)).toEqual({
      vol_ma_window: 20,
      vol_multiplier: 3,
      body_pct: 0.02,
      hold_period_bars: 6,
    });
    // 0.1 steps that floating point would make 0.30000000000000004 come out as written.
    const tenths = parseSweepRequest(
      { ...BASE, grid: { body_pct: { from: 0.1, to: 0.5, step: 0.1 } } },
      1000,
    );
    expect(tenths.axes[0].values).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it('422s name the parameter, the count and the fix', () => {
    expect(fieldsOf({ ...BASE, grid: GRID }, 200)).toEqual([
      expect.stringMatching(/^grid: at most 200 combinations .*this grid gives 216/),
    ]);
    expect(fieldsOf({ ...BASE, grid: { vol_multiplier: [0.5, 2] } })).toEqual([
      'grid.vol_multiplier[0]: a number from 1.0 to 10.0',
    ]);
    expect(
      fieldsOf({ ...BASE, grid: { vol_multiplier: [2] }, params: { vol_multiplier: 2 } }),
    ).toEqual([
      expect.stringMatching(/^grid.vol_multiplier: a parameter either in grid or in params/),
    ]);
    expect(fieldsOf({ ...BASE, grid: { nope: [1] } })).toEqual([
      expect.stringMatching(/^grid.nope: no such parameter/),
    ]);
    expect(fieldsOf({ ...BASE, grid: { body_pct: [0.01] }, objective: 'sharpe' })).toEqual([
      expect.stringMatching(
        /^objective: sharpe is a figure of the account's equity: set execution.positions to "single"/,
      ),
    ]);
    expect(
      fieldsOf({
        ...BASE,
        grid: { body_pct: [0.01] },
        start_date: '2018-01-10',
        end_date: '2018-01-11',
        validation: { method: 'walk_forward', folds: 5 },
      }),
    ).toEqual([expect.stringMatching(/^validation.folds: at most 1 folds/)]);
    expect(
      fieldsOf({
        ...BASE,
        grid: { body_pct: [0.01] },
        symbols: Array.from({ length: 21 }, (_, k) => `S${k}_BTC`),
      }),
    ).toEqual([expect.stringMatching(/^symbols: a list of 1 to 20/)]);
  });
});

describe('a sweep is a batch of single runs', () => {
  jest.setTimeout(120_000);

  it('216 combinations × 3 symbols: every figure equals a single run with those parameters, bit for bit', async () => {
    const plan = parseSweepRequest(
      {
        ...BASE,
        grid: GRID,
        execution: { fee: 0.001, slippage: 0.0005, positions: 'single' },
        objective: 'sharpe',
      },
      1000,
    );
    const results = await runAll(plan);
    expect(results.map((r) => r.index)).toEqual([...Array(216).keys()]);
    let trades = 0;
    for (const result of results) {
      const run = (await singleRun(plan, result.index, plan.windows[0])).result;
      const window = result.windows.full;
      expect(window.portfolio).toEqual(run.portfolio);
      expect(window.symbols.map((s) => s.symbol)).toEqual(run.symbols.map((s) => s.symbol));
      window.symbols.forEach((figures, k) => {
        const symbol = run.symbols[k];
        const {
          symbol: name,
          candles,
          samples,
          win_rate,
          avg_return,
          max_drawdown,
          avg_hold_bars,
        } = symbol;
        expect(figures).toEqual({
          symbol: name,
          candles,
          samples,
          win_rate,
          avg_return,
          max_drawdown,
          avg_hold_bars,
          ...symbol.stats,
        });
      });
      trades += window.portfolio.trades ?? 0;
    }
    // The grid is not degenerate: the combinations trade, and differently.
    expect(trades).toBeGreaterThan(216);
    const outcome = summariseSweep(plan, results);
    expect(outcome.top).toHaveLength(50);
    const scores = outcome.top.map((entry) => entry.score ?? -Infinity);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(outcome.best?.index).toBe(outcome.top[0].index);
  });

  it('holdout and walk-forward windows are single runs over their own dates', async () => {
    const holdout = parseSweepRequest(
      {
        ...BASE,
        grid: { vol_multiplier: [1, 1.5, 2], body_pct: [0.005, 0.01] },
        validation: { method: 'holdout', test_ratio: 0.3 },
      },
      1000,
    );
    // 22 days: 15 in-sample, 7 out-of-sample.
    expect(holdout.windows).toEqual([
      { name: 'in_sample', start_date: '2018-01-10', end_date: '2018-01-24' },
      { name: 'out_of_sample', start_date: '2018-01-25', end_date: '2018-01-31' },
    ]);
    const holdoutResults = await runAll(holdout);
    const summary = summariseSweep(holdout, holdoutResults);
    const best = summary.best!;
    expect(best.in_sample).toEqual(
      (await singleRun(holdout, best.index, holdout.windows[0])).result.portfolio,
    );
    expect(best.out_of_sample).toEqual(
      (await singleRun(holdout, best.index, holdout.windows[1])).result.portfolio,
    );
    for (const entry of summary.top) expect(entry.portfolio).toBe(entry.in_sample);

    const walk = parseSweepRequest(
      {
        ...BASE,
        grid: { vol_multiplier: [1, 1.5, 2], body_pct: [0.005, 0.01] },
        validation: { method: 'walk_forward', folds: 3 },
      },
      1000,
    );
    // 22 days in 4 windows of 5, the remainder (2) added to the last.
    expect(walk.windows.slice(1).map((w) => [w.start_date, w.end_date])).toEqual([
      ['2018-01-10', '2018-01-14'],
      ['2018-01-15', '2018-01-19'],
      ['2018-01-20', '2018-01-24'],
      ['2018-01-25', '2018-01-31'],
    ]);
    const walkResults = await runAll(walk);
    const validation = summariseSweep(walk, walkResults).validation;
    if (validation.method !== 'walk_forward') throw new Error('expected walk_forward');
    expect(validation.folds).toHaveLength(3);
    let equity = 1;
    for (const fold of validation.folds) {
      // The fold's choice is the best on its window; its out-of-sample figures a single run on the next.
      const inWindow = walk.windows.find((w) => w.name === fold.in_sample_window)!;
      const outWindow = walk.windows.find((w) => w.name === fold.out_of_sample_window)!;
      const candidates = await Promise.all(
        walkResults.map(
          async (r) =>
            (await singleRun(walk, r.index, inWindow)).result.portfolio.total_return_pct ??
            -Infinity,
        ),
      );
      expect(fold.in_sample.total_return_pct).toBe(Math.max(...candidates));
      expect(fold.out_of_sample).toEqual(
        (await singleRun(walk, fold.index, outWindow)).result.portfolio,
      );
      equity *= 1 + fold.out_of_sample.total_return_pct! / 100;
    }
    expect(validation.oos_total_return_pct).toBeCloseTo((equity - 1) * 100, 12);
  });

  it('results.parquet: one row per combination, window and symbol, read back with hyparquet', async () => {
    const plan = parseSweepRequest(
      {
        ...BASE,
        grid: { vol_multiplier: [1, 2], body_pct: [0.005, 0.01] },
        validation: { method: 'holdout' },
      },
      1000,
    );
    const results = await runAll(plan);
    const bytes = encodeSweepResults(plan, results);
    const rows = await parquetReadObjects({
      file: bytes.buffer.slice(
        bytes.byteOffset,
        bytes.byteOffset + bytes.byteLength,
      ) as ArrayBuffer,
    });
    expect(rows).toHaveLength(4 * 2 * 3);
    expect(Object.keys(rows[0]).slice(0, 8)).toEqual([
      'index',
      'vol_ma_window',
      'vol_multiplier',
      'body_pct',
      'hold_period_bars',
      'window',
      'symbol',
      'candles',
    ]);
    const row = rows.find(
      (r) => r.index === 3 && r.window === 'out_of_sample' && r.symbol === 'LTC_BTC',
    )!;
    const figures = results[3].windows.out_of_sample.symbols.find((s) => s.symbol === 'LTC_BTC')!;
    expect(row.total_return_pct).toBe(figures.total_return_pct);
    expect(row.sharpe).toBeNull();
    expect(row.vol_multiplier).toBe(2);
  });

  it('a chunk is about a second or two of work, by the strategy’s measured cost', () => {
    const year = { ...BASE, timeframe: '1M', start_date: '2024-01-01', end_date: '2024-12-31' };
    // volume_zone_breakout: ~137 ms per combination on a year of one-minute candles.
    const zones = parseSweepRequest(
      {
        ...year,
        symbols: ['ETH_BTC'],
        strategy: 'volume_zone_breakout',
        grid: { top_percentile: [0.1, 0.2, 0.3] },
      },
      10_000,
    );
    expect(chunkSizeOf(zones)).toBeGreaterThanOrEqual(8);
    expect(chunkSizeOf(zones)).toBeLessThanOrEqual(14);
    // volume_long_candle with its grid: ~0.5 ms per combination and symbol-year; the cap of 500
    // (a chunk's figures travel through Redis) binds on one symbol, the cost on twenty.
    const grid = { vol_multiplier: { from: 1, to: 10, step: 0.01 } };
    expect(chunkSizeOf(parseSweepRequest({ ...year, symbols: ['ETH_BTC'], grid }, 10_000))).toBe(
      500,
    );
    const twenty = Array.from({ length: 20 }, (_, k) => `S${k}_BTC`);
    const many = chunkSizeOf(parseSweepRequest({ ...year, symbols: twenty, grid }, 10_000));
    expect(many).toBeGreaterThan(50);
    expect(many).toBeLessThan(150);
  });

  it('bounds what waits in Redis: result rows per sweep and per chunk, and a grid step’s decimals', () => {
    const twenty = Array.from({ length: 20 }, (_, k) => `S${k}_BTC`);
    // 10 × 901 = 9,010 combinations (under the limit given) × 20 symbols × 7 windows.
    const wide = {
      ...BASE,
      symbols: twenty,
      grid: {
        vol_ma_window: [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
        vol_multiplier: { from: 1, to: 10, step: 0.01 },
      },
      validation: { method: 'walk_forward', folds: 5 },
    };
    expect(fieldsOf(wide, 100_000)).toEqual([
      expect.stringMatching(
        /^grid: at most 1000000 result rows \(combinations × windows × symbols\); this sweep gives 9010 × \d+ × 20 = \d+/,
      ),
    ]);
    // Fewer values pass, and each chunk's rows stay under MAX_CHUNK_ROWS.
    const narrower = parseSweepRequest(
      { ...wide, grid: { vol_multiplier: { from: 1, to: 10, step: 0.01 } } },
      100_000,
    );
    const rowsPerCombination = narrower.windows.length * 20;
    expect(chunkSizeOf(narrower) * rowsPerCombination).toBeLessThanOrEqual(MAX_CHUNK_ROWS);
    expect(
      fieldsOf({ ...BASE, grid: { vol_multiplier: { from: 2, to: 2, step: 1e-101 } } }),
    ).toEqual(['grid.vol_multiplier: a step with at most 12 decimal places (this one has 101)']);
  });

  it('writes sweeps/{id}/ whole: sweep.json, results.parquet and a manifest with their md5s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-files-'));
    try {
      const plan = parseSweepRequest({ ...BASE, grid: { vol_multiplier: [1, 2] } }, 1000);
      const results = await runAll(plan);
      const outcome = summariseSweep(plan, results);
      const now = new Date().toISOString();
      const document = {
        sweep_id: '00000000-0000-4000-8000-000000000001',
        status: 'completed' as const,
        combinations: 2,
        done: 2,
        request: plan.request,
        objective: plan.request.objective,
        created_at: now,
        started_at: now,
        finished_at: now,
        execution_time: 0,
        ...outcome,
      };
      const parquet = encodeSweepResults(plan, results);
      const manifest = await writeSweepFolder(dir, document, parquet);
      const folder = join(dir, 'sweeps', document.sweep_id);
      expect(readdirSync(join(dir, 'sweeps'))).toEqual([document.sweep_id]);
      for (const file of manifest.result_files) {
        expect(
          createHash('md5')
            .update(readFileSync(join(folder, file.path)))
            .digest('hex'),
        ).toBe(file.checksum);
      }
      expect(
        sweepRowFromManifest(JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'))).best,
      ).toEqual(JSON.parse(JSON.stringify(outcome.best)));
      expect(await readSweepDocument(dir, document.sweep_id)).toEqual(
        JSON.parse(JSON.stringify(document)),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cleanupSweeps', () => {
  it('removes completed sweep folders past the TTL and dead writers’ temp folders, nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-cleanup-'));
    try {
      const root = join(dir, 'sweeps');
      const old = '00000000-0000-4000-8000-00000000000a';
      const fresh = '00000000-0000-4000-8000-00000000000b';
      const day = 86_400_000;
      const now = Date.now() + 1000;
      for (const [id, finished] of [
        [old, now - 8 * day],
        [fresh, now - 1 * day],
      ] as const) {
        mkdirSync(join(root, id), { recursive: true });
        writeFileSync(
          join(root, id, 'manifest.json'),
          JSON.stringify({ finished_at: new Date(finished).toISOString() }),
        );
        writeFileSync(join(root, id, 'results.parquet'), 'x'.repeat(1000));
      }
      mkdirSync(join(root, `.${fresh}.1.abcd.tmp`));
      mkdirSync(join(root, 'not-a-sweep'));
      const removedRows: string[] = [];
      const policy = { now: new Date(now), resultTtlDays: 7, unfinishedGraceMs: -1 };
      const dry = await cleanupSweeps(dir, policy, true);
      expect(dry.removed.map((entry) => entry.id).sort()).toEqual([`.${fresh}.1.abcd.tmp`, old]);
      expect(readdirSync(root)).toHaveLength(4);
      const report = await cleanupSweeps(dir, policy, false, (id) =>
        Promise.resolve(removedRows.push(id)),
      );
      expect(report.count).toBe(2);
      expect(readdirSync(root).sort()).toEqual([fresh, 'not-a-sweep']);
      expect(removedRows).toEqual([old]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('results.parquet as DuckDB reads it', () => {
  it('every row, column and null as written: one per combination, window and symbol', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-duckdb-'));
    const instance = await DuckDBInstance.create(':memory:');
    const duckdb = await instance.connect();
    try {
      const plan = parseSweepRequest(
        {
          ...BASE,
          grid: { vol_multiplier: [1, 2, 3], hold_period_bars: [1, 6] },
          execution: { positions: 'single' },
          validation: { method: 'holdout' },
        },
        1000,
      );
      const results = await runAll(plan);
      const file = join(dir, 'results.parquet');
      writeFileSync(file, encodeSweepResults(plan, results));
      const rows = (
        await duckdb.runAndReadAll(
          `SELECT "index", vol_multiplier, hold_period_bars, "window", symbol, trades, total_return_pct, sharpe, profit_factor FROM read_parquet('${file}') ORDER BY "index", "window", symbol`,
        )
      ).getRowObjectsJS();
      expect(rows).toHaveLength(6 * 2 * 3);
      for (const row of rows) {
        const figures = results[Number(row.index)].windows[row.window as string].symbols.find(
          (s) => s.symbol === row.symbol,
        )!;
        expect(row).toEqual({
          index: Number(row.index),
          vol_multiplier: combinationParams(
            plan,
            getStrategy('volume_long_candle')!,
            Number(row.index),
          ).vol_multiplier,
          hold_period_bars: combinationParams(
            plan,
            getStrategy('volume_long_candle')!,
            Number(row.index),
          ).hold_period_bars,
          window: row.window,
          symbol: row.symbol,
          trades: figures.trades,
          total_return_pct: figures.total_return_pct,
          sharpe: figures.sharpe,
          profit_factor: figures.profit_factor,
        });
      }
      const described = (
        await duckdb.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)
      ).getRowObjectsJS();
      const types = Object.fromEntries(
        described.map((column) => [column.column_name, column.column_type]),
      );
      expect(types).toMatchObject({
        index: 'INTEGER',
        vol_ma_window: 'INTEGER',
        vol_multiplier: 'DOUBLE',
        window: 'VARCHAR',
        symbol: 'VARCHAR',
        candles: 'INTEGER',
        sharpe: 'DOUBLE',
      });
    } finally {
      duckdb.closeSync();
      instance.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
