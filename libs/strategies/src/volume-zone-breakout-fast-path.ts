/**
 * The bounded fast path of SPEC §3 volume_zone_breakout: it decides most bars from
 * approximate volume sums whose error is proven, and hands every bar it cannot decide beyond
 * that error to the exact profile (volume-zone-breakout-exact-profile.ts).
 *
 * Exactness. pmin/pmax (sliding-window deques), the bin edges and the levels are computed
 * exactly as the spec does, so every comparison of a price with an edge or a level is the
 * naive one. The profile's volumes are another matter: the naive bin sums round in their own
 * order. They matter only through the resistance bin b* = max{b : C_b >= T}, where C_b is
 * the volume from the top bin down to b (the volume above edge e_b) and T = total *
 * top_percentile; and a signal needs b* <= top, the highest bin whose level the bar reaches.
 * So C_b at one edge is approximated in an O(window) pass with a proven relative error
 * (errorFactor), and a comparison with T counts only when it holds beyond that error:
 *  - b* is certified by C_{b*} >= T and C_{b*+1} < T, probing from the last bar's b*;
 *  - when the last b* lies above top, one pass at top + 1 usually shows C_{top+1} >= T,
 *    i.e. no signal (in a rising market within a few bars, as the pass starts at the newest);
 *  - a comparison inside the error (ties, common on tick-grid data) builds the profile
 *    exactly: {@link ExactZoneProfile}, the spec's operations in the spec's order, skipping
 *    only additions of +0.
 * Data whose magnitudes could make an intermediate underflow or overflow, which would void
 * the relative bounds (never real data, see checkCandles), takes the exact path on every bar.
 */
import { Candles } from '@app/common';
import { EPS, STALE_SUM_RATIO, sumLeftToRight, UNIT_ROUNDOFF } from './float-bounds';
import { SignalScan } from './run-scan';
import { SignalCollector } from './signals';
import {
  barSpans,
  BarSpans,
  breakoutConfidence,
  ExactZoneProfile,
  NO_RESISTANCE,
  NO_SIGNAL,
  ZoneGrid,
  ZoneProfileParams,
} from './volume-zone-breakout-exact-profile';
import { WindowRange } from './volume-zone-breakout-window-range';

/** The outcomes of comparing an approximate C_b with T, beyond the proven error or not. */
export const REACHED = 1;
export const SHORT = 2;
/** The bounds cannot tell; also "no bin certified". */
export const UNDECIDED = -1;
export type Verdict = typeof REACHED | typeof SHORT | typeof UNDECIDED;

/** The SPEC §3 parameters the scan reads. */
export interface ZoneBreakoutScanParams extends ZoneProfileParams {
  readonly volume_window: number;
  readonly include_wicks: boolean;
}

/**
 * One run of the strategy over a series, chunk by chunk. `canBound`: whether the candles'
 * magnitudes allow the relative error bounds (checkCandles); without it every bar takes the
 * exact profile.
 */
export class ZoneBreakoutScan implements SignalScan {
  readonly signals = new SignalCollector();
  private readonly window: number;
  private readonly binCount: number;
  private readonly onePlusBuffer: number;
  private readonly spans: BarSpans;
  private readonly range: WindowRange;
  /** The bins of the current bar's window. */
  private readonly grid: ZoneGrid;
  private readonly volumeAbove: BoundedVolumeAbove;
  private readonly exact: ExactZoneProfile;
  /** The last resistance bin found: the next bar's is usually the same or a neighbour. */
  private resistanceGuess = 0;

  constructor(
    candles: Candles,
    params: ZoneBreakoutScanParams,
    private readonly canBound: boolean,
  ) {
    this.window = params.volume_window;
    this.binCount = params.num_bins;
    this.onePlusBuffer = 1 + params.breakout_buffer;
    this.spans = barSpans(candles, params.include_wicks);
    this.range = new WindowRange(this.spans.low, this.spans.high, this.window);
    this.grid = new ZoneGrid(this.binCount, this.onePlusBuffer);
    this.volumeAbove = new BoundedVolumeAbove(this.spans, candles.volume, params, canBound);
    this.exact = new ExactZoneProfile(this.spans, candles.volume, params);
  }

