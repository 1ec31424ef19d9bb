import { Candles } from '@app/common';
import { DEFAULT_EXECUTION } from './execution';
import { StrategySignals } from './signals';
import { computeEquityCurve, computeMetrics, computeTrades, TradeMetrics } from './trades';

/** One trade of the result document (SPEC §4). */
export interface SignalRecord {
  symbol: string;
  type: 'buy';
  /** The signal (entry) bar's timestamp, ISO-8601 UTC with milliseconds and "Z". */
  timestamp: string;
  entry_price: number;
  exit_price: number;
  /** A fraction: 0.05 = 5%. */
  return_pct: number;
  confidence: number;
}

/** Equity after a trade; `timestamp` is that trade's entry (signal) timestamp. */
export interface EquityPoint {
  timestamp: string;
  equity: number;
}

/** The per-symbol part of the result document (SPEC §4), named as in the JSON. */
export interface SymbolResult extends TradeMetrics {
  symbol: string;
  /** Candles in the requested range. */
  candles: number;
  signals: SignalRecord[];
  performance_curve: EquityPoint[];
}

/** Turns one symbol's candles and strategy output into its entry of the result document. */
export function buildSymbolResult(
  symbol: string,
  candles: Candles,
  strategySignals: StrategySignals,
): SymbolResult {
  // Costs and positions reach the result document in a later step; until then, §3's trades.
  const trades = computeTrades(candles, strategySignals, DEFAULT_EXECUTION);
  const equity = computeEquityCurve(trades);
  const signals: SignalRecord[] = [];
  const performanceCurve: EquityPoint[] = [];
  for (let t = 0; t < trades.entryIndex.length; t++) {
    const entry = trades.entryIndex[t];
    const timestamp = new Date(candles.timestamp[entry]).toISOString();
    signals.push({
      symbol,
      type: 'buy',
      timestamp,
      entry_price: candles.close[entry],
      exit_price: candles.close[trades.exitIndex[t]],
      return_pct: trades.returnFraction[t],
      confidence: strategySignals.confidence[t],
    });
    performanceCurve.push({ timestamp, equity: equity[t] });
  }
  return {
    symbol,
    candles: candles.length,
    ...computeMetrics(trades),
    signals,
    performance_curve: performanceCurve,
  };
}
