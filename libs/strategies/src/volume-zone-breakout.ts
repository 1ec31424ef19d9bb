import { Candles } from '@app/common';
import { ParamsOf, ParamSpec } from './params';
import { runScan } from './run-scan';
import { StrategyRunOptions, StrategySignals } from './signals';
import { ZoneBreakoutScan } from './volume-zone-breakout-fast-path';

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

/**
 * SPEC §3 volume_zone_breakout: a signal when a bar reaches above the resistance of the
 * volume profile of the `volume_window` bars before it.
 *
 * Three units do the work, each in its own file with its own spec:
 *  - volume-zone-breakout-window-range.ts: pmin and pmax of the sliding window (deques);
 *  - volume-zone-breakout-exact-profile.ts: the profile as the spec builds it, in its order;
 *  - volume-zone-breakout-fast-path.ts: the scan, deciding most bars from approximate sums
 *    with proven error bounds and taking the exact profile for the rest.
 * Every signal and confidence is bit-identical to testing/naive-reference.ts (cross-check.spec.ts).
 * The layout is the one docs/decisions/strategies.md asks of a strategy with a fast path.
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
