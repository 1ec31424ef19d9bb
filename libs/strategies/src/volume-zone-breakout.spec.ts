import { Bar, candlesOf } from './testing/candle-fixtures';
import { naiveVolumeZoneBreakout } from './testing/naive-reference';
import { VolumeZoneBreakoutParams, volumeZoneBreakout } from './volume-zone-breakout';

// Windows of 4 bars keep the hand computations short; the function itself takes any window
// (the 10..500 range is enforced by resolveParams).
const PARAMS: VolumeZoneBreakoutParams = {
  volume_window: 4,
  top_percentile: 0.5,
  breakout_buffer: 0,
  hold_period_bars: 1,
  num_bins: 4,
  include_wicks: true,
};

/** [open, high, low, close, volume]: a rising bar from low to high. */
const rising = (low: number, high: number, volume: number): Bar => [low, high, low, high, volume];
const flat = (price: number, volume: number): Bar => [price, price, price, price, volume];

/**
 * The worked profile. pmin 100, pmax 108, 4 bins of 2: edges 100, 102, 104, 106, 108.
 *   [100, 104] v 4: 4 * 2/4 = 2 to bins 0 and 1
 *   [102, 106] v 2: 2 * 2/4 = 1 to bins 1 and 2
 *   [104, 108] v 8: 8 * 2/4 = 4 to bins 2 and 3
 *   flat at 106 v 3: into bin 3, whose lower edge is 106
 * bins = [2, 3, 5, 7], total 17. At top_percentile 0.5, T = 8.5; from the top: 7 < 8.5,
 * 7 + 5 = 12 >= 8.5 at bin 2, so the resistance is e_2 = 104. At 0.4, T = 6.8 and bin 3
 * already holds 7: resistance 106.
 */
const WINDOW: Bar[] = [rising(100, 104, 4), rising(102, 106, 2), rising(104, 108, 8), flat(106, 3)];

function signalOf(window: Bar[], bar: Bar, params: Partial<VolumeZoneBreakoutParams> = {}) {
  const candles = candlesOf([...window, bar]);
  const signals = volumeZoneBreakout(candles, { ...PARAMS, ...params });
  // The hand computations and the naive reading must agree too.
  const naive = naiveVolumeZoneBreakout(candles, { ...PARAMS, ...params });
  expect(Array.from(signals.indices)).toEqual(naive.indices);
  expect(Array.from(signals.confidence)).toEqual(naive.confidence);
  return signals.indices.length === 0 ? undefined : signals.confidence[0];
}

describe('volume_zone_breakout', () => {
  it('breaks out at the resistance of the worked profile: 104 at top_percentile 0.5', () => {
    expect(signalOf(WINDOW, rising(100, 103.5, 1))).toBeUndefined();
    // high == level: confidence 0.5 + (104 - 104) / 104.
    expect(signalOf(WINDOW, rising(100, 104, 1))).toBe(0.5);
    expect(signalOf(WINDOW, rising(100, 110, 1))).toBe(0.5 + 6 / 104);
  });

  it('moves the resistance up as top_percentile falls: 106 at 0.4', () => {
    expect(signalOf(WINDOW, rising(100, 105.5, 1), { top_percentile: 0.4 })).toBeUndefined();
    expect(signalOf(WINDOW, rising(100, 106, 1), { top_percentile: 0.4 })).toBe(0.5);
  });

  it('raises the level by the buffer: 104 * 1.01', () => {
    const level = 104 * (1 + 0.01);
    expect(signalOf(WINDOW, rising(100, 105, 1), { breakout_buffer: 0.01 })).toBeUndefined();
    expect(signalOf(WINDOW, rising(100, level, 1), { breakout_buffer: 0.01 })).toBe(0.5);
  });

  it('caps the confidence at 1', () => {
    expect(signalOf(WINDOW, rising(100, 200, 1))).toBe(1);
  });

  it('counts a running sum equal to the threshold as reaching it', () => {
    // The flat bar with volume 6 makes bins [2, 3, 5, 10], total 20, T = 10: bin 3 alone
    // reaches it exactly, so the resistance is 106.
    const window = [...WINDOW.slice(0, 3), flat(106, 6)];
    expect(signalOf(window, rising(100, 105.9, 1))).toBeUndefined();
    expect(signalOf(window, rising(100, 106, 1))).toBe(0.5);
  });

  it('puts a flat bar at pmax into the top bin and one at pmin into the bottom bin', () => {
    // pmin 100 (flat, v 10), pmax 108 (flat, v 1), [100, 108] v 8 spreads 2 per bin:
    // bins [12, 2, 2, 3]; T = 9.5 is reached at bin 0, resistance 100.
    const window = [flat(100, 10), rising(100, 108, 8), flat(108, 1), flat(104, 0)];
    expect(signalOf(window, rising(99, 99.5, 1))).toBeUndefined();
    expect(signalOf(window, rising(99, 100, 1))).toBe(0.5);
    // With the top flat bar heavier (v 20): bins [10, 2, 2, 22], T = 18: bin 3 reaches it.
    const topHeavy = [flat(100, 10), rising(100, 108, 8), flat(108, 20), flat(104, 0)];
    expect(signalOf(topHeavy, rising(100, 105.9, 1))).toBeUndefined();
    expect(signalOf(topHeavy, rising(100, 106, 1))).toBe(0.5);
  });

  it('gives no signal when the window has one price (pmin == pmax)', () => {
    const window = [flat(100, 5), flat(100, 5), flat(100, 5), flat(100, 5)];
    expect(signalOf(window, rising(100, 1000, 1))).toBeUndefined();
  });

  it('gives no signal when the window traded no volume', () => {
    const window = WINDOW.map(([open, high, low, close]): Bar => [open, high, low, close, 0]);
    expect(signalOf(window, rising(100, 1000, 1))).toBeUndefined();
  });

  it('spans only the bodies without wicks', () => {
    // Bodies [100, 104], [102, 106], [104, 108] as before, but wicks reaching 90 and 120:
    // with wicks the range is 90..120; without, the worked profile again.
    const wicked = WINDOW.map(([open, , , close, volume]): Bar => [open, 120, 90, close, volume]);
    expect(signalOf(wicked, rising(100, 104, 1), { include_wicks: false })).toBe(0.5);
    expect(signalOf(wicked, rising(100, 104, 1), { include_wicks: true })).toBeUndefined();
  });

  it('rebuilds the profile from each bar’s own window', () => {
    // Bar 4 sees WINDOW; bar 5 sees bars 1..4, whose range and bins differ.
    const candles = candlesOf([...WINDOW, rising(100, 104, 1), rising(100, 107, 1)]);
    const signals = volumeZoneBreakout(candles, PARAMS);
    expect(Array.from(signals.indices)).toEqual(naiveVolumeZoneBreakout(candles, PARAMS).indices);
    expect(Array.from(signals.indices)).toContain(4);
  });

  it('never signals before a full window', () => {
    const candles = candlesOf([rising(100, 101, 1), rising(101, 150, 100), rising(150, 200, 100)]);
    expect(volumeZoneBreakout(candles, PARAMS).indices).toHaveLength(0);
  });
});
