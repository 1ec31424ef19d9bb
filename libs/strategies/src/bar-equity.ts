import { Trades } from './trades';

/** What the bar equity needs of the trades: where each one enters and exits, and at what fill. */
export type BarEquityTrades = Pick<Trades, 'entryIndex' | 'exitIndex' | 'entryFill' | 'exitFill'>;

/**
 * SPEC §12's bar equity B of the `positions: single` account, one value per candle: 1 before
 * the first trade; from a trade's entry bar i, units = B_{i−1} / (entry_fill·(1 + fee))
 * (B_{−1} = 1) and B_t = units·close[t] for i ≤ t < j; B_j = units·exit_fill·(1 − fee) (when
 * j = i the exit value wins); flat after j until the next entry. O(n), one allocation (the
 * result, unless `into` is given: a sweep may reuse one buffer per series length).
 *
 * The trades must not overlap (each entry after the previous exit bar), which is what
 * `computeTrades` gives with `positions: single`.
 */
export function computeBarEquity(
  close: Float64Array,
  trades: BarEquityTrades,
  fee: number,
  into: Float64Array = new Float64Array(close.length),
): Float64Array {
  if (into.length !== close.length) {
    throw new RangeError(`bar equity buffer holds ${into.length} values, not ${close.length}`);
  }
  const entryCostFactor = 1 + fee;
  const exitCostFactor = 1 - fee;
  let value = 1;
  let bar = 0;
  for (let t = 0; t < trades.entryIndex.length; t++) {
    const entry = trades.entryIndex[t];
    const exit = trades.exitIndex[t];
    if (entry < bar || exit < entry || exit >= close.length) {
      throw new RangeError(
        `trade ${t} (bars ${entry}..${exit}) overlaps the one before it or leaves the series`,
      );
    }
    into.fill(value, bar, entry);
    const units = value / (trades.entryFill[t] * entryCostFactor);
    for (let k = entry; k < exit; k++) into[k] = units * close[k];
    value = units * trades.exitFill[t] * exitCostFactor;
    into[exit] = value;
    bar = exit + 1;
  }
  into.fill(value, bar);
  return into;
}
