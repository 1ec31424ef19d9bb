import { DEFAULT_EXECUTION, ExecutionSettings } from './execution';
import { StrategySignals } from './signals';
import { candlesOf } from './testing/candle-fixtures';
import { computeEquityCurve, computeMetrics, computeTrades, Trades } from './trades';

/** Trades with the given percent returns, each held one bar. */
function tradesReturning(returnPercent: number[]): Trades {
  return {
    entryIndex: Int32Array.from(returnPercent, (_, t) => t),
    exitIndex: Int32Array.from(returnPercent, (_, t) => t + 1),
    entryFill: new Float64Array(returnPercent.length).fill(1),
    exitFill: Float64Array.from(returnPercent, (r) => 1 + r / 100),
    returnFraction: Float64Array.from(returnPercent, (r) => r / 100),
    returnPercent: Float64Array.from(returnPercent),
    confidence: new Float64Array(returnPercent.length).fill(1),
    signalsSkipped: 0,
  };
}

const SINGLE: ExecutionSettings = { fee: 0, slippage: 0, positions: 'single' };

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
    const trades = computeTrades(
      closes([100, 102.5, 105, 99]),
      signalsAt([0], 2),
      DEFAULT_EXECUTION,
    );
    expect(Array.from(trades.exitIndex)).toEqual([2]);
    expect(Array.from(trades.returnFraction)).toEqual([0.05]);
    expect(Array.from(trades.returnPercent)).toEqual([5]);
  });

  it('exits a signal on the last bar at its own close: return 0, held 0 bars', () => {
    const trades = computeTrades(closes([100, 102.5, 105]), signalsAt([2], 1), DEFAULT_EXECUTION);
    expect(Array.from(trades.exitIndex)).toEqual([2]);
    expect(Array.from(trades.returnPercent)).toEqual([0]);
  });

  it('cuts a hold short at the last bar, and lets signals overlap', () => {
    const trades = computeTrades(
      closes([100, 110, 121, 133.1]),
      signalsAt([0, 1, 2], 2),
      DEFAULT_EXECUTION,
    );
    expect(Array.from(trades.exitIndex)).toEqual([2, 3, 3]);
    expect(Array.from(trades.returnPercent)).toEqual([
      ((121 - 100) / 100) * 100,
      ((133.1 - 110) / 110) * 100,
      ((133.1 - 121) / 121) * 100,
    ]);
  });
});

describe('computeTrades with costs (SPEC §12)', () => {
  it('fills above and below the closes and nets the fee off both fills', () => {
    // entry_fill = 100·1.0005 = 100.05, exit_fill = 110·0.9995 = 109.945;
    // r = (109.945·0.999 − 100.05·1.001) / (100.05·1.001) = (109.835055 − 100.15005) / 100.15005
    //   = 9.685005 / 100.15005 = 0.096704943...
    const trades = computeTrades(closes([100, 110]), signalsAt([0], 1), {
      fee: 0.001,
      slippage: 0.0005,
      positions: 'overlap',
    });
    expect(trades.entryFill[0]).toBeCloseTo(100.05, 12);
    expect(trades.exitFill[0]).toBeCloseTo(109.945, 12);
    expect(trades.returnFraction[0]).toBeCloseTo(9.685005 / 100.15005, 15);
    expect(trades.returnPercent[0]).toBe(trades.returnFraction[0] * 100);
  });

  it('charges the costs even on a trade held 0 bars at the last bar', () => {
    // r = (100·0.999 − 100·1.001) / (100·1.001) = −0.2 / 100.1
    const trades = computeTrades(closes([100]), signalsAt([0], 3), {
      fee: 0.001,
      slippage: 0,
      positions: 'overlap',
    });
    expect(Array.from(trades.exitIndex)).toEqual([0]);
    expect(trades.returnFraction[0]).toBeCloseTo(-0.2 / 100.1, 15);
  });

  it('with zero costs gives §3 (close[j] − close[i]) / close[i] bit for bit', () => {
    const prices = [0.1, 0.3, 0.7, 1.1, 2.9, 3.3, 0.00141342, 0.0169325, 30_000.5];
    const trades = computeTrades(
      closes(prices),
      signalsAt([0, 1, 2, 3, 4, 5, 6, 7, 8], 2),
      DEFAULT_EXECUTION,
    );
    trades.returnFraction.forEach((r, t) => {
      const j = Math.min(t + 2, prices.length - 1);
      expect(Object.is(r, (prices[j] - prices[t]) / prices[t])).toBe(true);
      expect(Object.is(trades.returnPercent[t], ((prices[j] - prices[t]) / prices[t]) * 100)).toBe(
        true,
      );
    });
    expect(Array.from(trades.entryFill)).toEqual(prices);
  });

  it('keeps every signal with overlap, and the confidence of each', () => {
    const signals = { ...signalsAt([0, 1, 2], 2), confidence: Float64Array.from([0.5, 0.6, 0.7]) };
    const trades = computeTrades(closes([1, 2, 3, 4]), signals, DEFAULT_EXECUTION);
    expect(Array.from(trades.entryIndex)).toEqual([0, 1, 2]);
    expect(Array.from(trades.confidence)).toEqual([0.5, 0.6, 0.7]);
    expect(trades.signalsSkipped).toBe(0);
  });
});

describe('computeTrades with positions: single', () => {
  it('takes a signal only after the exit bar of the last trade taken, counting the others', () => {
    // hold 2: 0→2 taken; 1, 2 skipped (2 is the exit bar itself); 3→5 taken; 4 skipped; 6→7 taken.
    const signals = {
      ...signalsAt([0, 1, 2, 3, 4, 6], 2),
      confidence: Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
    };
    const trades = computeTrades(closes([1, 2, 3, 4, 5, 6, 7, 8]), signals, SINGLE);
    expect(Array.from(trades.entryIndex)).toEqual([0, 3, 6]);
    expect(Array.from(trades.exitIndex)).toEqual([2, 5, 7]);
    expect(Array.from(trades.confidence)).toEqual([0.1, 0.4, 0.6]);
    expect(Array.from(trades.returnFraction)).toEqual([(3 - 1) / 1, (6 - 4) / 4, (8 - 7) / 7]);
    expect(trades.signalsSkipped).toBe(3);
  });

  it('skips nothing when the trades do not overlap', () => {
    const trades = computeTrades(closes([1, 2, 3, 4]), signalsAt([0, 2], 1), SINGLE);
    expect(Array.from(trades.entryIndex)).toEqual([0, 2]);
    expect(trades.signalsSkipped).toBe(0);
  });

  it('feeds only the trades taken to the metrics', () => {
    const trades = computeTrades(closes([100, 110, 121, 133.1]), signalsAt([0, 1, 2], 2), SINGLE);
    expect(computeMetrics(trades)).toEqual({
      samples: 1,
      win_rate: 1,
      avg_return: ((121 - 100) / 100) * 100,
      max_drawdown: 0,
      avg_hold_bars: 2,
    });
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
    const trades = computeTrades(
      closes([100, 101, 102, 103]),
      signalsAt([0, 2, 3], 2),
      DEFAULT_EXECUTION,
    );
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
