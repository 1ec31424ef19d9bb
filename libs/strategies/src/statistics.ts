/**
 * SPEC §12's statistics, as pure functions of what a run produced (trade returns, the
 * performance curve, the bar equity, candle times): nothing here simulates a trade. Every
 * figure that is undefined or not finite is null. Sums run left to right in time (or trade)
 * order, standard deviations take two passes (the mean, then the squares about it), so a
 * naive reading of the spec gives the same bits. O(trades) except the account figures, which
 * are O(bars) by nature; no allocation per bar.
 */
import { Candles } from '@app/common';
import { Trades } from './trades';

/** A figure of a statistics table: a finite number, or null when undefined or not finite. */
export type Figure = number | null;

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** SPEC §12's year for the CAGR: 365.25 days. */
const CAGR_YEAR_MS = 365.25 * DAY_MS;
/**
 * Weeks start on Monday 00:00 UTC, when Binance's weekly candles open. The epoch, 1970-01-01,
 * was a Thursday; the first Monday after it is 4 days later.
 */
const WEEK_ORIGIN_MS = 4 * DAY_MS;

/** The periods the account's returns are taken over: UTC calendar days, or weeks for 1W. */
export type StatsCalendar = 'day' | 'week';

/** SPEC §12: weeks for the 1W timeframe, calendar days for every other. */
export function calendarOfTimeframe(timeframe: string): StatsCalendar {
  return timeframe.toUpperCase() === '1W' ? 'week' : 'day';
}

/** SPEC §12's A: 365 periods a year, 52 for weeks. */
export function periodsPerYear(calendar: StatsCalendar): number {
  return calendar === 'week' ? 52 : 365;
}

export function finiteOrNull(value: number): Figure {
  return Number.isFinite(value) ? value : null;
}

/** The figures of a list of trades (r as fractions, r·100 in percent, the curve E). */
export interface TradeStatistics {
  total_return_pct: Figure;
  compounded_max_drawdown_pct: Figure;
  best_trade_pct: Figure;
  worst_trade_pct: Figure;
  profit_factor: Figure;
  sqn: Figure;
}

/** The figures of an account's equity over time (`positions: single` only). */
export interface AccountStatistics {
  return_ann_pct: Figure;
  volatility_ann_pct: Figure;
  sharpe: Figure;
  sortino: Figure;
  max_drawdown_pct: Figure;
  calmar: Figure;
  max_drawdown_duration_s: Figure;
}

/** `stats` of one symbol in the result document (SPEC §12), in the spec's order. */
export interface SymbolStats extends TradeStatistics, AccountStatistics {
  trades: number;
  signals_skipped: number;
  buy_hold_return_pct: Figure;
  exposure_pct: Figure;
  cagr_pct: Figure;
}

/** The account figures with `positions: overlap`, where there is no one account to follow. */
export const NO_ACCOUNT_STATISTICS: Readonly<AccountStatistics> = Object.freeze({
  return_ann_pct: null,
  volatility_ann_pct: null,
  sharpe: null,
  sortino: null,
  max_drawdown_pct: null,
  calmar: null,
  max_drawdown_duration_s: null,
});

/** E_k: the last value of the performance curve, 1 without trades. */
export function finalEquity(equityCurve: Float64Array): number {
  return equityCurve.length === 0 ? 1 : equityCurve[equityCurve.length - 1];
}

/** (E_k − 1)·100. */
export function totalReturnPct(finalValue: number): Figure {
  return finiteOrNull((finalValue - 1) * 100);
}

/** max over m ≤ k of (1 − E_m / max(E_0..E_m))·100, E_0 = 1; 0 without trades. */
export function compoundedMaxDrawdownPct(equityCurve: Float64Array): Figure {
  let peak = 1;
  let worst = 0;
  for (let m = 0; m < equityCurve.length; m++) {
    const value = equityCurve[m];
    if (value > peak) peak = value;
    const drawdown = (1 - value / peak) * 100;
    if (drawdown > worst) worst = drawdown;
  }
  return finiteOrNull(worst);
}