  scan(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (i >= this.window) {
        const confidence = this.evaluate(i);
        if (confidence !== NO_SIGNAL) this.signals.push(i, confidence);
      }
      this.range.push(i);
      this.volumeAbove.push(i);
    }
  }

  /** The signal confidence of bar i (whose window is complete), or NO_SIGNAL. */
  private evaluate(i: number): number {
    const priceMin = this.range.low();
    const priceMax = this.range.high();
    const barHigh = this.spans.high[i];
    // Below pmin * (1 + buffer), the lowest level any bin can give, no zone is broken.
    if (!(barHigh >= priceMin * this.onePlusBuffer) || priceMin === priceMax) return NO_SIGNAL;
    this.grid.setRange(priceMin, priceMax);
    const from = i - this.window;
    if (!this.canBound) return this.exactConfidence(from, i, priceMin, priceMax, barHigh);

    const { volumeAbove } = this;
    volumeAbove.refreshIfStale(from, i);
    if (volumeAbove.tradedNothing()) return NO_SIGNAL;
    // A signal needs b* <= top. When the last resistance lies above top, this bar most
    // likely falls short, which a first pass at top + 1 usually shows; otherwise b* is sought
    // directly.
    const top = this.highestReachedBin(barHigh);
    let resistance: number;
    if (this.resistanceGuess > top) {
      const side = volumeAbove.compareWithThreshold(this.grid.edge(top + 1), from, i);
      if (side === REACHED) return NO_SIGNAL;
      resistance = side === SHORT ? this.certifiedResistanceBin(top, top + 1, from, i) : UNDECIDED;
    } else {
      resistance = this.certifiedResistanceBin(top, this.binCount, from, i);
    }
    if (resistance === UNDECIDED) return this.exactConfidence(from, i, priceMin, priceMax, barHigh);
    this.resistanceGuess = resistance;
    return breakoutConfidence(barHigh, this.grid.level(resistance));
  }

  /** The highest bin whose level, e_b * (1 + buffer), is <= barHigh; bin 0's level must be. */
  private highestReachedBin(barHigh: number): number {
    const { grid } = this;
    let bin = grid.guessBin(barHigh / this.onePlusBuffer);
    while (bin < this.binCount - 1 && grid.level(bin + 1) <= barHigh) bin++;
    while (bin > 0 && grid.level(bin) > barHigh) bin--;
    return bin;
  }

  /**
   * b* = max{b : C_b >= T}, given that C_shortBin < T (shortBin = num_bins: C = 0 < T, as
   * the window traded); C_b is non-increasing in b. Stops early at a bin above top that is
   * certainly reached: b* lies even higher, so there is no signal either way. Probes the last
   * resistance first, then its neighbour (consecutive bars rarely move it further), then
   * bisects. UNDECIDED when a probe is too close to call.
   */
  private certifiedResistanceBin(top: number, shortBin: number, from: number, to: number): number {
    let knownReached = -1;
    let knownShort = shortBin;
    let probe = Math.min(this.resistanceGuess, shortBin - 1);
    for (let probes = 0; knownShort - knownReached > 1 && knownReached <= top; probes++) {
      const side = this.volumeAbove.compareWithThreshold(this.grid.edge(probe), from, to);
      if (side === UNDECIDED) return UNDECIDED;
      if (side === REACHED) knownReached = probe;
      else knownShort = probe;
      probe =
        probes === 0
          ? side === REACHED
            ? probe + 1
            : probe - 1
          : (knownReached + knownShort) >> 1;
    }
    return knownReached < 0 ? UNDECIDED : knownReached;
  }

  /** The spec's own reading of the bar, when the bounds cannot decide it or do not apply. */
  private exactConfidence(
    from: number,
    to: number,
    priceMin: number,
    priceMax: number,
    barHigh: number,
  ): number {
    const resistance = this.exact.resistanceBin(from, to, priceMin, priceMax);
    if (resistance === NO_RESISTANCE) return NO_SIGNAL;
    this.resistanceGuess = resistance;
    return breakoutConfidence(barHigh, this.exact.level(resistance));
  }
}

/**
 * The window's total volume, kept running with a bound on its distance from the exact total,
 * and C_b, the volume above an edge, compared with T = total * top_percentile only as far as
 * the proven error allows. Bars are pushed in order 0, 1, 2, ...; a comparison covers the
 * window [from, to) of the bar `to`, pushed up to to - 1.
 */
