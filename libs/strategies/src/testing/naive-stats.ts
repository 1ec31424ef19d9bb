/**
 * A deliberately naive, literal reading of SPEC §12 (costs, positions, stats, portfolio), for
 * cross-checking the production code in tests only. Plain arrays, one obvious loop per rule,
 * each line checkable against the spec's text; periods are found by their calendar date
 * (ISO strings), not by the millisecond arithmetic production uses. Nothing is shared with the
 * production code. Where the spec leaves an order open, this follows the decision written in
 * docs/decisions/statistics.md (sums left to right in time or trade order; a two-pass stdev).
 */
import { Candles } from '@app/common';

// Module-level copies: Jest's vm context makes global lookups in hot loops slow.
const { max, min, sqrt, log, exp, pow, abs } = Math;
const UtcDate = Date;
const { isFinite } = Number;

export interface NaiveExecution {
  fee: number;
  slippage: number;
  positions: 'overlap' | 'single';
}

export interface NaiveTrade {
  i: number;
  j: number;
  timestamp: string;
  exit_timestamp: string;
  entry_price: number;
  exit_price: number;
  entry_fill: number;
  exit_fill: number;
  hold_bars: number;
  /** r, a fraction. */
  return_pct: number;
  confidence: number;
}

/** Every figure of `stats` (SPEC §12), null where undefined or not finite. */
export interface NaiveStats {
  trades: number;
  signals_skipped: number;
  total_return_pct: number | null;
  compounded_max_drawdown_pct: number | null;
  best_trade_pct: number | null;
  worst_trade_pct: number | null;
  profit_factor: number | null;
  sqn: number | null;
  buy_hold_return_pct: number | null;
  exposure_pct: number | null;
  cagr_pct: number | null;
  return_ann_pct: number | null;
  volatility_ann_pct: number | null;
  sharpe: number | null;
  sortino: number | null;
  max_drawdown_pct: number | null;
  calmar: number | null;
  max_drawdown_duration_s: number | null;
}

export interface NaiveAccount {
  return_ann_pct: number | null;
  volatility_ann_pct: number | null;
  sharpe: number | null;
  sortino: number | null;
  max_drawdown_pct: number | null;
  calmar: number | null;
  max_drawdown_duration_s: number | null;
}

export interface NaiveSymbol {
  trades: NaiveTrade[];
  /** §3's metrics over the trades taken. */
  metrics: {
    samples: number;
    win_rate: number;
    avg_return: number;
    max_drawdown: number;
    avg_hold_bars: number;
  };
  /** E_1..E_k. */
  curve: number[];
  stats: NaiveStats;
  /** The candle times, and B per candle (positions single; null with overlap). */
  times: number[];
  barEquity: number[] | null;
}

const nullIfNotFinite = (x: number): number | null => (isFinite(x) ? x : null);

function sum(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function mean(values: number[]): number {
  return sum(values) / values.length;
}

/** Sample standard deviation (ddof 1): the mean, then the squares about it. */
function sampleStdev(values: number[]): number {
  const m = mean(values);
  const squares: number[] = [];
  for (const value of values) squares.push((value - m) * (value - m));
  return sqrt(sum(squares) / (values.length - 1));
}

function iso(ms: number): string {
  return new UtcDate(ms).toISOString();
}

/**
 * The UTC calendar date of a time, or the date of the Monday starting its week. Remembered:
 * the tests ask for the same candle times thousands of times, and Date is slow under Jest.
 */
const periodKeys = [new Map<number, string>(), new Map<number, string>()];
function periodKey(ms: number, weekly: boolean): string {
  const known = periodKeys[weekly ? 1 : 0];
  let key = known.get(ms);
  if (key === undefined) {
    key = calendarKey(ms, weekly);
    known.set(ms, key);
  }
  return key;
}

function calendarKey(ms: number, weekly: boolean): string {
  const date = new UtcDate(ms);
  if (!weekly) return date.toISOString().slice(0, 10);
  const daysSinceMonday = (date.getUTCDay() + 6) % 7; // getUTCDay: Sunday 0, Monday 1
  const monday = new UtcDate(
    UtcDate.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - daysSinceMonday),
  );
  return monday.toISOString().slice(0, 10);
}

