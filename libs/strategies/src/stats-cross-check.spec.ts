/**
 * The production trades, stats and portfolio (trades.ts, bar-equity.ts, statistics.ts,
 * portfolio.ts) against the deliberately naive reading of SPEC §12 (testing/naive-stats.ts),
 * on the real Binance fixtures and on generated daily and weekly series, with and without
 * costs, in both position modes, over many parameter sets of both strategies. Every figure
 * is compared for exact equality (Jest's toEqual compares numbers with Object.is): both sides
 * do the same operations in the same order, so any difference is a bug, not rounding.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Candles } from '@app/common';
import { generateCandles } from '@app/data';
import { DEFAULT_EXECUTION, ExecutionSettings } from './execution';
import { computePortfolio, rebuildPortfolioMember } from './portfolio';
import { StrategySignals } from './signals';
import { buildSymbolResult, SymbolRun } from './symbol-result';
import { readCandleCsv } from './testing/candle-fixtures';
import { naiveTradeSummary } from './testing/naive-reference';
import { naivePortfolio, naiveSymbol, NaiveSymbol } from './testing/naive-stats';
import { VolumeLongCandleParams, volumeLongCandle } from './volume-long-candle';
import { VolumeZoneBreakoutParams, volumeZoneBreakout } from './volume-zone-breakout';

jest.setTimeout(300_000);

// A module-level copy: Jest's vm context makes a global lookup in a hot loop slow.
const { is: sameValue } = Object;

const EXECUTIONS: ExecutionSettings[] = [
  DEFAULT_EXECUTION,
  { fee: 0, slippage: 0, positions: 'single' },
  { fee: 0.001, slippage: 0.0005, positions: 'overlap' },
  { fee: 0.001, slippage: 0.0005, positions: 'single' },
  { fee: 0.0002, slippage: 0.003, positions: 'single' },
  { fee: 0.05, slippage: 0.05, positions: 'overlap' },
  { fee: 0.05, slippage: 0.05, positions: 'single' },
];

const LONG_CANDLE_CASES: VolumeLongCandleParams[] = [
  { vol_ma_window: 20, vol_multiplier: 1.5, body_pct: 0.02, hold_period_bars: 1 },
  { vol_ma_window: 20, vol_multiplier: 1.0, body_pct: 0.001, hold_period_bars: 5 },
  { vol_ma_window: 1, vol_multiplier: 1.0, body_pct: 0.001, hold_period_bars: 100 },
  { vol_ma_window: 50, vol_multiplier: 1.2, body_pct: 0.002, hold_period_bars: 12 },
  { vol_ma_window: 5, vol_multiplier: 1.0, body_pct: 0.001, hold_period_bars: 1 },
];

const ZONE_BREAKOUT_CASES: VolumeZoneBreakoutParams[] = [
  {
    volume_window: 60,
    top_percentile: 0.2,
    breakout_buffer: 0.01,
    hold_period_bars: 1,
    num_bins: 20,
    include_wicks: true,
  },
  {
    volume_window: 60,
    top_percentile: 0.05,
    breakout_buffer: 0,
    hold_period_bars: 5,
    num_bins: 20,
    include_wicks: true,
  },
  {
    volume_window: 10,
    top_percentile: 0.5,
    breakout_buffer: 0,
    hold_period_bars: 1,
    num_bins: 5,
    include_wicks: false,
  },
  {
    volume_window: 30,
    top_percentile: 0.3,
    breakout_buffer: 0.002,
    hold_period_bars: 30,
    num_bins: 50,
    include_wicks: false,
  },
];

/** Every parameter set of both strategies, as a function from candles to signals. */
const STRATEGY_RUNS: Array<{ name: string; run: (candles: Candles) => StrategySignals }> = [
  ...LONG_CANDLE_CASES.map((params) => ({
    name: `volume_long_candle ${JSON.stringify(params)}`,
    run: (candles: Candles) => volumeLongCandle(candles, params),
  })),
  ...ZONE_BREAKOUT_CASES.map((params) => ({
    name: `volume_zone_breakout ${JSON.stringify(params)}`,
    run: (candles: Candles) => volumeZoneBreakout(candles, params),
  })),
];

