import { Candles } from '@app/common';
import { StrategySignals } from './signals';

/** The trades of one run, parallel to the signals (SPEC §3: signals may overlap). */
export interface Trades {
  readonly entryIndex: Int32Array;
  /** j = min(i + hold_period_bars, n - 1). */
  readonly exitIndex: Int32Array;
  /** (close[j] - close[i]) / close[i]: the fraction the result document reports. */
  readonly returnFraction: Float64Array;
  /** r = that fraction * 100, the percent the metrics are defined over. */
  readonly returnPercent: Float64Array;
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

export function computeTrades(candles: Candles, signals: StrategySignals): Trades {
  const { close } = candles;
  const count = signals.indices.length;
  const lastBar = candles.length - 1;
  const entryIndex = signals.indices;
  const exitIndex = new Int32Array(count);
  const returnFraction = new Float64Array(count);
  const returnPercent = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    const entry = entryIndex[t];
    const exit = Math.min(entry + signals.holdPeriodBars, lastBar);
    exitIndex[t] = exit;
    // The spec's order, (close[j] - close[i]) / close[i] * 100: the fraction is its first part.
    returnFraction[t] = (close[exit] - close[entry]) / close[entry];
    returnPercent[t] = returnFraction[t] * 100;
  }
  return { entryIndex, exitIndex, returnFraction, returnPercent };
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

/** Equity after each trade, in signal order: equity *= 1 + r / 100, from 1.0. */
export function computeEquityCurve(trades: Trades): Float64Array {
  const equity = new Float64Array(trades.returnPercent.length);
  let value = 1;
  for (let t = 0; t < equity.length; t++) {
    value *= 1 + trades.returnPercent[t] / 100;
    equity[t] = value;
  }
  return equity;
}
