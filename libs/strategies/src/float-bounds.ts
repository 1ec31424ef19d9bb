/**
 * The rounding facts the strategies' fast paths rely on. Each fast path keeps a running
 * window sum with a bound on its distance from the exact sum, and decides only when a
 * comparison holds beyond that bound; otherwise it takes the spec's exact, naive order.
 */

/** The relative error of one rounding, when nothing underflows or overflows. */
export const UNIT_ROUNDOFF = 2 ** -53;

/**
 * Twice that: a running sum's error grows by EPS·|sum| per addition or subtraction, with
 * slack for the bound's own arithmetic.
 */
export const EPS = Number.EPSILON;

/** Beyond this relative error a running sum no longer filters well: it is summed afresh. */
export const STALE_SUM_RATIO = 2 ** -20;

/**
 * The spec's sum: left to right, as a naive reading computes it. m non-negative terms summed
 * this way are off by at most (m - 1)·2^-53 of the exact sum.
 */
export function sumLeftToRight(values: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let k = from; k < to; k++) sum += values[k];
  return sum;
}