/** The fields of a stored signal, in the document's order. */
const SIGNAL_FIELDS = [
  'symbol',
  'type',
  'timestamp',
  'exit_timestamp',
  'entry_price',
  'exit_price',
  'entry_fill',
  'exit_fill',
  'hold_bars',
  'return_pct',
  'confidence',
] as const;

/**
 * Element by element with Object.is (the same bits, -0 apart from 0); Jest's diff only when
 * they differ, since toEqual over thousands of records is slow.
 */
function expectSameValues(label: string, actual: unknown[], expected: unknown[]): void {
  const same =
    actual.length === expected.length && actual.every((value, t) => sameValue(value, expected[t]));
  if (!same) expect({ [label]: actual }).toEqual({ [label]: expected });
}

interface Series {
  symbol: string;
  timeframe: string;
  candles: Candles;
}

/** One symbol run both ways, checked field by field; returns both for the portfolio. */
function runBothWays(
  series: Series,
  signals: StrategySignals,
  execution: ExecutionSettings,
): { run: SymbolRun; naive: NaiveSymbol } {
  const { symbol, timeframe, candles } = series;
  const run = buildSymbolResult(symbol, candles, signals, execution, timeframe);
  const naive = naiveSymbol(
    candles,
    signals.indices,
    signals.confidence,
    signals.holdPeriodBars,
    execution,
    timeframe,
  );
  const { result } = run;
  expect(result.signals.length).toBe(naive.trades.length);
  if (result.signals.length > 0) expect(Object.keys(result.signals[0])).toEqual(SIGNAL_FIELDS);
  for (const field of SIGNAL_FIELDS) {
    expectSameValues(
      `signals[].${field}`,
      result.signals.map((signal) => signal[field]),
      naive.trades.map((trade) =>
        field === 'symbol' ? symbol : field === 'type' ? 'buy' : trade[field],
      ),
    );
  }
  expectSameValues(
    'performance_curve[].equity',
    result.performance_curve.map((point) => point.equity),
    naive.curve,
  );
  expectSameValues(
    'performance_curve[].timestamp',
    result.performance_curve.map((point) => point.timestamp),
    naive.trades.map((trade) => trade.timestamp),
  );
  expect({
    samples: result.samples,
    win_rate: result.win_rate,
    avg_return: result.avg_return,
    max_drawdown: result.max_drawdown,
    avg_hold_bars: result.avg_hold_bars,
  }).toEqual(naive.metrics);
  expect(result.stats).toEqual(naive.stats);
  expect(run.portfolio.account === null).toBe(naive.barEquity === null);
  if (naive.barEquity !== null) {
    expectSameValues('bar equity', Array.from(run.portfolio.account!.equity), naive.barEquity);
  }
  expect(result.is_active).toBe(true);
  return { run, naive };
}

/**
 * A document of several symbols: the portfolio of every subset the tests switch on (all,
 * all but the first, the first alone, none), from the run's members and from members rebuilt
 * out of the stored JSON, against the naive portfolio of the same symbols.
 */
function checkPortfolio(
  seriesList: Series[],
  runs: Array<{ run: SymbolRun; naive: NaiveSymbol }>,
  execution: ExecutionSettings,
): void {
  const { timeframe } = seriesList[0];
  const stored = runs.map(
    ({ run }) => JSON.parse(JSON.stringify(run.result)) as SymbolRun['result'],
  );
  const rebuilt = stored.map((result, s) =>
    rebuildPortfolioMember(
      result.signals,
      execution,
      execution.positions === 'single' ? seriesList[s].candles : undefined,
    ),
  );
  const all = runs.map((_, s) => s);
  for (const active of [all, all.slice(1), all.slice(0, 1), []]) {
    const expected = naivePortfolio(
      active.map((s) => runs[s].naive),
      execution,
      timeframe,
    );
    const fromRun = computePortfolio(
      active.map((s) => runs[s].run.portfolio),
      execution,
      timeframe,
    );
    expect(fromRun).toEqual(expected);
    expect(
      computePortfolio(
        active.map((s) => rebuilt[s]),
        execution,
        timeframe,
      ),
    ).toEqual(expected);
  }
}

