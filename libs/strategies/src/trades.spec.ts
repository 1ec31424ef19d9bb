import { StrategySignals } from './signals';
import { candlesOf } from './testing/candle-fixtures';
import { computeEquityCurve, computeMetrics, computeTrades, Trades } from './trades';

/** Trades with the given percent returns, each held one bar. */
function tradesReturning(returnPercent: number[]): Trades {
  return {
    entryIndex: Int32Array.from(returnPercent, (_, t) => t),
    exitIndex: Int32Array.from(returnPercent, (_, t) => t + 1),
    returnFraction: Float64Array.from(returnPercent, (r) => r / 100),
    returnPercent: Float64Array.from(returnPercent),
  };
}

function signalsAt(indices: number[], holdPeriodBars: number): StrategySignals {
  return {
    indices: Int32Array.from(indices),
    confidence: new Float64Array(indices.length).fill(1),
    holdPeriodBars,
  };
}

const closes = (values: number[]) =>
  candlesOf(values.map((close) => [close, close, close, close, 1]));

describe('computeTrades', () => {
  it('enters at the signal close and exits hold_period_bars later', () => {
    const trades = computeTrades(closes([100, 102.5, 105, 99]), signalsAt([0], 2));
    expect(Array.from(trades.exitIndex)).toEqual([2]);
    expect(Array.from(trades.returnFraction)).toEqual([0.05]);
    expect(Array.from(trades.returnPercent)).toEqual([5]);
  });

  it('exits a signal on the last bar at its own close: return 0, held 0 bars', () => {
    const trades = computeTrades(closes([100, 102.5, 105]), signalsAt([2], 1));
    expect(Array.from(trades.exitIndex)).toEqual([2]);
    expect(Array.from(trades.returnPercent)).toEqual([0]);
  });

  it('cuts a hold short at the last bar, and lets signals overlap', () => {
    const trades = computeTrades(closes([100, 110, 121, 133.1]), signalsAt([0, 1, 2], 2));
    expect(Array.from(trades.exitIndex)).toEqual([2, 3, 3]);
    expect(Array.from(trades.returnPercent)).toEqual([
      ((121 - 100) / 100) * 100,
      ((133.1 - 110) / 110) * 100,
      ((133.1 - 121) / 121) * 100,
    ]);
  });
});

describe('computeMetrics', () => {
  it('measures the drawdown of [2, 3, -5, 1, 2] as 5: the running sum falls from 5 to 0', () => {
    expect(computeMetrics(tradesReturning([2, 3, -5, 1, 2])).max_drawdown).toBe(5);
  });

  it('measures the drawdown of [-5, 1] as 5: the peak starts at 0, before the first trade', () => {
    expect(computeMetrics(tradesReturning([-5, 1])).max_drawdown).toBe(5);
  });

  it('has no drawdown when the running sum only rises', () => {
    expect(computeMetrics(tradesReturning([1, 0, 2])).max_drawdown).toBe(0);
  });

  it('counts only positive returns as wins and averages in percent', () => {
    expect(computeMetrics(tradesReturning([2, 0, -1, 3]))).toEqual({
      samples: 4,
      win_rate: 0.5,
      avg_return: 1,
      max_drawdown: 1,
      avg_hold_bars: 1,
    });
  });

  it('averages the bars actually held', () => {
    const trades = computeTrades(closes([100, 101, 102, 103]), signalsAt([0, 2, 3], 2));
    expect(computeMetrics(trades).avg_hold_bars).toBe((2 + 1 + 0) / 3);
  });

  it('is all zeros without trades', () => {
    expect(computeMetrics(tradesReturning([]))).toEqual({
      samples: 0,
      win_rate: 0,
      avg_return: 0,
      max_drawdown: 0,
      avg_hold_bars: 0,
    });
  });
});

describe('computeEquityCurve', () => {
  it('compounds each trade from 1.0 in signal order', () => {
    expect(Array.from(computeEquityCurve(tradesReturning([10, -10, 0])))).toEqual([
      1.1,
      1.1 * 0.9,
      1.1 * 0.9,
    ]);
  });
});
