import { Candles } from '@app/common';
import { candlesInRange, concatCandles, sortAndDeduplicate } from './candle-order';

/** Candles whose close is a label, so tests can see which row survived. */
function candles(rows: [timestamp: number, close: number][]): Candles {
  const column = (pick: (row: [number, number]) => number) => Float64Array.from(rows.map(pick));
  return {
    length: rows.length,
    timestamp: column(([timestamp]) => timestamp),
    open: column(([, close]) => close - 1),
    high: column(([, close]) => close + 1),
    low: column(([, close]) => close - 2),
    close: column(([, close]) => close),
    volume: column(([, close]) => close * 10),
  };
}

const rowsOf = (result: Candles) =>
  Array.from(result.timestamp, (timestamp, i) => [timestamp, result.close[i]] as [number, number]);

describe('sortAndDeduplicate', () => {
  it('sorts by time and keeps the LAST row of a duplicate timestamp, whole row', () => {
    const result = sortAndDeduplicate(
      candles([
        [3, 30],
        [1, 10],
        [3, 31],
        [2, 20],
        [1, 11],
        [3, 32],
      ]),
    );
    expect(rowsOf(result)).toEqual([
      [1, 11],
      [2, 20],
      [3, 32],
    ]);
    expect(Array.from(result.volume)).toEqual([110, 200, 320]);
    expect(Array.from(result.open)).toEqual([10, 19, 31]);
  });

  it('returns already sorted input untouched', () => {
    const sorted = candles([
      [1, 10],
      [2, 20],
    ]);
    expect(sortAndDeduplicate(sorted)).toBe(sorted);
  });

  it('handles empty input', () => {
    expect(sortAndDeduplicate(candles([])).length).toBe(0);
  });
});

describe('candlesInRange', () => {
  it('keeps start <= t < end', () => {
    const all = candles([
      [10, 1],
      [20, 2],
      [30, 3],
      [40, 4],
    ]);
    expect(rowsOf(candlesInRange(all, { startMs: 20, endMs: 40 }))).toEqual([
      [20, 2],
      [30, 3],
    ]);
    expect(candlesInRange(all, { startMs: 41, endMs: 50 }).length).toBe(0);
    expect(candlesInRange(all, { startMs: 30, endMs: 10 }).length).toBe(0);
  });
});

describe('concatCandles', () => {
  it('copies parts one after another into new arrays', () => {
    const first = candles([[1, 10]]);
    const result = concatCandles([
      first,
      candles([
        [2, 20],
        [3, 30],
      ]),
    ]);
    expect(rowsOf(result)).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    result.close[0] = 99;
    expect(first.close[0]).toBe(10);
  });
});
