import { allocateCandles, Candles, PRICE_COLUMNS, sliceCandles } from '@app/common';
import { EpochRange } from './kst-time';

/** The columns every candle file must have; anything else in a file is ignored. */
export const CANDLE_COLUMNS = ['timestamp', ...PRICE_COLUMNS] as const;
export type CandleColumn = (typeof CANDLE_COLUMNS)[number];

/**
 * Puts candles in time order; of rows with exactly the same timestamp the LAST one in input
 * order wins (a later correction replaces an earlier row). Input that is already strictly
 * increasing, the normal case, is returned as it is without copying.
 */
export function sortAndDeduplicate(candles: Candles): Candles {
  const { timestamp, length } = candles;
  if (isStrictlyIncreasing(timestamp)) return candles;

  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  // Ties broken by input position, so equal timestamps stay in input order and the last is kept.
  order.sort((a, b) => timestamp[a] - timestamp[b] || a - b);

  const kept: number[] = [];
  for (let k = 0; k < length; k++) {
    const isLastOfItsTimestamp =
      k === length - 1 || timestamp[order[k + 1]] !== timestamp[order[k]];
    if (isLastOfItsTimestamp) kept.push(order[k]);
  }
  const result = allocateCandles(kept.length);
  for (const column of CANDLE_COLUMNS) {
    const source = candles[column];
    const target = result[column];
    for (let k = 0; k < kept.length; k++) target[k] = source[kept[k]];
  }
  return result;
}

/** The candles with `startMs <= timestamp < endMs`, as a view; the input must be sorted. */
export function candlesInRange(candles: Candles, range: EpochRange): Candles {
  const from = lowerBound(candles.timestamp, range.startMs);
  const to = Math.max(from, lowerBound(candles.timestamp, range.endMs));
  return sliceCandles(candles, from, to);
}

/** One set of columns holding the parts one after another, in the order given. */
export function concatCandles(parts: readonly Candles[]): Candles {
  const result = allocateCandles(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    for (const column of CANDLE_COLUMNS) {
      result[column].set(part[column], offset);
    }
    offset += part.length;
  }
  return result;
}

function isStrictlyIncreasing(values: Float64Array): boolean {
  for (let i = 1; i < values.length; i++) {
    if (!(values[i] > values[i - 1])) return false;
  }
  return true;
}

/** Index of the first value >= target in an ascending array. */
function lowerBound(values: Float64Array, target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle] < target) low = middle + 1;
    else high = middle;
  }
  return low;
}
