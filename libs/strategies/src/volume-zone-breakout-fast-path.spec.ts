import { resolve } from 'node:path';
import { Candles, sliceCandles } from '@app/common';
import { generateCandles } from '@app/data';
import { StrategySignals } from './signals';
import {
  adversarialCandles,
  Bar,
  candlesOf,
  mirroredCandles,
  readCandleCsv,
} from './testing/candle-fixtures';
import {
  barSpans,
  ExactZoneProfile,
  NO_RESISTANCE,
  ZoneGrid,
} from './volume-zone-breakout-exact-profile';
import {
  BoundedVolumeAbove,
  REACHED,
  SHORT,
  ZoneBreakoutScan,
  ZoneBreakoutScanParams,
} from './volume-zone-breakout-fast-path';

// Jest's vm context makes a global lookup such as Math costly inside hot loops (see
// testing/naive-reference.ts): module-level copies keep these scans quick.
const { max, min } = Math;

const CASES: ZoneBreakoutScanParams[] = [
  {
    volume_window: 60,
    num_bins: 20,
    top_percentile: 0.2,
    breakout_buffer: 0.01,
    include_wicks: true,
  },
  { volume_window: 10, num_bins: 5, top_percentile: 0.5, breakout_buffer: 0, include_wicks: false },
  { volume_window: 20, num_bins: 4, top_percentile: 0.5, breakout_buffer: 0, include_wicks: true },
  {
    volume_window: 30,
    num_bins: 50,
    top_percentile: 0.3,
    breakout_buffer: 0.002,
    include_wicks: false,
  },
  {
    volume_window: 200,
    num_bins: 100,
    top_percentile: 0.05,
    breakout_buffer: 0,
    include_wicks: true,
  },
];

interface VerdictCounts {
  reached: number;
  short: number;
  undecided: number;
  /** Verdicts the exact profile contradicts: must stay empty. */
  wrong: string[];
}

/**
 * Asks the bounds about every bin of every bar's window and checks each certain answer
 * against the exact profile's resistance b*: C_b >= T exactly for the bins b <= b* (the
 * spec's running sums from the top only grow), so REACHED must mean b <= b* and SHORT b > b*.
 * The bounds see the same pushes and refreshes as in the scan, and more comparisons.
 */
function certifyEveryBin(candles: Candles, params: ZoneBreakoutScanParams): VerdictCounts {
  const spans = barSpans(candles, params.include_wicks);
  const bounds = new BoundedVolumeAbove(spans, candles.volume, params, true);
  const exact = new ExactZoneProfile(spans, candles.volume, params);
  const grid = new ZoneGrid(params.num_bins, 1 + params.breakout_buffer);
  const counts: VerdictCounts = { reached: 0, short: 0, undecided: 0, wrong: [] };
  const window = params.volume_window;
  for (let i = 0; i < candles.length; i++) {
    if (i >= window) {
      const from = i - window;
      let priceMin = Infinity;
      let priceMax = -Infinity;
      for (let k = from; k < i; k++) {
        priceMin = min(priceMin, spans.low[k]);
        priceMax = max(priceMax, spans.high[k]);
      }
      bounds.refreshIfStale(from, i);
      if (priceMin < priceMax && !bounds.tradedNothing()) {
        const resistance = exact.resistanceBin(from, i, priceMin, priceMax);
        if (resistance === NO_RESISTANCE) counts.wrong.push(`bar ${i}: traded, yet no resistance`);
        grid.setRange(priceMin, priceMax);
        for (let bin = 0; bin < params.num_bins; bin++) {
          const verdict = bounds.compareWithThreshold(grid.edge(bin), from, i);
          if (verdict === REACHED) counts.reached++;
          else if (verdict === SHORT) counts.short++;
          else counts.undecided++;
          if (
            (verdict === REACHED && bin > resistance) ||
            (verdict === SHORT && bin <= resistance)
          ) {
            counts.wrong.push(
              `bar ${i}, bin ${bin}: ${verdict === REACHED ? 'REACHED' : 'SHORT'}, b* = ${resistance}`,
            );
          }
        }
      }
    }
    bounds.push(i);
  }
  return counts;
}

function scanSignals(
  candles: Candles,
  params: ZoneBreakoutScanParams,
  canBound: boolean,
): StrategySignals {
  const scan = new ZoneBreakoutScan(candles, params, canBound);
  scan.scan(0, candles.length);
  return scan.signals.finish(1);
}

const oneMinuteCandles = (count: number, seed: number): Candles =>
  generateCandles({ count, startMs: Date.UTC(2024, 0, 1), stepMs: 60_000, seed });
const realCandles = (): Candles =>
  sliceCandles(
    readCandleCsv(resolve(__dirname, '../../../test/fixtures/binance/XRP_ETH-1m.csv')),
    0,
    1_500,
  );

