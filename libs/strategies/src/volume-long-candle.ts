import { Candles, throwIfCancelled } from '@app/common';
import { EPS, STALE_SUM_RATIO, sumLeftToRight } from './float-bounds';
import { ParamsOf, ParamSpec } from './params';
import { checkCandles } from './candle-checks';
import { runScan } from './run-scan';
import { SignalCollector, StrategyRunOptions, StrategySignals } from './signals';

export const VOLUME_LONG_CANDLE_PARAMS = [
  {
    name: 'vol_ma_window',
    type: 'int',
    default: 20,
    min: 1,
    max: 500,
    description:
      'Number of bars in the volume moving average, the current bar included. The first bars average the bars available so far.',
  },
  {
    name: 'vol_multiplier',
    type: 'float',
    default: 1.5,
    min: 1.0,
    max: 10.0,
    description:
      "A bar's volume must be at least this multiple of the volume moving average to count as a surge.",
  },
  {
    name: 'body_pct',
    type: 'float',
    default: 0.02,
    min: 0.001,
    max: 0.5,
    description:
      'Minimum candle body, (close - open) / open, as a fraction (0.02 = 2%). Each wick must also stay below twice this fraction of the open.',
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
] as const satisfies readonly ParamSpec[];

export type VolumeLongCandleParams = ParamsOf<typeof VOLUME_LONG_CANDLE_PARAMS>;

/**
 * SPEC §3's long candle, the one definition the scan and the sweep grid share: body >= body_pct,
 * close > open, each wick below 2·body_pct (`maxWick`), the spec's operations as written.
 */
function isLongCandle(
  barOpen: number,
  barHigh: number,
  barLow: number,
  barClose: number,
  bodyPct: number,
  maxWick: number,
): boolean {
  // The body test first: it almost always fails, so its branch predicts well (close > open does not).
  return (
    (barClose - barOpen) / barOpen >= bodyPct &&
    barClose > barOpen &&
    Math.max(barHigh - barClose, 0) / barOpen < maxWick &&
    Math.max(barOpen - barLow, 0) / barOpen < maxWick
  );
}

/**
 * SPEC §3 volume_long_candle: a signal on a long bullish candle with a volume surge.
 *
 * Exactness: the candle tests use the spec's operations as written. The surge test needs
 * vol_ma as the spec computes it — the window summed left to right, then divided — and that
 * sum is what is computed (O(window)) for every long candle that might be a surge, so the
 * decision and the confidence are bit-identical to the naive reading. A running window sum
 * only rules out long candles that are certainly not surges: it carries a bound E on its
 * distance from the exact sum (each addition or subtraction adds EPS·|sum|), and the naive
 * sum S_naive of m non-negative volumes is within (m-1)·2^-53·S of the exact S, so
 *   S_naive >= S - E - (m + 4)·EPS·S            (the +4 also covers this line's own rounding)
 * and `volume < that * multiplier / m * (1 - 4·EPS)` proves `volume < vol_ma * multiplier`.
 * The bound needs no underflow or overflow; data that could cause one (never real data)
 * takes the exact sum on every long candle.
 */
export function volumeLongCandle(
  candles: Candles,
  params: VolumeLongCandleParams,
  options: StrategyRunOptions = {},
): StrategySignals {
  return runScan(
    candles,
    params.hold_period_bars,
    options,
    (canBound) => new LongCandleScan(candles, params, canBound),
  );
}

class LongCandleScan {
  readonly signals = new SignalCollector();
  private readonly window: number;
  private readonly multiplier: number;
  private readonly bodyPct: number;
  private readonly maxWick: number;
  /** The sum of the current window, and a bound on its distance from the exact sum. */
  private runningSum = 0;
  private runningError = 0;

  constructor(
    private readonly candles: Candles,
    params: VolumeLongCandleParams,
    private readonly canFilter: boolean,
  ) {
    this.window = params.vol_ma_window;
    this.multiplier = params.vol_multiplier;
    this.bodyPct = params.body_pct;
    this.maxWick = 2 * params.body_pct;
  }

  scan(from: number, to: number): void {
    const { open, high, low, close, volume } = this.candles;
    const { window, multiplier, bodyPct, maxWick, canFilter } = this;
    let runningSum = this.runningSum;
    let runningError = this.runningError;
    for (let i = from; i < to; i++) {
      const barVolume = volume[i];
      runningSum += barVolume;
      runningError += EPS * Math.abs(runningSum);
      if (i >= window) {
        runningSum -= volume[i - window];
        runningError += EPS * Math.abs(runningSum);
      }

      if (!isLongCandle(open[i], high[i], low[i], close[i], bodyPct, maxWick)) continue;

      const count = i < window ? i + 1 : window;
      if (canFilter && runningError <= runningSum * STALE_SUM_RATIO) {
        const surelyBelowSum = runningSum - runningError - (count + 4) * EPS * runningSum;
        if (barVolume < ((surelyBelowSum * multiplier) / count) * (1 - 4 * EPS)) continue;
      }

      const windowSum = sumLeftToRight(volume, i + 1 - count, i + 1);
      // Re-anchor on the exact sum: m non-negative terms summed are off by at most m·2^-53 of it.
      runningSum = windowSum;
      runningError = count * EPS * windowSum;
      const volMa = windowSum / count;
      if (!(barVolume >= volMa * multiplier)) continue;
      this.signals.push(i, volMa === 0 ? 1 : Math.min(barVolume / volMa / multiplier, 1));
    }
    this.runningSum = runningSum;
    this.runningError = runningError;
  }
}

/**
 * What a parameter sweep's combinations share on one series (SPEC §13): the long candles of
 * a body_pct (the same for every vol_ma_window, vol_multiplier and hold), and the volume mean
 * of a vol_ma_window at those bars (the same for every vol_multiplier and hold). Each run then
 * only compares volumes. The figures are the scan's bit for bit: the mean is the scan's exact
 * one (the window summed left to right, then divided; the scan's running sum only rules out
 * bars that are certainly no surge), the surge test and the confidence the same expressions.
 */
export class VolumeLongCandleGrid {
  private readonly longCandles = new Map<number, Int32Array>();
  private readonly volumeMeans = new Map<string, Float64Array>();

  constructor(private readonly candles: Candles) {
    // The checks a run makes (and its error for candles it refuses), once for the series.
    checkCandles(candles);
  }

  run(params: VolumeLongCandleParams, options: StrategyRunOptions = {}): StrategySignals {
    throwIfCancelled(options.isCancelled);
    const bars = this.longCandlesOf(params.body_pct);
    const means = this.meansOf(params.body_pct, params.vol_ma_window, bars);
    const { volume } = this.candles;
    const multiplier = params.vol_multiplier;
    const signals = new SignalCollector();
    for (let k = 0; k < bars.length; k++) {
      const i = bars[k];
      const barVolume = volume[i];
      const volMa = means[k];
      if (!(barVolume >= volMa * multiplier)) continue;
      signals.push(i, volMa === 0 ? 1 : Math.min(barVolume / volMa / multiplier, 1));
    }
    return signals.finish(params.hold_period_bars);
  }

  private longCandlesOf(bodyPct: number): Int32Array {
    let bars = this.longCandles.get(bodyPct);
    if (!bars) {
      const { open, high, low, close, length } = this.candles;
      const maxWick = 2 * bodyPct;
      const found = new SignalCollector();
      for (let i = 0; i < length; i++) {
        if (isLongCandle(open[i], high[i], low[i], close[i], bodyPct, maxWick)) found.push(i, 0);
      }
      bars = found.finish(0).indices;
      this.longCandles.set(bodyPct, bars);
    }
    return bars;
  }

  private meansOf(bodyPct: number, window: number, bars: Int32Array): Float64Array {
    const key = `${bodyPct}/${window}`;
    let means = this.volumeMeans.get(key);
    if (!means) {
      const { volume } = this.candles;
      means = new Float64Array(bars.length);
      for (let k = 0; k < bars.length; k++) {
        const i = bars[k];
        const count = i < window ? i + 1 : window;
        means[k] = sumLeftToRight(volume, i + 1 - count, i + 1) / count;
      }
      this.volumeMeans.set(key, means);
    }
    return means;
  }
}