export function naiveSymbol(
  candles: Candles,
  signalIndices: ArrayLike<number>,
  signalConfidence: ArrayLike<number>,
  holdPeriodBars: number,
  execution: NaiveExecution,
  timeframe: string,
): NaiveSymbol {
  const n = candles.length;
  const close = Array.from(candles.close);
  const times = Array.from(candles.timestamp);
  const { fee, slippage } = execution;

  // Trades. overlap: every signal is a trade; single: a signal at bar k is taken only when
  // k > j of the last trade taken.
  const trades: NaiveTrade[] = [];
  let skipped = 0;
  for (let s = 0; s < signalIndices.length; s++) {
    const i = signalIndices[s];
    if (
      execution.positions === 'single' &&
      trades.length > 0 &&
      !(i > trades[trades.length - 1].j)
    ) {
      skipped++;
      continue;
    }
    const j = min(i + holdPeriodBars, n - 1);
    const entry_fill = close[i] * (1 + slippage);
    const exit_fill = close[j] * (1 - slippage);
    const r = (exit_fill * (1 - fee) - entry_fill * (1 + fee)) / (entry_fill * (1 + fee));
    trades.push({
      i,
      j,
      timestamp: iso(times[i]),
      exit_timestamp: iso(times[j]),
      entry_price: close[i],
      exit_price: close[j],
      entry_fill,
      exit_fill,
      hold_bars: j - i,
      return_pct: r,
      confidence: signalConfidence[s],
    });
  }
  const r = trades.map((trade) => trade.return_pct);
  const percent = r.map((x) => x * 100);
  const k = r.length;

  // §3's metrics, over the trades taken.
  let running = 0;
  let runningPeak = 0;
  let sumDrawdown = 0;
  for (const p of percent) {
    running += p;
    runningPeak = max(runningPeak, running);
    sumDrawdown = max(sumDrawdown, runningPeak - running);
  }
  const metrics = {
    samples: k,
    win_rate: k === 0 ? 0 : percent.filter((p) => p > 0).length / k,
    avg_return: k === 0 ? 0 : sum(percent) / k,
    max_drawdown: sumDrawdown,
    avg_hold_bars: k === 0 ? 0 : sum(trades.map((trade) => trade.hold_bars)) / k,
  };

  // The performance curve E: §3's `equity *= (1 + r/100)` with r in percent, from E_0 = 1.
  const E = [1];
  for (const p of percent) E.push(E[E.length - 1] * (1 + p / 100));
  const Ek = E[E.length - 1];

  // max over m ≤ k of (1 − E_m / max(E_0..E_m))·100; `peak` is max(E_0..E_m) as m grows.
  let compounded = 0;
  let peak = E[0];
  for (let m = 0; m <= k; m++) {
    peak = max(peak, E[m]);
    compounded = max(compounded, (1 - E[m] / peak) * 100);
  }

  const positives = r.filter((x) => x > 0);
  const negatives = r.filter((x) => x < 0);

  const inside: boolean[] = new Array<boolean>(n).fill(false);
  for (const trade of trades) for (let t = trade.i; t <= trade.j; t++) inside[t] = true;
  const barsInside = inside.filter(Boolean).length;

  const span = times[n - 1] - times[0];
  const cagrExponent = (365.25 * 24 * 3600 * 1000) / span;

  let barEquity: number[] | null = null;
  let account: NaiveAccount = {
    return_ann_pct: null,
    volatility_ann_pct: null,
    sharpe: null,
    sortino: null,
    max_drawdown_pct: null,
    calmar: null,
    max_drawdown_duration_s: null,
  };
  if (execution.positions === 'single') {
    barEquity = naiveBarEquity(close, trades, fee);
    account = naiveAccount(times, barEquity, timeframe);
  }

  const stats: NaiveStats = {
    trades: k,
    signals_skipped: skipped,
    total_return_pct: nullIfNotFinite((Ek - 1) * 100),
    compounded_max_drawdown_pct: nullIfNotFinite(compounded),
    best_trade_pct: k === 0 ? null : nullIfNotFinite(max(...percent)),
    worst_trade_pct: k === 0 ? null : nullIfNotFinite(min(...percent)),
    profit_factor:
      negatives.length === 0 ? null : nullIfNotFinite(sum(positives) / abs(sum(negatives))),
    sqn:
      k < 2 || r.every((x) => x === r[0])
        ? null
        : nullIfNotFinite((sqrt(k) * mean(r)) / sampleStdev(r)),
    buy_hold_return_pct: nullIfNotFinite(((close[n - 1] - close[0]) / close[0]) * 100),
    exposure_pct: nullIfNotFinite((100 * barsInside) / n),
    cagr_pct: span === 0 ? null : nullIfNotFinite((pow(Ek, cagrExponent) - 1) * 100),
    ...account,
  };
  return { trades, metrics, curve: E.slice(1), stats, times, barEquity };
}