/** max of r·100; null without trades. */
export function bestTradePct(returnPercent: Float64Array): Figure {
  if (returnPercent.length === 0) return null;
  let best = returnPercent[0];
  for (let t = 1; t < returnPercent.length; t++) {
    if (returnPercent[t] > best) best = returnPercent[t];
  }
  return finiteOrNull(best);
}

/** min of r·100; null without trades. */
export function worstTradePct(returnPercent: Float64Array): Figure {
  if (returnPercent.length === 0) return null;
  let worst = returnPercent[0];
  for (let t = 1; t < returnPercent.length; t++) {
    if (returnPercent[t] < worst) worst = returnPercent[t];
  }
  return finiteOrNull(worst);
}

/** Σ positive r / |Σ negative r|; null without a losing trade. */
export function profitFactor(returnFraction: Float64Array): Figure {
  let gains = 0;
  let losses = 0;
  let anyLoss = false;
  for (let t = 0; t < returnFraction.length; t++) {
    const r = returnFraction[t];
    if (r > 0) {
      gains += r;
    } else if (r < 0) {
      losses += r;
      anyLoss = true;
    }
  }
  return anyLoss ? finiteOrNull(gains / Math.abs(losses)) : null;
}

/**
 * √k · mean(r) / sample stdev(r) (ddof 1); null when k < 2 or all r are equal. Equal returns
 * are tested as such: their computed mean may differ from them in the last bit, and a stdev
 * of rounding noise would give a huge, meaningless SQN.
 */
export function systemQualityNumber(returnFraction: Float64Array): Figure {
  const k = returnFraction.length;
  if (k < 2) return null;
  let sum = 0;
  let allEqual = true;
  for (let t = 0; t < k; t++) {
    sum += returnFraction[t];
    if (returnFraction[t] !== returnFraction[0]) allEqual = false;
  }
  if (allEqual) return null;
  const mean = sum / k;
  let squares = 0;
  for (let t = 0; t < k; t++) {
    const deviation = returnFraction[t] - mean;
    squares += deviation * deviation;
  }
  return finiteOrNull((Math.sqrt(k) * mean) / Math.sqrt(squares / (k - 1)));
}

export function tradeStatistics(
  returnFraction: Float64Array,
  returnPercent: Float64Array,
  equityCurve: Float64Array,
): TradeStatistics {
  return {
    total_return_pct: totalReturnPct(finalEquity(equityCurve)),
    compounded_max_drawdown_pct: compoundedMaxDrawdownPct(equityCurve),
    best_trade_pct: bestTradePct(returnPercent),
    worst_trade_pct: worstTradePct(returnPercent),
    profit_factor: profitFactor(returnFraction),
    sqn: systemQualityNumber(returnFraction),
  };
}

/** (close[n−1] − close[0]) / close[0]·100: O(1). */
export function buyAndHoldReturnPct(close: Float64Array): Figure {
  const n = close.length;
  if (n === 0) return null;
  return finiteOrNull(((close[n - 1] - close[0]) / close[0]) * 100);
}

/**
 * 100 · (bars inside at least one trade's i..j) / n, from the trade intervals (O(trades)):
 * the trades come in entry order, so each adds only the part of i..j past the bars already
 * counted.
 */
export function exposurePct(entryIndex: Int32Array, exitIndex: Int32Array, n: number): Figure {
  if (n === 0) return null;
  let covered = 0;
  let coveredTo = -1;
  for (let t = 0; t < entryIndex.length; t++) {
    const from = Math.max(entryIndex[t], coveredTo + 1);
    const to = exitIndex[t];
    if (to >= from) {
      covered += to - from + 1;
      coveredTo = to;
    }
  }
  return finiteOrNull((100 * covered) / n);
}

