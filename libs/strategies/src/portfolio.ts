/**
 * SPEC §12's `portfolio`: the active symbols of a document with equal capital each. What it
 * needs of a symbol (a PortfolioMember) is either taken from the run (`portfolioMemberOf`) or
 * rebuilt later from the stored result (`rebuildPortfolioMember`), so switching a symbol
 * inactive (SPEC §10.6) recomputes the portfolio without running the strategy again; both
 * give the same bits.
 */
import { Candles } from '@app/common';
import { computeBarEquity } from './bar-equity';
import { ExecutionSettings } from './execution';
import {
  accountStatistics,
  AccountStatistics,
  bestTradePct,
  calendarOfTimeframe,
  Figure,
  finalEquity,
  finiteOrNull,
  NO_ACCOUNT_STATISTICS,
  profitFactor,
  systemQualityNumber,
  worstTradePct,
} from './statistics';
import type { SignalRecord } from './symbol-result';
import { computeEquityCurve, Trades } from './trades';

/** An account's equity, one value per candle, at the candles' times (UTC ms, ascending). */
export interface EquitySeries {
  readonly timestamp: Float64Array;
  readonly equity: Float64Array;
}

/** What the portfolio needs of one symbol. */
export interface PortfolioMember {
  /** r of each trade taken, in signal order: the signals' `return_pct`. */
  readonly returnFraction: Float64Array;
  /** r·100, as the trades and metrics compute it. */
  readonly returnPercent: Float64Array;
  /** E_k, the last value of the performance curve; 1 without trades. */
  readonly finalEquity: number;
  /** `positions: single`: the bar equity B over the symbol's candles; null with `overlap`. */
  readonly account: EquitySeries | null;
}

/** `portfolio` of a result document, in the spec's order; every figure null with no symbol. */
export interface PortfolioStats extends AccountStatistics {
  total_return_pct: Figure;
  trades: number | null;
  win_rate: Figure;
  avg_return: Figure;
  profit_factor: Figure;
  sqn: Figure;
  best_trade_pct: Figure;
  worst_trade_pct: Figure;
}

/** A symbol's member, from what the run computed. */
export function portfolioMemberOf(
  trades: Pick<Trades, 'returnFraction' | 'returnPercent'>,
  equityCurve: Float64Array,
  account: EquitySeries | null,
): PortfolioMember {
  return {
    returnFraction: trades.returnFraction,
    returnPercent: trades.returnPercent,
    finalEquity: finalEquity(equityCurve),
    account,
  };
}

/** The fields of a stored signal the portfolio is rebuilt from. */
export type StoredTrade = Pick<
  SignalRecord,
  'timestamp' | 'exit_timestamp' | 'hold_bars' | 'entry_fill' | 'exit_fill' | 'return_pct'
>;

/**
 * A symbol's member rebuilt from its stored result document: the signals' returns (JSON
 * carries doubles exactly, so r, r·100 and E_k come out as the run computed them) and, for
 * `positions: single` only, its candles reloaded for the same range, from which the bar
 * equity is recomputed with the stored fills. A stored trade whose times are not candles of
 * `candles`, or whose hold differs, means the data changed since the run: that throws.
 */
export function rebuildPortfolioMember(
  signals: readonly StoredTrade[],
  execution: ExecutionSettings,
  candles?: Candles,
): PortfolioMember {
  const count = signals.length;
  const returnFraction = new Float64Array(count);
  const returnPercent = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    returnFraction[t] = signals[t].return_pct;
    returnPercent[t] = returnFraction[t] * 100;
  }
  const equityCurve = computeEquityCurve({ returnPercent });
  if (execution.positions === 'overlap') {
    return portfolioMemberOf({ returnFraction, returnPercent }, equityCurve, null);
  }
  if (candles === undefined) {
    throw new Error('positions single: the portfolio needs the symbol’s candles');
  }
  const entryIndex = new Int32Array(count);
  const exitIndex = new Int32Array(count);
  const entryFill = new Float64Array(count);
  const exitFill = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    const signal = signals[t];
    entryIndex[t] = candleIndexOf(candles, signal.timestamp);
    exitIndex[t] = candleIndexOf(candles, signal.exit_timestamp);
    if (exitIndex[t] - entryIndex[t] !== signal.hold_bars) {
      throw new Error(
        `trade at ${signal.timestamp}: held ${signal.hold_bars} bars, but the candles put its exit ${exitIndex[t] - entryIndex[t]} bars later`,
      );
    }
    entryFill[t] = signal.entry_fill;
    exitFill[t] = signal.exit_fill;
  }
  const equity = computeBarEquity(
    candles.close,
    { entryIndex, exitIndex, entryFill, exitFill },
    execution.fee,
  );
  return portfolioMemberOf({ returnFraction, returnPercent }, equityCurve, {
    timestamp: candles.timestamp,
    equity,
  });
}

