import { Candles } from '@app/common';
import { computeBarEquity } from './bar-equity';
import { ExecutionSettings } from './execution';
import { createIsoFormatter } from './iso-time';
import { PortfolioMember, portfolioMemberOf } from './portfolio';
import { StrategySignals } from './signals';
import { calendarOfTimeframe, computeSymbolStats, SymbolStats } from './statistics';
import { computeEquityCurve, computeMetrics, computeTrades, TradeMetrics, Trades } from './trades';

/** One trade of the result document (SPEC §4, §12). */
export interface SignalRecord {
  symbol: string;
  type: 'buy';
  /** The signal (entry) bar's timestamp, ISO-8601 UTC with milliseconds and "Z". */
  timestamp: string;
  /** The exit bar's timestamp, likewise. */
  exit_timestamp: string;
  /** close[i]. */
  entry_price: number;
  /** close[j]. */
  exit_price: number;
  /** close[i]·(1 + slippage). */
  entry_fill: number;
  /** close[j]·(1 − slippage). */
  exit_fill: number;
  /** j − i. */
  hold_bars: number;
  /** The net return r, a fraction: 0.05 = 5%. */
  return_pct: number;
  confidence: number;
}

/** Equity after a trade; `timestamp` is that trade's entry (signal) timestamp. */
export interface EquityPoint {
  timestamp: string;
  equity: number;
}

/** The per-symbol part of the result document (SPEC §4, §10.6, §12), named as in the JSON. */
export interface SymbolResult extends TradeMetrics {
  symbol: string;
  /** Whether the symbol counts in the portfolio; true when written (SPEC §10.6). */
  is_active: boolean;
  /** Candles in the requested range. */
  candles: number;
  stats: SymbolStats;
  signals: SignalRecord[];
  performance_curve: EquityPoint[];
}

/** Everything one symbol's run gives, before any of it is turned into JSON. */
export interface SymbolEvaluation {
  readonly trades: Trades;
  readonly metrics: TradeMetrics;
  /** E_1..E_k, the performance curve's values. */
  readonly equityCurve: Float64Array;
  readonly stats: SymbolStats;
  readonly portfolio: PortfolioMember;
}

export interface EvaluateOptions {
  /**
   * positions single: where to write the bar equity (candles.length values) instead of a new
   * array, so a sweep can reuse one buffer per series; the returned member refers to it.
   */
  readonly barEquityBuffer?: Float64Array;
}

/**
 * Trades, metrics, stats and portfolio member of one symbol's signals, without the result
 * document's records (what a parameter sweep needs). `timeframe` picks the periods of the
 * `positions: single` figures (weeks for 1W, UTC days otherwise).
 */
export function evaluateSymbol(
  candles: Candles,
  strategySignals: StrategySignals,
  execution: ExecutionSettings,
  timeframe: string,
  options: EvaluateOptions = {},
): SymbolEvaluation {
  const trades = computeTrades(candles, strategySignals, execution);
  const equityCurve = computeEquityCurve(trades);
  const barEquity =
    execution.positions === 'single'
      ? computeBarEquity(candles.close, trades, execution.fee, options.barEquityBuffer)
      : null;
  const stats = computeSymbolStats(
    candles,
    trades,
    equityCurve,
    barEquity,
    calendarOfTimeframe(timeframe),
  );
  const account = barEquity === null ? null : { timestamp: candles.timestamp, equity: barEquity };
  return {
    trades,
    metrics: computeMetrics(trades),
    equityCurve,
    stats,
    portfolio: portfolioMemberOf(trades, equityCurve, account),
  };
}

/**
 * One symbol's entry of the result document (plain data, JSON as it is) and what the
 * document's portfolio needs of it (typed arrays, not for JSON: `computePortfolio` over the
 * active symbols' members).
 */
export interface SymbolRun {
  readonly result: SymbolResult;
  readonly portfolio: PortfolioMember;
  /** The trades by bar index, for what is drawn of them (the run's chart data). */
  readonly trades: Trades;
}

/** Turns one symbol's candles and strategy output into its entry of the result document. */
export function buildSymbolResult(
  symbol: string,
  candles: Candles,
  strategySignals: StrategySignals,
  execution: ExecutionSettings,
  timeframe: string,
): SymbolRun {
  const { trades, metrics, equityCurve, stats, portfolio } = evaluateSymbol(
    candles,
    strategySignals,
    execution,
    timeframe,
  );
  const signals: SignalRecord[] = [];
  const performanceCurve: EquityPoint[] = [];
  const isoTime = createIsoFormatter();
  for (let t = 0; t < trades.entryIndex.length; t++) {
    const entry = trades.entryIndex[t];
    const exit = trades.exitIndex[t];
    const timestamp = isoTime(candles.timestamp[entry]);
    signals.push({
      symbol,
      type: 'buy',
      timestamp,
      exit_timestamp: isoTime(candles.timestamp[exit]),
      entry_price: candles.close[entry],
      exit_price: candles.close[exit],
      entry_fill: trades.entryFill[t],
      exit_fill: trades.exitFill[t],
      hold_bars: exit - entry,
      return_pct: trades.returnFraction[t],
      confidence: trades.confidence[t],
    });
    performanceCurve.push({ timestamp, equity: equityCurve[t] });
  }
  return {
    result: {
      symbol,
      is_active: true,
      candles: candles.length,
      ...metrics,
      stats,
      signals,
      performance_curve: performanceCurve,
    },
    portfolio,
    trades,
  };
}