/** (E_k^(365.25 days / (t_{n−1} − t_0)) − 1)·100; null when the span is 0. */
export function cagrPct(finalValue: number, firstMs: number, lastMs: number): Figure {
  const span = lastMs - firstMs;
  if (!(span > 0)) return null;
  return finiteOrNull((Math.pow(finalValue, CAGR_YEAR_MS / span) - 1) * 100);
}

function periodLength(calendar: StatsCalendar): number {
  return calendar === 'week' ? WEEK_MS : DAY_MS;
}

/** The first millisecond of the UTC day (or Monday-started week) holding `ms`. */
export function periodStart(ms: number, calendar: StatsCalendar): number {
  const origin = calendar === 'week' ? WEEK_ORIGIN_MS : 0;
  const length = periodLength(calendar);
  return origin + Math.floor((ms - origin) / length) * length;
}

/**
 * The figures of an account's equity, one value per bar at the given times (ascending): the
 * drawdowns over every bar; the returns over periods (UTC days, or weeks), each period's value
 * its last bar's, periods without a bar skipped, so N periods give N − 1 returns d.
 * - return_ann_pct = ((1 + g)^A − 1)·100, g = exp(mean(ln(1 + d))) − 1 (null if any 1 + d ≤ 0);
 * - volatility_ann_pct = stdev(d)·√A·100; sharpe = mean(d) / stdev(d)·√A;
 *   sortino = mean(d) / √mean(min(d, 0)²)·√A; stdev with ddof 1;
 * - max_drawdown_pct = max over the bars of (1 − B_t / max(B_0..B_t))·100;
 *   calmar = (return_ann_pct / 100) / (max_drawdown_pct / 100);
 * - max_drawdown_duration_s: backtesting.py's: between consecutive bars at drawdown 0 (the
 *   last bar counting as one), where at least one bar lies strictly between them, the time
 *   from the first to the second; the longest, in seconds; null when there is none.
 */
export function accountStatistics(
  timestamp: Float64Array,
  equity: Float64Array,
  calendar: StatsCalendar,
): AccountStatistics {
  const n = equity.length;
  if (n === 0) return NO_ACCOUNT_STATISTICS;
  const length = periodLength(calendar);
  const firstPeriod = periodStart(timestamp[0], calendar);
  const periodValues = new Float64Array(
    Math.min(n, Math.floor((timestamp[n - 1] - firstPeriod) / length) + 1),
  );
  let periods = 0;
  let periodEnd = firstPeriod + length;
  let peak = equity[0];
  let maxDrawdownPct = 0;
  let lastPeakBar = 0;
  let longestMs = -1;
  let previousValue = Number.NaN;
  let drawdown = 0;
  for (let t = 0; t < n; t++) {
    const ms = timestamp[t];
    if (ms >= periodEnd) {
      periodValues[periods++] = equity[t - 1];
      periodEnd = periodStart(ms, calendar) + length;
    }
    const value = equity[t];
    // The account is flat on most bars: an unchanged B has the drawdown of the bar before (the
    // peak cannot have moved). At or above the peak, 1 − B/peak is exactly 0 (x/x = 1), and
    // below it never rounds to 0 (x < y gives x/y ≤ 1 − 2^-53), so the division is skipped
    // there without changing a bit.
    if (value !== previousValue) {
      if (value >= peak) {
        peak = value;
        drawdown = 0;
      } else {
        drawdown = 1 - value / peak;
        if (drawdown * 100 > maxDrawdownPct) maxDrawdownPct = drawdown * 100;
      }
      previousValue = value;
    }
    if (drawdown === 0) {
      if (t > lastPeakBar + 1 && ms - timestamp[lastPeakBar] > longestMs) {
        longestMs = ms - timestamp[lastPeakBar];
      }
      lastPeakBar = t;
    }
  }
  periodValues[periods++] = equity[n - 1];
  // The last bar ends the last stretch even when it is still in drawdown.
  if (n - 1 > lastPeakBar + 1 && timestamp[n - 1] - timestamp[lastPeakBar] > longestMs) {
    longestMs = timestamp[n - 1] - timestamp[lastPeakBar];
  }
  const periodFigures = periodReturnStatistics(periodValues, periods, periodsPerYear(calendar));
  const returnAnnPct = periodFigures.return_ann_pct;
  return {
    return_ann_pct: returnAnnPct,
    volatility_ann_pct: periodFigures.volatility_ann_pct,
    sharpe: periodFigures.sharpe,
    sortino: periodFigures.sortino,
    max_drawdown_pct: finiteOrNull(maxDrawdownPct),
    calmar:
      returnAnnPct === null ? null : finiteOrNull(returnAnnPct / 100 / (maxDrawdownPct / 100)),
    max_drawdown_duration_s: longestMs < 0 ? null : longestMs / 1000,
  };
}