describe('BoundedVolumeAbove: a certain answer never disagrees with the exact profile', () => {
  it.each([1, 2, 3])('adversarial data full of exact ties, seed %i', (seed) => {
    const candles = adversarialCandles(seed, 1_000);
    for (const params of CASES.slice(0, 4)) {
      const counts = certifyEveryBin(candles, params);
      expect(counts.wrong).toEqual([]);
      // Ties or not, the bounds still decide nearly every bin themselves.
      expect(counts.reached + counts.short).toBeGreaterThan(20 * counts.undecided);
    }
  });

  it.each([1, 2])('mirrored windows, where C_b = T in exact arithmetic, seed %i', (seed) => {
    const candles = mirroredCandles(seed, 600);
    const counts = { reached: 0, short: 0, undecided: 0 };
    for (const include_wicks of [true, false]) {
      for (const num_bins of [4, 10]) {
        const params = {
          volume_window: 20,
          num_bins,
          top_percentile: 0.5,
          breakout_buffer: 0,
          include_wicks,
        };
        const { wrong, ...these } = certifyEveryBin(candles, params);
        expect(wrong).toEqual([]);
        counts.reached += these.reached;
        counts.short += these.short;
        counts.undecided += these.undecided;
      }
    }
    // The ties of exact arithmetic are left to the exact profile; the other bins are decided.
    expect(counts.undecided).toBeGreaterThan(1000);
    expect(counts.reached).toBeGreaterThan(1000);
    expect(counts.short).toBeGreaterThan(1000);
  });

  // The widest case (window 200, 100 bins) only on the real candles: it is slow under Jest.
  it.each<[string, () => Candles, ZoneBreakoutScanParams[]]>([
    ['real XRP/ETH candles', realCandles, CASES],
    ['generated one-minute candles', () => oneMinuteCandles(1_500, 7), CASES.slice(0, 4)],
  ])('%s: nearly every bin decided', (_, candlesOf, cases) => {
    const candles = candlesOf();
    for (const params of cases) {
      const counts = certifyEveryBin(candles, params);
      expect(counts.wrong).toEqual([]);
      expect(counts.reached + counts.short).toBeGreaterThan(100 * counts.undecided);
    }
  });
});

/**
 * Ten bars of volume 0.1, one of 2^60, ten more of 0.1, all spanning [100, 100.5], then a bar
 * reaching 110. While 2^60 is in the window the running total rounds every 0.1 away, so once
 * it has left, the total is 0 although the window traded 1. Between those bars no comparison
 * re-anchors the total: with a 1% buffer none of them reaches pmin * 1.01 and is evaluated.
 * Only the error the running total has gathered along the way shows it must be summed afresh.
 */
function hugeVolumeComeAndGone(): Candles {
  const bar = (volume: number): Bar => [100, 100.5, 100, 100.5, volume];
  const small = Array.from({ length: 10 }, () => bar(0.1));
  return candlesOf([...small, bar(2 ** 60), ...small, [100, 110, 100, 110, 0.1]]);
}
const HUGE_VOLUME_PARAMS: ZoneBreakoutScanParams = {
  volume_window: 10,
  num_bins: 4,
  top_percentile: 0.5,
  breakout_buffer: 0.01,
  include_wicks: true,
};

describe('BoundedVolumeAbove: the running window total', () => {
  it('is summed afresh once a huge volume has come and gone, not taken for no volume', () => {
    const candles = hugeVolumeComeAndGone();
    const spans = barSpans(candles, true);
    const bounds = new BoundedVolumeAbove(spans, candles.volume, HUGE_VOLUME_PARAMS, true);
    for (let i = 0; i <= 20; i++) bounds.push(i);
    // The window of bar 21: bars 11..20, which traded 1 in all.
    bounds.refreshIfStale(11, 21);
    expect(bounds.tradedNothing()).toBe(false);
    expect(bounds.compareWithThreshold(100, 11, 21)).toBe(REACHED);
  });

  it('gives the breakout after it, as the exact profile does', () => {
    const candles = hugeVolumeComeAndGone();
    const exact = scanSignals(candles, HUGE_VOLUME_PARAMS, false);
    expect(Array.from(exact.indices)).toEqual([21]);
    expect(Array.from(scanSignals(candles, HUGE_VOLUME_PARAMS, true).indices)).toEqual([21]);
  });
});

describe('ZoneBreakoutScan: the bounded scan gives what the exact profile alone gives', () => {
  const series: Array<[string, () => Candles]> = [
    ['adversarial, seed 5', () => adversarialCandles(5, 1_500)],
    ['adversarial, seed 6', () => adversarialCandles(6, 1_500)],
    ['mirrored, seed 3', () => mirroredCandles(3, 800)],
    ['real XRP/ETH', realCandles],
    ['generated one-minute', () => oneMinuteCandles(5_000, 11)],
  ];

  it.each(series)('%s: identical signals and confidences', (_, candlesOf) => {
    const candles = candlesOf();
    for (const params of CASES.slice(0, 4)) {
      const bounded = scanSignals(candles, params, true);
      const exact = scanSignals(candles, params, false);
      expect(Array.from(bounded.indices)).toEqual(Array.from(exact.indices));
      expect(Array.from(bounded.confidence)).toEqual(Array.from(exact.confidence));
    }
  });

  it('takes the exact profile on few bars of ordinary data, and on every candidate bar without bounds', () => {
    const candles = oneMinuteCandles(5_000, 3);
    const params = CASES[0];
    const profiles = jest.spyOn(ExactZoneProfile.prototype, 'resistanceBin');
    try {
      scanSignals(candles, params, true);
      const bounded = profiles.mock.calls.length;
      profiles.mockClear();
      scanSignals(candles, params, false);
      const unbounded = profiles.mock.calls.length;
      expect(unbounded).toBeGreaterThan(candles.length / 2);
      expect(bounded).toBeLessThan(unbounded / 20);
    } finally {
      profiles.mockRestore();
    }
  });
});
