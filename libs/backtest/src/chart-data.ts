import { Candles } from '@app/common';
import type { PositionMode, Trades } from '@app/strategies';
import type { ResultDocument } from './result-document';

/**
 * chart.json (SPEC §14): what a report draws of a run, built where the candles are (one
 * symbol's run) so that no reader ever decodes Parquet to draw the overview. Columns, not
 * objects per point, and times delta-encoded: the ten-symbol, one-year, one-minute report must
 * reach the browser in a few megabytes. The choices are in docs/decisions/reports.md.
 */
export const CHART_FILE_NAME = 'chart.json';
export const CHART_VERSION = '1.0.0';

/** The overview of a symbol holds at most this many bars. */
export const OVERVIEW_MAX_BARS = 2000;
/** Entry and exit markers per symbol, at most; past it, counts per overview bar. */
export const MAX_MARKERS_PER_SYMBOL = 10_000;

export interface ChartLimits {
  overviewMaxBars: number;
  maxMarkers: number;
}

export const CHART_LIMITS: Readonly<ChartLimits> = Object.freeze({
  overviewMaxBars: OVERVIEW_MAX_BARS,
  maxMarkers: MAX_MARKERS_PER_SYMBOL,
});

/**
 * Times in chart.json: UTC epoch seconds (what chart libraries for market data take),
 * delta-encoded: the first value is the time itself, each next one the difference from the one
 * before. Decoding is a running sum.
 */
export type DeltaSeconds = number[];

/** Each overview bar aggregates `bucket_candles` consecutive candles (the last may hold fewer). */
export interface ChartOverview {
  /** The first candle's open time of each bar. */
  time: DeltaSeconds;
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  /** Summed over the bar's candles. */
  volume: number[];
}

/** The equity and its drawdown at the end of each overview bar (see docs/decisions/reports.md). */
export interface ChartEquity {
  /**
   * `trade_equity` (positions overlap): the compounded per-trade equity E (SPEC §12) after the
   * trades that exited by the bar's last candle; `bar_equity` (positions single): the
   * account's bar equity B at the bar's last candle.
   */
  basis: 'trade_equity' | 'bar_equity';
  /** Eight significant digits. */
  equity: number[];
  /**
   * The largest drawdown (%, positive) inside the bar, against the peak over everything before
   * it: its maximum over the bars is the symbol's `compounded_max_drawdown_pct` (overlap) or
   * `max_drawdown_pct` (single), to the rounding (four decimals).
   */
  drawdown_pct: number[];
}

/** Every trade's entry and exit, by candle time, in trade order. */
export interface ChartTrades {
  entry_time: DeltaSeconds;
  exit_time: DeltaSeconds;
}

/** When 2 × trades exceeds `max_markers`: how many entries and exits fall in each overview bar. */
export interface ChartMarkerCounts {
  entries: number[];
  exits: number[];
}

export interface SymbolChart {
  symbol: string;
  /** Candles in range. */
  candles: number;
  /** Candles per overview bar; 1 when the overview is the candles themselves. */
  bucket_candles: number;
  trade_count: number;
  overview: ChartOverview;
  /** Null when the markers are counted per bar instead (`marker_counts`). */
  trades: ChartTrades | null;
  marker_counts: ChartMarkerCounts | null;
  equity: ChartEquity;
}

export interface ChartDocument {
  version: typeof CHART_VERSION;
  run_id: string;
  strategy: string;
  timeframe: string;
  start_date: string;
  end_date: string;
  positions: PositionMode;
  time_encoding: 'delta_seconds';
  overview_max_bars: number;
  max_markers: number;
  /** The symbols that had candles, in the result document's order. */
  symbols: SymbolChart[];
}

/** What a symbol's chart needs of its trades: where each one enters and exits, and its r·100. */
export type ChartTradeInput = Pick<Trades, 'entryIndex' | 'exitIndex' | 'returnPercent'>;

/**
 * One symbol's chart from its candles and trades. `barEquity` is the account's B per candle
 * with `positions: single`, null with `overlap` (then the per-trade equity is used).
 */
export function buildSymbolChart(
  symbol: string,
  candles: Candles,
  trades: ChartTradeInput,
  barEquity: Float64Array | null,
  limits: ChartLimits = CHART_LIMITS,
): SymbolChart {
  const n = candles.length;
  const size = Math.max(1, Math.ceil(n / limits.overviewMaxBars));
  const bars = Math.ceil(n / size);
  const overview = aggregate(candles, size, bars);
  const tradeCount = trades.entryIndex.length;
  const capped = 2 * tradeCount > limits.maxMarkers;
  return {
    symbol,
    candles: n,
    bucket_candles: size,
    trade_count: tradeCount,
    overview,
    trades: capped
      ? null
      : {
          entry_time: deltaSeconds(trades.entryIndex, candles.timestamp),
          exit_time: deltaSeconds(trades.exitIndex, candles.timestamp),
        },
    marker_counts: capped
      ? {
          entries: countPerBar(trades.entryIndex, size, bars),
          exits: countPerBar(trades.exitIndex, size, bars),
        }
      : null,
    equity:
      barEquity === null
        ? tradeEquity(trades, size, bars, n)
        : accountEquity(barEquity, size, bars),
  };
}

