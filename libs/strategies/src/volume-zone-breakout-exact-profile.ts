/**
 * The exact volume profile of SPEC §3 volume_zone_breakout: the spec's operations in the
 * spec's order, so every float it produces is the one a naive reading produces. The fast path
 * (volume-zone-breakout-fast-path.ts) decides most bars without it and comes here whenever its
 * error bounds cannot tell; testing/naive-reference.ts is what this is checked against.
 */
import { Candles } from '@app/common';

/** A bar's evaluation when it gives no signal (confidences are never negative). */
export const NO_SIGNAL = -1;

/** The profile's answer when SPEC §3 finds no resistance: one price in the window, or no volume. */
export const NO_RESISTANCE = -1;

/** The SPEC §3 parameters the profile reads. */
export interface ZoneProfileParams {
  readonly num_bins: number;
  readonly top_percentile: number;
  readonly breakout_buffer: number;
}

/** Each bar's [lo, hi]: [low, high] with wicks, else the body [min(open, close), max(open, close)]. */
export interface BarSpans {
  readonly low: Float64Array;
  readonly high: Float64Array;
}

export function barSpans(candles: Candles, includeWicks: boolean): BarSpans {
  if (includeWicks) return { low: candles.low, high: candles.high };
  const { open, close, length } = candles;
  const low = new Float64Array(length);
  const high = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    low[i] = Math.min(open[i], close[i]);
    high[i] = Math.max(open[i], close[i]);
  }
  return { low, high };
}

/**
 * One window's bins: the edges e_b = pmin + b * step, step = (pmax - pmin) / num_bins, with
 * e_nb = pmax itself (as numpy.linspace gives it), and each edge's breakout level
 * e_b * (1 + buffer). Set afresh for every bar's window; the exact profile and the fast path
 * each keep one, so both compare prices with the very same edges and levels.
 */
export class ZoneGrid {
  private priceMin = 0;
  private priceMax = 0;
  private step = 0;
  /** 1 / step, for guesses only. */
  private binsPerPrice = 0;

  constructor(
    readonly binCount: number,
    /** 1 + breakout_buffer, computed once as the spec's level does. */
    readonly onePlusBuffer: number,
  ) {}

  /** The window's price range; pmin < pmax, or there are no bins to speak of. */
  setRange(priceMin: number, priceMax: number): void {
    this.priceMin = priceMin;
    this.priceMax = priceMax;
    this.step = (priceMax - priceMin) / this.binCount;
    this.binsPerPrice = this.binCount / (priceMax - priceMin);
  }

  edge(bin: number): number {
    return bin === this.binCount ? this.priceMax : this.priceMin + bin * this.step;
  }

  /** The level a bar must reach to break out above edge e_bin. */
  level(bin: number): number {
    return this.edge(bin) * this.onePlusBuffer;
  }

  /** About floor((price - pmin) / step), clamped to a bin: a starting point, to be corrected against the real edges. */
  guessBin(price: number): number {
    const estimate = (price - this.priceMin) * this.binsPerPrice;
    if (!(estimate >= 0)) return 0;
    return estimate < this.binCount - 1 ? Math.floor(estimate) : this.binCount - 1;
  }
}

/** SPEC §3's last step: a bar reaching barHigh against a resistance level gives this confidence, or NO_SIGNAL. */
export function breakoutConfidence(barHigh: number, level: number): number {
  return barHigh >= level ? Math.min(0.5 + (barHigh - level) / level, 1) : NO_SIGNAL;
}

/** The naive profile of a window of bars, built with scratch arrays reused from bar to bar. */
export class ExactZoneProfile {
  private readonly grid: ZoneGrid;
  private readonly topPercentile: number;
  private readonly edges: Float64Array;
  private readonly bins: Float64Array;

  constructor(
    private readonly spans: BarSpans,
    private readonly volume: Float64Array,
    params: ZoneProfileParams,
  ) {
    this.grid = new ZoneGrid(params.num_bins, 1 + params.breakout_buffer);
    this.topPercentile = params.top_percentile;
    this.edges = new Float64Array(params.num_bins + 1);
    this.bins = new Float64Array(params.num_bins);
  }

  /**
   * The resistance bin b of the profile of bars [from, to), whose price range is
   * [priceMin, priceMax]: walking from the top bin down, the first whose running sum reaches
   * total * top_percentile. NO_RESISTANCE when pmin == pmax or the window traded no volume.
   * Each bar's contributions go only to the bins it overlaps (found from an arithmetic guess,
   * corrected against the real edges); every other bin would receive v * 0 / (hi - lo) = +0,
   * whose addition changes nothing.
   */
  resistanceBin(from: number, to: number, priceMin: number, priceMax: number): number {
    if (priceMin === priceMax) return NO_RESISTANCE;
    const { grid, edges, bins, volume } = this;
    const { low: spanLow, high: spanHigh } = this.spans;
    const binCount = grid.binCount;
    const lastBin = binCount - 1;
    grid.setRange(priceMin, priceMax);
    for (let b = 0; b <= binCount; b++) edges[b] = grid.edge(b);
    bins.fill(0);
    for (let k = from; k < to; k++) {
      const low = spanLow[k];
      const high = spanHigh[k];
      const barVolume = volume[k];
      if (high > low) {
        const width = high - low;
        // first: the lowest bin with e_{b+1} > low; last: the highest with e_b < high.
        let first = grid.guessBin(low);
        while (first > 0 && edges[first] > low) first--;
        while (edges[first + 1] <= low) first++;
        let last = grid.guessBin(high);
        while (last < lastBin && edges[last + 1] < high) last++;
        while (edges[last] >= high) last--;
        for (let b = first; b <= last; b++) {
          const overlap = Math.min(high, edges[b + 1]) - Math.max(low, edges[b]);
          if (overlap > 0) bins[b] += (barVolume * overlap) / width;
        }
      } else {
        // A flat bar: the highest bin with e_b <= price (the top bin for pmax).
        let bin = grid.guessBin(low);
        while (bin < lastBin && edges[bin + 1] <= low) bin++;
        while (edges[bin] > low) bin--;
        bins[bin] += barVolume;
      }
    }
    let total = 0;
    for (let b = 0; b < binCount; b++) total += bins[b];
    if (total === 0) return NO_RESISTANCE;
    const threshold = total * this.topPercentile;
    let running = 0;
    for (let b = lastBin; b >= 0; b--) {
      running += bins[b];
      if (running >= threshold) return b;
    }
    // The walk ends at about the whole total, so with top_percentile <= 0.5 (its range) some
    // bin reaches the threshold; if none did, the naive reading finds no resistance either.
    return NO_RESISTANCE;
  }

  /** The breakout level of a bin of the window last profiled: e_bin * (1 + buffer). */
  level(bin: number): number {
    return this.grid.level(bin);
  }
}
