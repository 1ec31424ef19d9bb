import { seededRandom } from '@app/data';
import { WindowRange } from './volume-zone-breakout-window-range';

/** The window's min and max by looking at every bar: what the deques must reproduce. */
function bruteForceRange(low: Float64Array, high: Float64Array, last: number, window: number) {
  let min = Infinity;
  let max = -Infinity;
  for (let k = Math.max(0, last - window + 1); k <= last; k++) {
    min = Math.min(min, low[k]);
    max = Math.max(max, high[k]);
  }
  return { min, max };
}

/** Pushes every bar and returns the bars where the deques disagree with the brute force. */
function mismatches(low: Float64Array, high: Float64Array, window: number): string[] {
  const range = new WindowRange(low, high, window);
  const found: string[] = [];
  for (let i = 0; i < low.length; i++) {
    range.push(i);
    const { min, max } = bruteForceRange(low, high, i, window);
    if (range.low() !== min || range.high() !== max) {
      found.push(
        `window ${window}, bar ${i}: got [${range.low()}, ${range.high()}], want [${min}, ${max}]`,
      );
    }
  }
  return found;
}

/** Values from a handful of prices, so equal lows and highs meet in most windows. */
function tiedSeries(seed: number, length: number): [Float64Array, Float64Array] {
  const random = seededRandom(seed);
  const low = new Float64Array(length);
  const high = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    low[i] = 100 + Math.floor(random() * 4);
    high[i] = low[i] + Math.floor(random() * 3);
  }
  return [low, high];
}

describe('WindowRange', () => {
  const LENGTH = 80;

  it.each([1, 2, 3])(
    'seed %i: the brute-force min and max of every window, sizes 1..n, on tied values',
    (seed) => {
      const [low, high] = tiedSeries(seed, LENGTH);
      for (let window = 1; window <= LENGTH; window++) {
        expect(mismatches(low, high, window)).toEqual([]);
      }
    },
  );

  it('keeps every bar while the lows rise and the highs fall (the deques at their fullest)', () => {
    // Each new low is the highest so far and each new high the lowest: neither deque drops a
    // bar until it leaves the window, so the rings fill and wrap around.
    const low = Float64Array.from({ length: LENGTH }, (_, i) => 100 + i);
    const high = Float64Array.from({ length: LENGTH }, (_, i) => 1000 - i);
    for (let window = 1; window <= LENGTH; window++) {
      expect(mismatches(low, high, window)).toEqual([]);
    }
  });

  it('drops bars at once while the lows fall and the highs rise', () => {
    const low = Float64Array.from({ length: LENGTH }, (_, i) => 100 - i);
    const high = Float64Array.from({ length: LENGTH }, (_, i) => 1000 + i);
    for (let window = 1; window <= LENGTH; window++) {
      expect(mismatches(low, high, window)).toEqual([]);
    }
  });

  it('lets the extreme leave exactly window bars after it entered', () => {
    // One deep low at bar 3 and one tall high at bar 5 in a constant series, window 4.
    const low = Float64Array.from([5, 5, 5, 1, 5, 5, 5, 5, 5, 5]);
    const high = Float64Array.from([6, 6, 6, 6, 6, 9, 6, 6, 6, 6]);
    const range = new WindowRange(low, high, 4);
    const seen: Array<[number, number]> = [];
    for (let i = 0; i < low.length; i++) {
      range.push(i);
      seen.push([range.low(), range.high()]);
    }
    // The low of 1 covers bars 3..6, the high of 9 bars 5..8.
    expect(seen).toEqual([
      [5, 6],
      [5, 6],
      [5, 6],
      [1, 6],
      [1, 6],
      [1, 9],
      [1, 9],
      [5, 9],
      [5, 9],
      [5, 6],
    ]);
  });
});