type PeriodFigures = Pick<
  AccountStatistics,
  'return_ann_pct' | 'volatility_ann_pct' | 'sharpe' | 'sortino'
>;

/** The figures of the N − 1 returns d between the N period values. */
function periodReturnStatistics(
  periodValues: Float64Array,
  periods: number,
  perYear: number,
): PeriodFigures {
  const returns = periods - 1;
  if (returns < 1) {
    return { return_ann_pct: null, volatility_ann_pct: null, sharpe: null, sortino: null };
  }
  let sum = 0;
  let logSum = 0;
  let nonPositiveGrowth = false;
  let downsideSquares = 0;
  for (let p = 1; p < periods; p++) {
    const d = periodValues[p] / periodValues[p - 1] - 1;
    sum += d;
    const growth = 1 + d;
    if (growth > 0) logSum += Math.log(growth);
    else nonPositiveGrowth = true;
    const downside = Math.min(d, 0);
    downsideSquares += downside * downside;
  }
  const mean = sum / returns;
  let squares = 0;
  for (let p = 1; p < periods; p++) {
    const deviation = periodValues[p] / periodValues[p - 1] - 1 - mean;
    squares += deviation * deviation;
  }
  // ddof 1: one return has no sample standard deviation.
  const stdev = returns < 2 ? Number.NaN : Math.sqrt(squares / (returns - 1));
  const rootA = Math.sqrt(perYear);
  const g = Math.exp(logSum / returns) - 1;
  return {
    return_ann_pct: nonPositiveGrowth ? null : finiteOrNull((Math.pow(1 + g, perYear) - 1) * 100),
    volatility_ann_pct: finiteOrNull(stdev * rootA * 100),
    sharpe: finiteOrNull((mean / stdev) * rootA),
    sortino: finiteOrNull((mean / Math.sqrt(downsideSquares / returns)) * rootA),
  };
}

/**
 * Every figure of a symbol's `stats`. `barEquity` is the account of `positions: single`
 * (computeBarEquity); null with `overlap`, whose account figures are null.
 */
export function computeSymbolStats(
  candles: Candles,
  trades: Trades,
  equityCurve: Float64Array,
  barEquity: Float64Array | null,
  calendar: StatsCalendar,
): SymbolStats {
  const n = candles.length;
  const account =
    barEquity === null
      ? NO_ACCOUNT_STATISTICS
      : accountStatistics(candles.timestamp, barEquity, calendar);
  return {
    trades: trades.returnFraction.length,
    signals_skipped: trades.signalsSkipped,
    ...tradeStatistics(trades.returnFraction, trades.returnPercent, equityCurve),
    buy_hold_return_pct: buyAndHoldReturnPct(candles.close),
    exposure_pct: exposurePct(trades.entryIndex, trades.exitIndex, n),
    cagr_pct:
      n === 0
        ? null
        : cagrPct(finalEquity(equityCurve), candles.timestamp[0], candles.timestamp[n - 1]),
    ...account,
  };
}
