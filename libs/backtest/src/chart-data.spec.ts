import { generateCandles } from '@app/data';
import {
  buildSymbolResult,
  computeBarEquity,
  DEFAULT_EXECUTION,
  ExecutionSettings,
  resolveParams,
} from '@app/strategies';
import { candlesOf } from '../../strategies/src/testing/candle-fixtures';
import { buildSymbolChart, decodeDeltaSeconds } from './chart-data';

const MINUTE_S = 60;
const T0 = Date.UTC(2024, 0, 1) / 1000;

/** Trades by bar index with their percent returns. */
function tradesOf(entries: number[], exits: number[], returns: number[]) {
  return {
    entryIndex: Int32Array.from(entries),
    exitIndex: Int32Array.from(exits),
    returnPercent: Float64Array.from(returns),
  };
}

describe('buildSymbolChart', () => {
  const candles = candlesOf([
    [10, 12, 9, 11, 1],
    [11, 15, 10, 14, 2],
    [14, 14, 8, 9, 3],
    [9, 10, 7, 8, 4],
    [8, 9, 8, 9, 5],
  ]);

  it('aggregates consecutive candles into at most overviewMaxBars bars (OHLC, volume summed)', () => {
    const chart = buildSymbolChart('A_B', candles, tradesOf([], [], []), null, {
      overviewMaxBars: 2,
      maxMarkers: 10,
    });
    expect(chart.bucket_candles).toBe(3);
    expect(chart.overview).toEqual({
      // The first bar's time itself, then the 3 minutes to the second bar.
      time: [T0, 3 * MINUTE_S],
      open: [10, 9],
      high: [15, 10],
      low: [8, 7],
      close: [9, 9],
      volume: [6, 9],
    });
    expect(decodeDeltaSeconds(chart.overview.time)).toEqual([T0, T0 + 3 * MINUTE_S]);
  });

  it('keeps the candles as they are when they fit', () => {
    const chart = buildSymbolChart('A_B', candles, tradesOf([], [], []), null);
    expect(chart.bucket_candles).toBe(1);
    expect(chart.overview.close).toEqual([11, 14, 9, 8, 9]);
    expect(decodeDeltaSeconds(chart.overview.time)).toEqual(
      [0, 1, 2, 3, 4].map((i) => T0 + i * 60),
    );
  });

  it('gives every entry and exit time, or counts per bar past the marker cap', () => {
    const trades = tradesOf([0, 1, 3], [1, 2, 4], [10, -5, 2]);
    const marked = buildSymbolChart('A_B', candles, trades, null, {
      overviewMaxBars: 2,
      maxMarkers: 6,
    });
    expect(marked.trade_count).toBe(3);
    expect(decodeDeltaSeconds(marked.trades!.entry_time)).toEqual([T0, T0 + 60, T0 + 180]);
    expect(decodeDeltaSeconds(marked.trades!.exit_time)).toEqual([T0 + 60, T0 + 120, T0 + 240]);
    expect(marked.marker_counts).toBeNull();

    const counted = buildSymbolChart('A_B', candles, trades, null, {
      overviewMaxBars: 2,
      maxMarkers: 5,
    });
    expect(counted.trades).toBeNull();
    expect(counted.marker_counts).toEqual({ entries: [2, 1], exits: [2, 1] });
  });

  it('overlap: the compounded equity after the trades exited by each bar, the deepest drawdown in it', () => {
    // E: 1.1 (exit bar 1), then 1.1·0.95 = 1.045 (bar 2), then 1.045·1.02 = 1.0659 (bar 4).
    const chart = buildSymbolChart(
      'A_B',
      candles,
      tradesOf([0, 1, 3], [1, 2, 4], [10, -5, 2]),
      null,
      {
        overviewMaxBars: 2,
        maxMarkers: 10,
      },
    );
    expect(chart.equity.basis).toBe('trade_equity');
    expect(chart.equity.equity).toEqual([1.045, 1.0659]);
    // 1 − 1.045/1.1 = 5 %, still 5 % into bar 2 until the exit at bar 4 (3.1 %).
    expect(chart.equity.drawdown_pct).toEqual([5, 5]);
  });

  it('single: the bar equity at each bar’s last candle, the drawdown over every candle', () => {
    const barEquity = Float64Array.from([1, 1.2, 0.9, 1.0, 1.3]);
    const chart = buildSymbolChart('A_B', candles, tradesOf([], [], []), barEquity, {
      overviewMaxBars: 2,
      maxMarkers: 10,
    });
    expect(chart.equity.basis).toBe('bar_equity');
    expect(chart.equity.equity).toEqual([0.9, 1.3]);
    expect(chart.equity.drawdown_pct).toEqual([25, 16.6667]);
  });

  describe('on a year of generated one-minute candles', () => {
    const year = generateCandles({
      count: 525_600,
      startMs: Date.UTC(2023, 0, 1),
      stepMs: 60_000,
      seed: 7,
    });
    const { strategy, params } = resolveParams('volume_long_candle', {});

    it.each<ExecutionSettings['positions']>(['overlap', 'single'])(
      '%s: the drawdown series peaks at the stats figure, the markers are the trades',
      (positions) => {
        const execution = { ...DEFAULT_EXECUTION, fee: 0.001, positions };
        const run = buildSymbolResult('A_B', year, strategy.run(year, params, {}), execution, '1M');
        const barEquity =
          positions === 'single' ? computeBarEquity(year.close, run.trades, execution.fee) : null;
        const chart = buildSymbolChart('A_B', year, run.trades, barEquity, {
          overviewMaxBars: 2000,
          maxMarkers: 4 * run.trades.entryIndex.length,
        });
        // 263 candles a bar: 1,999 bars, the last one short.
        expect(chart.bucket_candles).toBe(Math.ceil(525_600 / 2000));
        expect(chart.overview.time).toHaveLength(Math.ceil(525_600 / chart.bucket_candles));
        expect(chart.overview.volume.reduce((a, b) => a + b, 0)).toBeCloseTo(
          year.volume.reduce((a, b) => a + b, 0),
          0,
        );
        const expected =
          positions === 'single'
            ? run.result.stats.max_drawdown_pct!
            : run.result.stats.compounded_max_drawdown_pct!;
        expect(Math.max(...chart.equity.drawdown_pct)).toBeCloseTo(expected, 4);
        const finalEquity =
          positions === 'single' ? barEquity![barEquity!.length - 1] : run.portfolio.finalEquity;
        expect(chart.equity.equity.at(-1)).toBeCloseTo(finalEquity, 6);
        const entries = decodeDeltaSeconds(chart.trades!.entry_time);
        expect(entries).toEqual(run.result.signals.map((s) => Date.parse(s.timestamp) / 1000));
        const exits = decodeDeltaSeconds(chart.trades!.exit_time);
        expect(exits).toEqual(run.result.signals.map((s) => Date.parse(s.exit_timestamp) / 1000));
      },
    );
  });
});
