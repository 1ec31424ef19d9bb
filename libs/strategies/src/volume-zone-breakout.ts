import { Candles } from '@app/common';
import { EPS, STALE_SUM_RATIO, sumLeftToRight, UNIT_ROUNDOFF } from './float-bounds';
import { ParamsOf, ParamSpec } from './params';
import { runScan } from './run-scan';
import { SignalCollector, StrategyRunOptions, StrategySignals } from './signals';
import {
  barSpans,
  BarSpans,
  breakoutConfidence,
  ExactZoneProfile,
  NO_RESISTANCE,
  NO_SIGNAL,
  ZoneGrid,
} from './volume-zone-breakout-exact-profile';
import { WindowRange } from './volume-zone-breakout-window-range';

export const VOLUME_ZONE_BREAKOUT_PARAMS = [
  {
    name: 'volume_window',
    type: 'int',
    default: 60,
    min: 10,
    max: 500,
    description:
      'Number of bars before the current one whose traded volume forms the price profile (the volume zones).',
  },
  {
    name: 'top_percentile',
    type: 'float',
    default: 0.2,
    min: 0.05,
    max: 0.5,
    description:
      "Share of the window's volume, counted from the highest prices down, that defines the resistance zone: the resistance is the lower edge of the bin where this share is reached.",
  },
  {
    name: 'breakout_buffer',
    type: 'float',
    default: 0.01,
    min: 0.0,
    max: 0.05,
    description:
      'How far above the resistance the bar must reach to count as a breakout, as a fraction (0.01 = 1%).',
  },
  {
    name: 'hold_period_bars',
    type: 'int',
    default: 1,
    min: 1,
    max: 100,
    description:
      "Bars a trade is held: it enters at the signal bar's close and exits at the close this many bars later, or at the last bar.",
  },
  {
    name: 'num_bins',
    type: 'int',
    default: 20,
    min: 5,
    max: 100,
    description:
      "Number of equal price bins between the window's lowest and highest price that the volume is spread over.",
  },
  {
    name: 'include_wicks',
    type: 'bool',
    default: true,
    description:
      "Whether a bar's price span is its full low-high range (true) or only its body, between open and close (false).",
  },
] as const satisfies readonly ParamSpec[];

export type VolumeZoneBreakoutParams = ParamsOf<typeof VOLUME_ZONE_BREAKOUT_PARAMS>;

/** Outcomes of comparing an approximate C_b with T. UNDECIDED: the bounds cannot tell; also "no bin certified". */
const REACHED = 1;
const SHORT = 2;
const UNDECIDED = -1;

/**
 * SPEC §3 volume_zone_breakout: a signal when a bar reaches above the resistance of the
 * volume profile of the `volume_window` bars before it.
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
export function volumeZoneBreakout(
  candles: Candles,
  params: VolumeZoneBreakoutParams,
  options: StrategyRunOptions = {},
): StrategySignals {
  return runScan(
    candles,
    params.hold_period_bars,
    options,
    (canBound) => new ZoneBreakoutScan(candles, params, canBound),
  );
}

class ZoneBreakoutScan {
  readonly signals = new SignalCollector();
  private readonly window: number;
  private readonly binCount: number;
  private readonly topPercentile: number;
  private readonly onePlusBuffer: number;
  private readonly spans: BarSpans;
  private readonly volume: Float64Array;
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
  private readonly range: WindowRange;
  /** The bins of the current bar's window. */
  private readonly grid: ZoneGrid;
  private readonly exact: ExactZoneProfile;
  /** The running total volume of the window, and a bound on its distance from the exact total. */
  private windowVolume = 0;
  private volumeError = 0;
  /** The last resistance bin found: the next bar's is usually the same or a neighbour. */
  private resistanceGuess = 0;

  constructor(
    candles: Candles,
    params: VolumeZoneBreakoutParams,
    private readonly canBound: boolean,
  ) {
    const { length, volume } = candles;
    this.window = params.volume_window;
    this.binCount = params.num_bins;
    this.topPercentile = params.top_percentile;
    this.onePlusBuffer = 1 + params.breakout_buffer;
    const spans = barSpans(candles, params.include_wicks);
    this.spans = spans;
    this.volume = volume;
    this.density = new Float64Array(this.canBound ? length : 0);
    for (let k = 0; k < this.density.length; k++) {
      this.density[k] = volume[k] / (spans.high[k] - spans.low[k]);
    }
    this.errorFactor = 1 + (8 * this.window + 8 * this.binCount + 40) * UNIT_ROUNDOFF;
    this.range = new WindowRange(spans.low, spans.high, this.window);
    this.grid = new ZoneGrid(this.binCount, this.onePlusBuffer);
    this.exact = new ExactZoneProfile(spans, volume, params);
  }

  scan(from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (i >= this.window) {
        const confidence = this.evaluate(i);
        if (confidence !== NO_SIGNAL) this.signals.push(i, confidence);
      }
      this.range.push(i);
      this.slideWindowVolume(this.volume[i], i - this.window);
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

    if (this.volumeError > this.windowVolume * STALE_SUM_RATIO) {
      this.anchorWindowVolume(sumLeftToRight(this.volume, from, i));
    }
    if (this.windowVolume === 0) return NO_SIGNAL; // exactly: no volume, no resistance
    // A signal needs b* <= top. When the last resistance lies above top, this bar most
    // likely falls short, which a first pass at top + 1 usually shows; otherwise b* is sought
    // directly.
    const top = this.highestReachedBin(barHigh);
    let resistance: number;
    if (this.resistanceGuess > top) {
      const side = this.compareVolumeAbove(top + 1, from, i);
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

  /** Moves the window total by one bar each way, tracking the bound on its rounding error. */
  private slideWindowVolume(entering: number, leaving: number): void {
    this.windowVolume += entering;
    this.volumeError += EPS * Math.abs(this.windowVolume);
    if (leaving >= 0) {
      this.windowVolume -= this.volume[leaving];
      this.volumeError += EPS * Math.abs(this.windowVolume);
    }
  }

  /** A freshly summed window total: w non-negative terms are off by at most (w - 1)·2^-53 of it. */
  private anchorWindowVolume(total: number): void {
    this.windowVolume = total;
    this.volumeError = this.window * EPS * total;
  }

  /**
   * Whether the naive C_bin reaches T for certain (REACHED), falls short for certain (SHORT),
   * or the bounds cannot tell (UNDECIDED). C_bin, the volume above edge e_bin, is summed
   * approximately, newest bars first (in a rising market they are the ones above, so the
   * sum usually passes T after a few bars). In exact arithmetic a bar's overlaps with the
   * bins >= b telescope to max(0, hi - max(lo, e_b)), so C_b is the sum of
   * v * max(0, hi - max(lo, e_b)) / (hi - lo), plus v for each flat bar at or above e_b.
   * T lies within top_percentile * (windowVolume ± volumeError); errorFactor covers the rest.
   */
  private compareVolumeAbove(bin: number, from: number, to: number): number {
    const { volume, density } = this;
    const { low: spanLow, high: spanHigh } = this.spans;
    const edge = this.grid.edge(bin);
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
    this.anchorWindowVolume(total);
    return above * this.errorFactor < this.topPercentile * (total - this.volumeError)
      ? SHORT
      : UNDECIDED;
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
      const side = this.compareVolumeAbove(probe, from, to);
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