/**
 * B over every candle: 1 before the first trade; at a trade's entry bar i, units =
 * B_{i−1} / (entry_fill·(1+fee)) (B_{−1} = 1); B_t = units·close[t] for i ≤ t < j;
 * B_j = units·exit_fill·(1−fee) (when j = i the exit value wins); flat after j.
 */
function naiveBarEquity(close: number[], trades: NaiveTrade[], fee: number): number[] {
  const B: number[] = [];
  const tradeEnteringAt = new Map(trades.map((trade) => [trade.i, trade]));
  let units = 0;
  let open: NaiveTrade | undefined;
  for (let t = 0; t < close.length; t++) {
    const previous = t === 0 ? 1 : B[t - 1];
    const entering = tradeEnteringAt.get(t);
    if (entering) {
      open = entering;
      units = previous / (entering.entry_fill * (1 + fee));
    }
    if (open && t === open.j) {
      B.push(units * open.exit_fill * (1 - fee));
      open = undefined;
    } else if (open) {
      B.push(units * close[t]);
    } else {
      B.push(previous);
    }
  }
  return B;
}

/** The account figures of an equity series `values` at `times` (SPEC §12, single only). */
export function naiveAccount(times: number[], values: number[], timeframe: string): NaiveAccount {
  const weekly = timeframe.toUpperCase() === '1W';
  const A = weekly ? 52 : 365;

  // Periods: each period's value the last value in it; periods with no candle are skipped.
  const periodValues: number[] = [];
  let currentKey: string | undefined;
  for (let t = 0; t < times.length; t++) {
    const key = periodKey(times[t], weekly);
    if (key === currentKey) periodValues[periodValues.length - 1] = values[t];
    else periodValues.push(values[t]);
    currentKey = key;
  }
  // N values give N − 1 returns.
  const d: number[] = [];
  for (let p = 1; p < periodValues.length; p++) d.push(periodValues[p] / periodValues[p - 1] - 1);

  let return_ann_pct: number | null = null;
  if (d.length > 0 && d.every((x) => 1 + x > 0)) {
    const g = exp(mean(d.map((x) => log(1 + x)))) - 1;
    return_ann_pct = nullIfNotFinite((pow(1 + g, A) - 1) * 100);
  }
  const stdev = d.length < 2 ? NaN : sampleStdev(d);
  const downside = d.map((x) => min(x, 0) * min(x, 0));

  // Drawdown of every bar: 1 − B_t / max(B_0..B_t); `peak` is that maximum as t grows.
  const drawdown: number[] = [];
  let peak = values[0];
  for (let t = 0; t < values.length; t++) {
    peak = max(peak, values[t]);
    drawdown.push(1 - values[t] / peak);
  }
  const max_drawdown_pct = max(...drawdown.map((dd) => dd * 100));

  // backtesting.py: the bars at drawdown 0 and the last bar; between each two consecutive ones
  // with a bar strictly between them (in drawdown), the time from the first to the second.
  const ends: number[] = [];
  drawdown.forEach((dd, t) => {
    if (dd === 0) ends.push(t);
  });
  if (ends[ends.length - 1] !== values.length - 1) ends.push(values.length - 1);
  let longest: number | null = null;
  for (let e = 1; e < ends.length; e++) {
    if (ends[e] > ends[e - 1] + 1) {
      const seconds = (times[ends[e]] - times[ends[e - 1]]) / 1000;
      longest = longest === null ? seconds : max(longest, seconds);
    }
  }

  return {
    return_ann_pct,
    volatility_ann_pct: nullIfNotFinite(stdev * sqrt(A) * 100),
    sharpe: d.length === 0 ? null : nullIfNotFinite((mean(d) / stdev) * sqrt(A)),
    sortino: d.length === 0 ? null : nullIfNotFinite((mean(d) / sqrt(mean(downside))) * sqrt(A)),
    max_drawdown_pct: nullIfNotFinite(max_drawdown_pct),
    calmar:
      return_ann_pct === null
        ? null
        : nullIfNotFinite(return_ann_pct / 100 / (max_drawdown_pct / 100)),
    max_drawdown_duration_s: longest,
  };
}