interface Coverage {
  trades: number;
  skipped: number;
  /** The stats and portfolio figures that came out as a number at least once. */
  figures: Set<string>;
}

function crossCheckDocument(seriesList: Series[]): Coverage {
  let trades = 0;
  let skipped = 0;
  const figures = new Set<string>();
  for (const { run: strategy } of STRATEGY_RUNS) {
    const signals = seriesList.map((series) => strategy(series.candles));
    for (const execution of EXECUTIONS) {
      const runs = seriesList.map((series, s) => runBothWays(series, signals[s], execution));
      checkPortfolio(seriesList, runs, execution);
      for (const { run } of runs) {
        trades += run.result.stats.trades;
        skipped += run.result.stats.signals_skipped;
        for (const [name, value] of Object.entries(run.result.stats)) {
          if (value !== null) figures.add(`stats.${name}`);
        }
      }
      const portfolio = computePortfolio(
        runs.map(({ run }) => run.portfolio),
        execution,
        seriesList[0].timeframe,
      );
      for (const [name, value] of Object.entries(portfolio)) {
        if (value !== null) figures.add(`portfolio.${name}`);
      }
    }
  }
  return { trades, skipped, figures };
}

/** Every figure of stats and portfolio: each must have been compared as a number somewhere. */
const EVERY_FIGURE = [
  ...[
    'trades',
    'signals_skipped',
    'total_return_pct',
    'compounded_max_drawdown_pct',
    'best_trade_pct',
    'worst_trade_pct',
    'profit_factor',
    'sqn',
    'buy_hold_return_pct',
    'exposure_pct',
    'cagr_pct',
    'return_ann_pct',
    'volatility_ann_pct',
    'sharpe',
    'sortino',
    'max_drawdown_pct',
    'calmar',
    'max_drawdown_duration_s',
  ].map((name) => `stats.${name}`),
  ...[
    'total_return_pct',
    'trades',
    'win_rate',
    'avg_return',
    'profit_factor',
    'sqn',
    'best_trade_pct',
    'worst_trade_pct',
    'return_ann_pct',
    'volatility_ann_pct',
    'sharpe',
    'sortino',
    'max_drawdown_pct',
    'calmar',
    'max_drawdown_duration_s',
  ].map((name) => `portfolio.${name}`),
];

const SHARED_CSV_DIR = resolve(__dirname, '../../../test/fixtures/binance');
const fixtureFiles = readdirSync(SHARED_CSV_DIR).filter((name) => name.endsWith('.csv'));

/** ETH_BTC-5m.csv → {symbol ETH_BTC, timeframe 5M}. */
function fixtureSeries(name: string): Series {
  const [symbol, timeframe] = name.replace(/\.csv$/, '').split('-');
  return {
    symbol,
    timeframe: timeframe.toUpperCase(),
    candles: readCandleCsv(join(SHARED_CSV_DIR, name)),
  };
}

const byTimeframe = new Map<string, Series[]>();
for (const name of fixtureFiles) {
  const series = fixtureSeries(name);
  byTimeframe.set(series.timeframe, [...(byTimeframe.get(series.timeframe) ?? []), series]);
}

