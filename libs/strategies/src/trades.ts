import { Candles } from '@app/common';
import { ExecutionSettings } from './execution';
import { StrategySignals } from './signals';

/**
 * The trades of one run, in signal order (SPEC §3, §12): with `positions: overlap` one per
 * signal (they may overlap), with `single` the signals taken, none opened before the previous
 * one's exit bar has passed.
 */
export interface Trades {
  readonly entryIndex: Int32Array;
  /** j = min(i + hold_period_bars, n - 1). */
  readonly exitIndex: Int32Array;
  /** close[i]·(1 + slippage). */
  readonly entryFill: Float64Array;
  /** close[j]·(1 − slippage). */
  readonly exitFill: Float64Array;
  /**
   * The net return r (a fraction, the result document's `return_pct`):
   * (exit_fill·(1 − fee) − entry_fill·(1 + fee)) / (entry_fill·(1 + fee)).
   */
  readonly returnFraction: Float64Array;
  /** r·100, the percent the metrics are defined over. */
  readonly returnPercent: Float64Array;
  /** The confidence of each trade's signal. */
  readonly confidence: Float64Array;
  /** Signals not taken because a trade was open (`positions: single`); 0 with `overlap`. */
  readonly signalsSkipped: number;
}

/** Per-symbol metrics of SPEC §3, named as in the result document. */
export interface TradeMetrics {
  samples: number;
  /** Share of trades with r > 0, 0..1; 0 when there are none. */
  win_rate: number;
  /** Mean r, in percent; 0 when there are no trades. */
  avg_return: number;
  /** Largest fall of the running sum of r below its running peak (from 0), in percent, >= 0. */
  max_drawdown: number;
  /** Mean j - i; 0 when there are no trades. */
  avg_hold_bars: number;
}

/**
 * The trades of the signals, with the costs of SPEC §12. With zero costs r is bit for bit
 * §3's (close[j] − close[i]) / close[i]: the fills are close·1 and close·1, the cost factors
 * 1 ± 0 = 1, and multiplying by 1 is exact.
 */
export function computeTrades(
  candles: Candles,
  signals: StrategySignals,
  execution: ExecutionSettings,
): Trades {
  const { close } = candles;
  const { fee, slippage } = execution;
  const single = execution.positions === 'single';
  const count = signals.indices.length;
  const lastBar = candles.length - 1;
  // With overlap every signal is a trade and the signals' own arrays serve as they are.
  const entryIndex = single ? new Int32Array(count) : signals.indices;
  const confidence = single ? new Float64Array(count) : signals.confidence;
  const exitIndex = new Int32Array(count);
  const entryFill = new Float64Array(count);
  const exitFill = new Float64Array(count);
  const returnFraction = new Float64Array(count);
  const returnPercent = new Float64Array(count);
  const entryPriceFactor = 1 + slippage;
  const exitPriceFactor = 1 - slippage;
  const entryCostFactor = 1 + fee;
  const exitCostFactor = 1 - fee;
  let taken = 0;
  let lastExit = -1;
  for (let s = 0; s < count; s++) {
    const entry = signals.indices[s];
    // single: a signal at bar k is taken only when k > j of the last trade taken.
    if (single && entry <= lastExit) continue;
    const exit = Math.min(entry + signals.holdPeriodBars, lastBar);
    const entryPrice = close[entry] * entryPriceFactor;
    const exitPrice = close[exit] * exitPriceFactor;
    const entryCost = entryPrice * entryCostFactor;
    // The spec's order: (exit_fill·(1−fee) − entry_fill·(1+fee)) / (entry_fill·(1+fee)).
    const r = (exitPrice * exitCostFactor - entryCost) / entryCost;
    if (single) {
      entryIndex[taken] = entry;
      confidence[taken] = signals.confidence[s];
    }
    exitIndex[taken] = exit;
    entryFill[taken] = entryPrice;
    exitFill[taken] = exitPrice;
    returnFraction[taken] = r;
    returnPercent[taken] = r * 100;
    lastExit = exit;
    taken++;
  }
  if (taken === count) {
    return {
      entryIndex,
      exitIndex,
      entryFill,
      exitFill,
      returnFraction,
      returnPercent,
      confidence,
      signalsSkipped: 0,
    };
  }
  return {
    entryIndex: entryIndex.slice(0, taken),
    exitIndex: exitIndex.slice(0, taken),
    entryFill: entryFill.slice(0, taken),
    exitFill: exitFill.slice(0, taken),
    returnFraction: returnFraction.slice(0, taken),
    returnPercent: returnPercent.slice(0, taken),
    confidence: confidence.slice(0, taken),
    signalsSkipped: count - taken,
  };
}

export function computeMetrics(trades: Trades): TradeMetrics {
  const returns = trades.returnPercent;
  const samples = returns.length;
  let wins = 0;
  let sum = 0;
  let peak = 0;
  let maxDrawdown = 0;
  let holdBars = 0;
  for (let t = 0; t < samples; t++) {
    const r = returns[t];
    if (r > 0) wins++;
    sum += r;
    if (sum > peak) peak = sum;
    if (peak - sum > maxDrawdown) maxDrawdown = peak - sum;
    holdBars += trades.exitIndex[t] - trades.entryIndex[t];
  }
  return {
    samples,
    win_rate: samples === 0 ? 0 : wins / samples,
    avg_return: samples === 0 ? 0 : sum / samples,
    max_drawdown: maxDrawdown,
    avg_hold_bars: samples === 0 ? 0 : holdBars / samples,
  };
}

/**
 * Equity after each trade, in signal order: equity *= 1 + r / 100 with r in percent, from 1.0
 * (SPEC §3's performance curve; §12's E_1..E_k are these values, so they stay bit-identical to
 * the curve every result has carried).
 */
export function computeEquityCurve(trades: Pick<Trades, 'returnPercent'>): Float64Array {
  const equity = new Float64Array(trades.returnPercent.length);
  let value = 1;
  for (let t = 0; t < equity.length; t++) {
    value *= 1 + trades.returnPercent[t] / 100;
    equity[t] = value;
  }
  return equity;
}
