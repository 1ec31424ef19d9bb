/**
 * A deliberately naive, literal reading of SPEC §3, for cross-checking the production code
 * in tests only (excluded from the build). Every sum is recomputed from scratch, left to
 * right, with the operations in the order the spec writes them. Nothing here is shared with
 * the production code, so a misreading there is not repeated here.
 */
import { Candles } from '@app/common';

// Jest runs tests in a vm context, where looking up a global such as Math inside a hot loop
// costs ~100x; module-level copies keep this reference fast enough to run over every file.
const { max, min } = Math;

export interface NaiveSignals {
  indices: number[];
  confidence: number[];
}

/**
 * How often a decision compared two EXACTLY equal numbers: the ties where any rounding
 * difference in the production code would flip a signal. Tests assert their data has them.
 */
export interface TieCounts {
  surge: number;
  body: number;
  topPercentile: number;
  level: number;
}

export function noTies(): TieCounts {
  return { surge: 0, body: 0, topPercentile: 0, level: 0 };
}

export interface NaiveLongCandleParams {
  vol_ma_window: number;
  vol_multiplier: number;
  body_pct: number;
}

export function naiveVolumeLongCandle(
  candles: Candles,
  p: NaiveLongCandleParams,
  ties = noTies(),
): NaiveSignals {
  const out: NaiveSignals = { indices: [], confidence: [] };
  for (let i = 0; i < candles.length; i++) {
    const start = max(0, i - p.vol_ma_window + 1);
    let sum = 0;
    for (let k = start; k <= i; k++) sum += candles.volume[k];
    const volMa = sum / (i - start + 1);
    const volume = candles.volume[i];
    const surge = volume >= volMa * p.vol_multiplier;
    if (volume === volMa * p.vol_multiplier) ties.surge++;

    const open = candles.open[i];
    const close = candles.close[i];
    const body = (close - open) / open;
    const upperWick = max(candles.high[i] - close, 0) / open;
    const lowerWick = max(open - candles.low[i], 0) / open;
    if (body === p.body_pct) ties.body++;
    const longCandle =
      body >= p.body_pct &&
      upperWick < 2 * p.body_pct &&
      lowerWick < 2 * p.body_pct &&
      close > open;

    if (surge && longCandle) {
      out.indices.push(i);
      out.confidence.push(volMa === 0 ? 1 : min(volume / volMa / p.vol_multiplier, 1));
    }
  }
  return out;
}

export interface NaiveZoneBreakoutParams {
  volume_window: number;
  top_percentile: number;
  breakout_buffer: number;
  num_bins: number;
  include_wicks: boolean;
}

export function naiveVolumeZoneBreakout(
  candles: Candles,
  p: NaiveZoneBreakoutParams,
  ties = noTies(),
): NaiveSignals {
  const out: NaiveSignals = { indices: [], confidence: [] };
  const span = (k: number): [number, number] =>
    p.include_wicks
      ? [candles.low[k], candles.high[k]]
      : [min(candles.open[k], candles.close[k]), max(candles.open[k], candles.close[k])];
  const nb = p.num_bins;
  for (let i = p.volume_window; i < candles.length; i++) {
    let pmin = Infinity;
    let pmax = -Infinity;
    for (let k = i - p.volume_window; k < i; k++) {
      const [lo, hi] = span(k);
      pmin = min(pmin, lo);
      pmax = max(pmax, hi);
    }
    if (pmin === pmax) continue;

    const step = (pmax - pmin) / nb;
    const edges: number[] = [];
    for (let b = 0; b < nb; b++) edges.push(pmin + b * step);
    edges.push(pmax);

    const bins: number[] = new Array<number>(nb).fill(0);
    for (let k = i - p.volume_window; k < i; k++) {
      const [lo, hi] = span(k);
      const volume = candles.volume[k];
      if (hi > lo) {
        for (let b = 0; b < nb; b++) {
          bins[b] += (volume * max(0, min(hi, edges[b + 1]) - max(lo, edges[b]))) / (hi - lo);
        }
      } else {
        for (let b = 0; b < nb; b++) {
          if (edges[b] <= lo && (lo < edges[b + 1] || b === nb - 1)) {
            bins[b] += volume;
            break;
          }
        }
      }
    }

    let total = 0;
    for (let b = 0; b < nb; b++) total += bins[b];
    if (total === 0) continue;

    let resistance: number | undefined;
    let running = 0;
    for (let b = nb - 1; b >= 0; b--) {
      running += bins[b];
      if (running === total * p.top_percentile) ties.topPercentile++;
      if (running >= total * p.top_percentile) {
        resistance = edges[b];
        break;
      }
    }
    if (resistance === undefined) continue;

    const level = resistance * (1 + p.breakout_buffer);
    const hi = span(i)[1];
    if (hi === level) ties.level++;
    if (hi >= level) {
      out.indices.push(i);
      out.confidence.push(min(0.5 + (hi - level) / level, 1));
    }
  }
  return out;
}

export interface NaiveTradeSummary {
  returns: number[];
  holds: number[];
  win_rate: number;
  avg_return: number;
  max_drawdown: number;
  avg_hold_bars: number;
  equity: number[];
}

export function naiveTradeSummary(
  close: ArrayLike<number>,
  signals: number[],
  hold: number,
): NaiveTradeSummary {
  const n = close.length;
  const returns: number[] = [];
  const holds: number[] = [];
  for (const i of signals) {
    const j = min(i + hold, n - 1);
    returns.push(((close[j] - close[i]) / close[i]) * 100);
    holds.push(j - i);
  }
  const k = returns.length;
  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  let cumulative = 0;
  let peak = 0;
  let maxDrawdown = 0;
  const equity: number[] = [];
  let value = 1;
  for (const r of returns) {
    cumulative += r;
    peak = max(peak, cumulative);
    maxDrawdown = max(maxDrawdown, peak - cumulative);
    value *= 1 + r / 100;
    equity.push(value);
  }
  return {
    returns,
    holds,
    win_rate: k === 0 ? 0 : returns.filter((r) => r > 0).length / k,
    avg_return: mean(returns),
    max_drawdown: maxDrawdown,
    avg_hold_bars: mean(holds),
    equity,
  };
}