/** The document of a run: its symbols' charts under the run's own description. */
export function chartDocumentOf(
  result: Pick<
    ResultDocument,
    'run_id' | 'strategy' | 'timeframe' | 'start_date' | 'end_date' | 'execution'
  >,
  symbols: SymbolChart[],
  limits: ChartLimits = CHART_LIMITS,
): ChartDocument {
  return {
    version: CHART_VERSION,
    run_id: result.run_id,
    strategy: result.strategy,
    timeframe: result.timeframe,
    start_date: result.start_date,
    end_date: result.end_date,
    positions: result.execution.positions,
    time_encoding: 'delta_seconds',
    overview_max_bars: limits.overviewMaxBars,
    max_markers: limits.maxMarkers,
    symbols,
  };
}

function aggregate(candles: Candles, size: number, bars: number): ChartOverview {
  const { timestamp, open, high, low, close, volume } = candles;
  const overview: ChartOverview = {
    time: new Array<number>(bars),
    open: new Array<number>(bars),
    high: new Array<number>(bars),
    low: new Array<number>(bars),
    close: new Array<number>(bars),
    volume: new Array<number>(bars),
  };
  let previousTime = 0;
  for (let b = 0; b < bars; b++) {
    const first = b * size;
    const end = Math.min(first + size, candles.length);
    let barHigh = high[first];
    let barLow = low[first];
    let barVolume = 0;
    for (let i = first; i < end; i++) {
      if (high[i] > barHigh) barHigh = high[i];
      if (low[i] < barLow) barLow = low[i];
      barVolume += volume[i];
    }
    const time = timestamp[first] / 1000;
    overview.time[b] = time - previousTime;
    previousTime = time;
    overview.open[b] = open[first];
    overview.high[b] = barHigh;
    overview.low[b] = barLow;
    overview.close[b] = close[end - 1];
    // A sum of many decimals carries float noise in its last digits: no price has 8.
    overview.volume[b] = significant(barVolume);
  }
  return overview;
}

/** Epoch milliseconds (ascending) as chart.json writes times: delta-encoded seconds. */
export function encodeDeltaSeconds(timestamp: ArrayLike<number>): DeltaSeconds {
  const times = new Array<number>(timestamp.length);
  let previous = 0;
  for (let t = 0; t < timestamp.length; t++) {
    const time = timestamp[t] / 1000;
    times[t] = time - previous;
    previous = time;
  }
  return times;
}

function deltaSeconds(indices: Int32Array, timestamp: Float64Array): DeltaSeconds {
  const times = new Array<number>(indices.length);
  let previous = 0;
  for (let t = 0; t < indices.length; t++) {
    const time = timestamp[indices[t]] / 1000;
    times[t] = time - previous;
    previous = time;
  }
  return times;
}

function countPerBar(indices: Int32Array, size: number, bars: number): number[] {
  const counts = new Array<number>(bars).fill(0);
  for (const index of indices) counts[Math.floor(index / size)] += 1;
  return counts;
}

/**
 * positions overlap: E_0 = 1, E_m = E_{m−1}·(1 + r_m) in trade order, a trade's value counted
 * from its exit bar (exits never go back in trade order: j = min(i + hold, n − 1) with i rising).
 */
function tradeEquity(trades: ChartTradeInput, size: number, bars: number, n: number): ChartEquity {
  const equity = new Array<number>(bars);
  const drawdown = new Array<number>(bars);
  let value = 1;
  let peak = 1;
  let current = 0;
  let m = 0;
  for (let b = 0; b < bars; b++) {
    const last = Math.min((b + 1) * size, n) - 1;
    let deepest = current;
    while (m < trades.exitIndex.length && trades.exitIndex[m] <= last) {
      value *= 1 + trades.returnPercent[m] / 100;
      if (value > peak) peak = value;
      current = (1 - value / peak) * 100;
      if (current > deepest) deepest = current;
      m += 1;
    }
    equity[b] = significant(value);
    drawdown[b] = round4(deepest);
  }
  return { basis: 'trade_equity', equity, drawdown_pct: drawdown };
}

/** positions single: B at each bar's last candle, the drawdown over every candle. */
function accountEquity(barEquity: Float64Array, size: number, bars: number): ChartEquity {
  const equity = new Array<number>(bars);
  const drawdown = new Array<number>(bars);
  let peak = barEquity.length > 0 ? barEquity[0] : 1;
  for (let b = 0; b < bars; b++) {
    const first = b * size;
    const end = Math.min(first + size, barEquity.length);
    let deepest = 0;
    for (let t = first; t < end; t++) {
      const value = barEquity[t];
      if (value > peak) peak = value;
      const fall = (1 - value / peak) * 100;
      if (fall > deepest) deepest = fall;
    }
    equity[b] = significant(barEquity[end - 1]);
    drawdown[b] = round4(deepest);
  }
  return { basis: 'bar_equity', equity, drawdown_pct: drawdown };
}

function significant(value: number): number {
  return Number(value.toPrecision(8));
}

function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

/** Delta-encoded seconds back to epoch seconds (for readers in TypeScript and for tests). */
export function decodeDeltaSeconds(deltas: readonly number[]): number[] {
  const times = new Array<number>(deltas.length);
  let time = 0;
  for (let i = 0; i < deltas.length; i++) {
    time += deltas[i];
    times[i] = time;
  }
  return times;
}