/** The index of the candle at an ISO time, by binary search; throws when there is none. */
function candleIndexOf(candles: Candles, iso: string): number {
  const ms = Date.parse(iso);
  let low = 0;
  let high = candles.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = candles.timestamp[middle];
    if (at === ms) return middle;
    if (at < ms) low = middle + 1;
    else high = middle - 1;
  }
  throw new Error(`no candle at ${iso}: the data changed since the run`);
}

const NO_PORTFOLIO: Readonly<PortfolioStats> = Object.freeze({
  total_return_pct: null,
  trades: null,
  win_rate: null,
  avg_return: null,
  profit_factor: null,
  sqn: null,
  best_trade_pct: null,
  worst_trade_pct: null,
  ...NO_ACCOUNT_STATISTICS,
});

/**
 * The portfolio over the active symbols' members, in document order, equal capital each.
 * Its trades are every member's, symbol after symbol, each symbol's in signal order; sums
 * run left to right in that order. win_rate and avg_return are §3's (0 without trades).
 * With `positions: single`, P_t = mean over the members of B_t on the union of their candle
 * times, each B carried forward and 1 before its first candle; the account figures are P's.
 */
export function computePortfolio(
  members: readonly PortfolioMember[],
  execution: Pick<ExecutionSettings, 'positions'>,
  timeframe: string,
): PortfolioStats {
  const symbols = members.length;
  if (symbols === 0) return NO_PORTFOLIO;
  let equitySum = 0;
  let trades = 0;
  for (const member of members) {
    equitySum += member.finalEquity;
    trades += member.returnFraction.length;
  }
  const returnFraction = new Float64Array(trades);
  const returnPercent = new Float64Array(trades);
  let offset = 0;
  for (const member of members) {
    returnFraction.set(member.returnFraction, offset);
    returnPercent.set(member.returnPercent, offset);
    offset += member.returnFraction.length;
  }
  let wins = 0;
  let percentSum = 0;
  for (let t = 0; t < trades; t++) {
    if (returnPercent[t] > 0) wins++;
    percentSum += returnPercent[t];
  }
  const account =
    execution.positions === 'single'
      ? accountStatistics(
          ...portfolioEquity(members.map(accountOf)),
          calendarOfTimeframe(timeframe),
        )
      : NO_ACCOUNT_STATISTICS;
  return {
    total_return_pct: finiteOrNull((equitySum / symbols - 1) * 100),
    trades,
    win_rate: trades === 0 ? 0 : wins / trades,
    avg_return: trades === 0 ? 0 : finiteOrNull(percentSum / trades),
    profit_factor: profitFactor(returnFraction),
    sqn: systemQualityNumber(returnFraction),
    best_trade_pct: bestTradePct(returnPercent),
    worst_trade_pct: worstTradePct(returnPercent),
    ...account,
  };
}

function accountOf(member: PortfolioMember, index: number): EquitySeries {
  if (member.account === null) {
    throw new Error(`portfolio member ${index} has no bar equity: it was built for overlap`);
  }
  return member.account;
}

/**
 * P on the union of the members' candle times: at each time, each member's latest B (1 before
 * its first candle), summed in member order, / count. O(union · members) with plain loops: the
 * union is merged member by member, then each member adds its carried-forward B to every time.
 */
export function portfolioEquity(series: readonly EquitySeries[]): [Float64Array, Float64Array] {
  const count = series.length;
  let union = count === 0 ? new Float64Array(0) : series[0].timestamp;
  for (let s = 1; s < count; s++) union = mergeTimes(union, series[s].timestamp);
  const equity = new Float64Array(union.length);
  for (let s = 0; s < count; s++) {
    const { timestamp: times, equity: values } = series[s];
    let latest = 1;
    let cursor = 0;
    for (let u = 0; u < union.length; u++) {
      if (cursor < times.length && times[cursor] === union[u]) latest = values[cursor++];
      equity[u] += latest;
    }
  }
  for (let u = 0; u < union.length; u++) equity[u] /= count;
  return [union, equity];
}

/** The sorted union of two ascending lists of times, each time once. */
function mergeTimes(a: Float64Array, b: Float64Array): Float64Array {
  const merged = new Float64Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let m = 0;
  while (i < a.length && j < b.length) {
    if (a[i] < b[j]) merged[m++] = a[i++];
    else if (b[j] < a[i]) merged[m++] = b[j++];
    else {
      merged[m++] = a[i++];
      j++;
    }
  }
  while (i < a.length) merged[m++] = a[i++];
  while (j < b.length) merged[m++] = b[j++];
  return m === merged.length ? merged : merged.slice(0, m);
}