export class BoundedVolumeAbove {
  private readonly window: number;
  private readonly topPercentile: number;
  /** volume / (hi - lo) per bar, for the approximate passes (unused for flat bars). */
  private readonly density: Float64Array;
  /**
   * 1 + ρ. Every term of every sum here is non-negative, so each computed sum is within a
   * relative γ_k ≈ k·2^-53 of its exact value, k = the roundings along its longest path
   * (w = window, nb = bins):
   *   naive C_b:  4 per contribution (hi - lo, overlap, x v, / width), w - 1 within a bin,
   *               nb - 1 walking down                                            = w + nb + 2
   *   naive T:    the same over every bin, then x top_percentile                 = w + nb + 3
   *   approx C_b: 4 per term (density: 2, hi - e_b, x), w - 1                    = w + 3
   * With T_exact in top_percentile * (windowVolume ± volumeError), the naive C_b >= T is
   * certain when C >= top_percentile * (windowVolume + volumeError) * (1 + ρ), and C_b < T
   * when C * (1 + ρ) < top_percentile * (windowVolume - volumeError), for any ρ above the
   * sum, 3w + 2nb + 8. ρ = (8w + 8nb + 40)·2^-53 also covers the comparisons' own roundings.
   * (Relative bounds need ordinary magnitudes: see checkCandles.)
   */
  private readonly errorFactor: number;
  /** The running total volume of the window, and a bound on its distance from the exact total. */
  private windowVolume = 0;
  private volumeError = 0;

  constructor(
    private readonly spans: BarSpans,
    private readonly volume: Float64Array,
    params: ZoneBreakoutScanParams,
    /** Without ordinary magnitudes no comparison is made: the densities are not computed. */
    canBound: boolean,
  ) {
    this.window = params.volume_window;
    this.topPercentile = params.top_percentile;
    this.density = new Float64Array(canBound ? volume.length : 0);
    for (let k = 0; k < this.density.length; k++) {
      this.density[k] = volume[k] / (spans.high[k] - spans.low[k]);
    }
    this.errorFactor = 1 + (8 * this.window + 8 * params.num_bins + 40) * UNIT_ROUNDOFF;
  }

  /** Bar `index` enters the window and bar index - window leaves it. */
  push(index: number): void {
    this.windowVolume += this.volume[index];
    this.volumeError += EPS * Math.abs(this.windowVolume);
    const leaving = index - this.window;
    if (leaving >= 0) {
      this.windowVolume -= this.volume[leaving];
      this.volumeError += EPS * Math.abs(this.windowVolume);
    }
  }

  /** Sums the window [from, to) afresh once the running total has drifted too far to filter well. */
  refreshIfStale(from: number, to: number): void {
    if (this.volumeError > this.windowVolume * STALE_SUM_RATIO) {
      this.anchor(sumLeftToRight(this.volume, from, to));
    }
  }

  /**
   * Whether the window traded nothing, exactly: after refreshIfStale the running total is 0
   * only if every volume in it is (a total of 0 with a nonzero error is always refreshed).
   */
  tradedNothing(): boolean {
    return this.windowVolume === 0;
  }

  /**
   * Whether the naive C_b, the volume above `edge` = e_b, reaches T for certain (REACHED),
   * falls short for certain (SHORT), or the bounds cannot tell (UNDECIDED). C_b is summed
   * approximately, newest bars first (in a rising market they are the ones above, so the
   * sum usually passes T after a few bars). In exact arithmetic a bar's overlaps with the
   * bins >= b telescope to max(0, hi - max(lo, e_b)), so C_b is the sum of
   * v * max(0, hi - max(lo, e_b)) / (hi - lo), plus v for each flat bar at or above e_b.
   * T lies within top_percentile * (windowVolume ± volumeError); errorFactor covers the rest.
   * Needs a window that traded (see tradedNothing) and b < num_bins.
   */
  compareWithThreshold(edge: number, from: number, to: number): Verdict {
    const { volume, density } = this;
    const { low: spanLow, high: spanHigh } = this.spans;
    const surelyReached =
      this.topPercentile * (this.windowVolume + this.volumeError) * this.errorFactor;
    let above = 0;
    let total = 0;
    for (let k = to - 1; k >= from; k--) {
      const barVolume = volume[k];
      total += barVolume;
      const low = spanLow[k];
      if (low >= edge) {
        above += barVolume;
      } else {
        const high = spanHigh[k];
        if (high > edge) above += density[k] * (high - edge);
      }
      if (above >= surelyReached) return REACHED;
    }
    this.anchor(total);
    return above * this.errorFactor < this.topPercentile * (total - this.volumeError)
      ? SHORT
      : UNDECIDED;
  }

  /** A freshly summed window total: w non-negative terms are off by at most (w - 1)·2^-53 of it. */
  private anchor(total: number): void {
    this.windowVolume = total;
    this.volumeError = this.window * EPS * total;
  }
}