export interface NaivePortfolio extends NaiveAccount {
  total_return_pct: number | null;
  trades: number | null;
  win_rate: number | null;
  avg_return: number | null;
  profit_factor: number | null;
  sqn: number | null;
  best_trade_pct: number | null;
  worst_trade_pct: number | null;
}

/** The portfolio of the active symbols, in document order, equal capital each. */
export function naivePortfolio(
  symbols: NaiveSymbol[],
  execution: NaiveExecution,
  timeframe: string,
): NaivePortfolio {
  if (symbols.length === 0) {
    return {
      total_return_pct: null,
      trades: null,
      win_rate: null,
      avg_return: null,
      profit_factor: null,
      sqn: null,
      best_trade_pct: null,
      worst_trade_pct: null,
      return_ann_pct: null,
      volatility_ann_pct: null,
      sharpe: null,
      sortino: null,
      max_drawdown_pct: null,
      calmar: null,
      max_drawdown_duration_s: null,
    };
  }
  const finalEquities = symbols.map((symbol) =>
    symbol.curve.length === 0 ? 1 : symbol.curve[symbol.curve.length - 1],
  );
  // All their trades: symbol after symbol, each symbol's in signal order.
  const r: number[] = [];
  for (const symbol of symbols) for (const trade of symbol.trades) r.push(trade.return_pct);
  const percent = r.map((x) => x * 100);
  const k = r.length;
  const negatives = r.filter((x) => x < 0);

  let account: NaiveAccount = {
    return_ann_pct: null,
    volatility_ann_pct: null,
    sharpe: null,
    sortino: null,
    max_drawdown_pct: null,
    calmar: null,
    max_drawdown_duration_s: null,
  };
  if (execution.positions === 'single') {
    // P_t = mean over the symbols of B_t on the union of their candle times, each symbol's B
    // carried forward, 1 before its first candle.
    const union = [...new Set(symbols.flatMap((symbol) => symbol.times))].sort((a, b) => a - b);
    const byTime = symbols.map(
      (symbol) => new Map(symbol.times.map((time, t) => [time, symbol.barEquity![t]])),
    );
    const latest = symbols.map(() => 1);
    const P: number[] = [];
    for (const time of union) {
      byTime.forEach((values, s) => {
        if (values.has(time)) latest[s] = values.get(time)!;
      });
      P.push(sum(latest) / symbols.length);
    }
    account = naiveAccount(union, P, timeframe);
  }

  return {
    total_return_pct: nullIfNotFinite((sum(finalEquities) / symbols.length - 1) * 100),
    trades: k,
    win_rate: k === 0 ? 0 : r.filter((x) => x > 0).length / k,
    avg_return: k === 0 ? 0 : nullIfNotFinite(sum(percent) / k),
    profit_factor:
      negatives.length === 0
        ? null
        : nullIfNotFinite(sum(r.filter((x) => x > 0)) / abs(sum(negatives))),
    sqn:
      k < 2 || r.every((x) => x === r[0])
        ? null
        : nullIfNotFinite((sqrt(k) * mean(r)) / sampleStdev(r)),
    best_trade_pct: k === 0 ? null : nullIfNotFinite(max(...percent)),
    worst_trade_pct: k === 0 ? null : nullIfNotFinite(min(...percent)),
    ...account,
  };
}
