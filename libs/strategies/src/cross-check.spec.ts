/**
 * The production strategies against the deliberately naive reading of SPEC §3
 * (testing/naive-reference.ts): the same signal bars, and the same floats to the last bit
 * (the contract is ~1e-12 relative; the design gives bit-identity, so any drift is a bug).
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Candles } from '@app/common';
import { generateCandles } from '@app/data';
import { VolumeLongCandleParams, volumeLongCandle } from './volume-long-candle';
import { VolumeZoneBreakoutParams, volumeZoneBreakout } from './volume-zone-breakout';
import { DEFAULT_EXECUTION } from './execution';
import { buildSymbolResult } from './symbol-result';
import { StrategySignals } from './signals';
import { adversarialCandles, mirroredCandles, readCandleCsv } from './testing/candle-fixtures';
import {
  naiveTradeSummary,
  naiveVolumeLongCandle,
  naiveVolumeZoneBreakout,
  NaiveSignals,
  noTies,
} from './testing/naive-reference';

jest.setTimeout(120_000);

const LONG_CANDLE_CASES: VolumeLongCandleParams[] = [
  { vol_ma_window: 20, vol_multiplier: 1.5, body_pct: 0.02, hold_period_bars: 1 },
  { vol_ma_window: 20, vol_multiplier: 1.0, body_pct: 0.001, hold_period_bars: 5 },
  { vol_ma_window: 1, vol_multiplier: 1.0, body_pct: 0.001, hold_period_bars: 100 },
  { vol_ma_window: 2, vol_multiplier: 1.0, body_pct: 0.02, hold_period_bars: 1 },
  { vol_ma_window: 500, vol_multiplier: 1.0, body_pct: 0.005, hold_period_bars: 5 },
  { vol_ma_window: 10, vol_multiplier: 2.5, body_pct: 0.01, hold_period_bars: 100 },
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
    volume_window: 60,
    top_percentile: 0.5,
    breakout_buffer: 0,
    hold_period_bars: 1,
    num_bins: 5,
    include_wicks: true,
  },
  {
    volume_window: 10,
    top_percentile: 0.2,
    breakout_buffer: 0,
    hold_period_bars: 100,
    num_bins: 100,
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
    hold_period_bars: 5,
    num_bins: 50,
    include_wicks: false,
  },
  {
    volume_window: 500,
    top_percentile: 0.5,
    breakout_buffer: 0,
    hold_period_bars: 100,
    num_bins: 5,
    include_wicks: false,
  },
  {
    volume_window: 200,
    top_percentile: 0.05,
    breakout_buffer: 0,
    hold_period_bars: 1,
    num_bins: 100,
    include_wicks: true,
  },
];

function expectSameSignals(actual: StrategySignals, expected: NaiveSignals): void {
  expect(Array.from(actual.indices)).toEqual(expected.indices);
  expect(Array.from(actual.confidence)).toEqual(expected.confidence);
}

/** The metrics and trade fields of the result document against the naive trade summary. */
function expectSameResult(candles: Candles, actual: StrategySignals): void {
  const { result } = buildSymbolResult('TEST_SYM', candles, actual, DEFAULT_EXECUTION, '1M');
  const naive = naiveTradeSummary(candles.close, Array.from(actual.indices), actual.holdPeriodBars);
  expect(result.signals.map((signal) => signal.return_pct * 100)).toEqual(naive.returns);
  expect(result.performance_curve.map((point) => point.equity)).toEqual(naive.equity);
  expect([result.win_rate, result.avg_return, result.max_drawdown, result.avg_hold_bars]).toEqual([
    naive.win_rate,
    naive.avg_return,
    naive.max_drawdown,
    naive.avg_hold_bars,
  ]);
}

function crossCheck(candles: Candles): void {
  for (const params of LONG_CANDLE_CASES) {
    const actual = volumeLongCandle(candles, params);
    expectSameSignals(actual, naiveVolumeLongCandle(candles, params));
    expectSameResult(candles, actual);
  }
  for (const params of ZONE_BREAKOUT_CASES) {
    const actual = volumeZoneBreakout(candles, params);
    expectSameSignals(actual, naiveVolumeZoneBreakout(candles, params));
    expectSameResult(candles, actual);
  }
}

// Real Binance candles, kept in the repository as fixtures.
const SHARED_CSV_DIR = resolve(__dirname, '../../../test/fixtures/binance');
const sharedFiles = readdirSync(SHARED_CSV_DIR).filter((name) => name.endsWith('.csv'));

describe('on the real Binance candles (test/fixtures/binance)', () => {
  it('finds the files', () => {
    expect(sharedFiles.length).toBeGreaterThan(0);
  });

  it.each(sharedFiles)('%s: identical signals, confidences and metrics', (name) => {
    crossCheck(readCandleCsv(join(SHARED_CSV_DIR, name)));
  });
});

describe('on seeded adversarial data full of exact ties', () => {
  const seeds = Array.from({ length: 12 }, (_, i) => i + 1);

  it.each(seeds)('seed %i: identical signals, confidences and metrics', (seed) => {
    crossCheck(adversarialCandles(seed, 2_500));
  });

  it('really contains the ties that would expose rounding differences', () => {
    const ties = noTies();
    for (const seed of seeds.slice(0, 4)) {
      const candles = adversarialCandles(seed, 2_500);
      for (const params of LONG_CANDLE_CASES) naiveVolumeLongCandle(candles, params, ties);
      for (const params of ZONE_BREAKOUT_CASES) naiveVolumeZoneBreakout(candles, params, ties);
    }
    expect(ties.surge).toBeGreaterThan(1000);
    expect(ties.body).toBeGreaterThan(100);
    expect(ties.topPercentile).toBeGreaterThan(30);
    expect(ties.level).toBeGreaterThan(100);
  });
});

describe('on mirrored windows, whose resistance ties in exact arithmetic but not in floating point', () => {
  const cases: VolumeZoneBreakoutParams[] = [4, 10, 20].flatMap((num_bins) =>
    [10, 20].flatMap((volume_window) =>
      [true, false].map((include_wicks) => ({
        volume_window,
        top_percentile: 0.5,
        breakout_buffer: 0,
        hold_period_bars: 1,
        num_bins,
        include_wicks,
      })),
    ),
  );

  it.each(Array.from({ length: 8 }, (_, i) => i + 1))('seed %i: identical signals', (seed) => {
    const candles = mirroredCandles(seed, 1_000);
    for (const params of cases) {
      expectSameSignals(
        volumeZoneBreakout(candles, params),
        naiveVolumeZoneBreakout(candles, params),
      );
    }
  });
});

describe('on the benchmark generator', () => {
  it('identical signals on 20,000 one-minute candles', () => {
    crossCheck(
      generateCandles({ count: 20_000, startMs: Date.UTC(2024, 0, 1), stepMs: 60_000, seed: 7 }),
    );
  });
});
