/**
 * One symbol's candles as columns, in time order: the shape every layer passes on,
 * from the Parquet reader to the strategies. Timestamps are UTC epoch milliseconds.
 */
export interface Candles {
  readonly length: number;
  readonly timestamp: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

export const PRICE_COLUMNS = ['open', 'high', 'low', 'close', 'volume'] as const;
export type PriceColumn = (typeof PRICE_COLUMNS)[number];

/** Allocates empty columns for `length` candles. */
export function allocateCandles(length: number): Candles {
  return {
    length,
    timestamp: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

/** A view of candles [from, to) sharing the same memory. */
export function sliceCandles(candles: Candles, from: number, to: number): Candles {
  return {
    length: Math.max(0, to - from),
    timestamp: candles.timestamp.subarray(from, to),
    open: candles.open.subarray(from, to),
    high: candles.high.subarray(from, to),
    low: candles.low.subarray(from, to),
    close: candles.close.subarray(from, to),
    volume: candles.volume.subarray(from, to),
  };
}