describe('stats and portfolio against the naive reading of SPEC §12', () => {
  it('has fixtures of several symbols per timeframe', () => {
    expect([...byTimeframe.keys()].sort()).toEqual(['1M', '5M']);
    for (const seriesList of byTimeframe.values()) expect(seriesList.length).toBeGreaterThan(1);
  });

  it.each([...byTimeframe.keys()])(
    'real Binance candles at %s: every signal field, stats figure and portfolio figure',
    (timeframe) => {
      const { trades, skipped, figures } = crossCheckDocument(byTimeframe.get(timeframe)!);
      // The cases really trade, single positions really skip, and every figure is compared
      // as a number somewhere, not only as null.
      expect(trades).toBeGreaterThan(10_000);
      expect(skipped).toBeGreaterThan(1_000);
      expect(EVERY_FIGURE.filter((name) => !figures.has(name))).toEqual([]);
    },
  );

  it('generated daily candles with missing days, two symbols of different spans', () => {
    const start = Date.UTC(2022, 0, 3);
    const make = (seed: number, count: number, from: number): Series => {
      const full = generateCandles({ count, startMs: from, stepMs: 86_400_000, seed });
      // Drop about one day in eight: periods without a candle must be skipped, not filled.
      const keep = Array.from({ length: count }, (_, i) => i).filter(
        (i) => (i * 7 + seed) % 8 !== 0,
      );
      const candles = {
        length: keep.length,
        timestamp: Float64Array.from(keep, (i) => full.timestamp[i]),
        open: Float64Array.from(keep, (i) => full.open[i]),
        high: Float64Array.from(keep, (i) => full.high[i]),
        low: Float64Array.from(keep, (i) => full.low[i]),
        close: Float64Array.from(keep, (i) => full.close[i]),
        volume: Float64Array.from(keep, (i) => full.volume[i]),
      };
      return { symbol: `GEN${seed}_KRW`, timeframe: '1D', candles };
    };
    const { trades, figures } = crossCheckDocument([
      make(3, 730, start),
      make(4, 500, start + 100 * 86_400_000),
    ]);
    expect(trades).toBeGreaterThan(1_000);
    expect(EVERY_FIGURE.filter((name) => !figures.has(name))).toEqual([]);
  });

  it('generated weekly candles, opening Monday 00:00 UTC and Monday 00:00 KST', () => {
    const monday = Date.UTC(2019, 0, 7);
    const make = (seed: number, offsetMs: number): Series => ({
      symbol: `WEEK${seed}_KRW`,
      timeframe: '1W',
      candles: generateCandles({
        count: 260,
        startMs: monday + offsetMs,
        stepMs: 7 * 86_400_000,
        seed,
      }),
    });
    const { trades, figures } = crossCheckDocument([make(5, 0), make(6, -9 * 3_600_000)]);
    expect(trades).toBeGreaterThan(100);
    expect(EVERY_FIGURE.filter((name) => !figures.has(name))).toEqual([]);
  });
});

describe('zero costs and overlap: every figure that existed before is unchanged', () => {
  it.each(fixtureFiles)('%s: §3 returns, fills equal to the closes, §3 metrics', (name) => {
    const { candles, timeframe } = fixtureSeries(name);
    for (const { run: strategy } of STRATEGY_RUNS) {
      const signals = strategy(candles);
      const { result } = buildSymbolResult('SYM', candles, signals, DEFAULT_EXECUTION, timeframe);
      // The pre-§12 definitions: r = (close[j] − close[i]) / close[i], every signal a trade.
      const before = naiveTradeSummary(
        candles.close,
        Array.from(signals.indices),
        signals.holdPeriodBars,
      );
      expect(result.signals.map((signal) => signal.return_pct)).toEqual(
        Array.from(signals.indices, (i, t) => {
          const j = i + before.holds[t];
          return (candles.close[j] - candles.close[i]) / candles.close[i];
        }),
      );
      expect(result.signals.map((signal) => signal.return_pct * 100)).toEqual(before.returns);
      expect(result.signals.map((signal) => signal.entry_fill)).toEqual(
        result.signals.map((signal) => signal.entry_price),
      );
      expect(result.signals.map((signal) => signal.exit_fill)).toEqual(
        result.signals.map((signal) => signal.exit_price),
      );
      expect(result.signals.map((signal) => signal.confidence)).toEqual(
        Array.from(signals.confidence),
      );
      expect(result.performance_curve.map((point) => point.equity)).toEqual(before.equity);
      expect([
        result.samples,
        result.win_rate,
        result.avg_return,
        result.max_drawdown,
        result.avg_hold_bars,
      ]).toEqual([
        signals.indices.length,
        before.win_rate,
        before.avg_return,
        before.max_drawdown,
        before.avg_hold_bars,
      ]);
      expect(result.stats.signals_skipped).toBe(0);
    }
  });
});
