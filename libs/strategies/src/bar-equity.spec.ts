import { BarEquityTrades, computeBarEquity } from './bar-equity';

function tradesOf(rows: Array<[entry: number, exit: number, entryFill: number, exitFill: number]>) {
  return {
    entryIndex: Int32Array.from(rows, (row) => row[0]),
    exitIndex: Int32Array.from(rows, (row) => row[1]),
    entryFill: Float64Array.from(rows, (row) => row[2]),
    exitFill: Float64Array.from(rows, (row) => row[3]),
  } satisfies BarEquityTrades;
}

describe('computeBarEquity (SPEC §12, positions single)', () => {
  const close = Float64Array.from([100, 110, 120, 90, 100]);

  it('is 1 on every bar without trades', () => {
    expect(Array.from(computeBarEquity(close, tradesOf([]), 0.001))).toEqual([1, 1, 1, 1, 1]);
  });

  it('marks the position to the closes, pays the exit fill net of the fee, then stays flat', () => {
    // Fee 0.001, one trade 1→3 filled at 110 and 90 (no slippage here):
    // B_0 = 1 (before the first trade); units = B_0 / (110·1.001) = 1 / 110.11;
    // B_1 = 110 / 110.11, B_2 = 120 / 110.11, B_3 = 90·0.999 / 110.11 = 89.91 / 110.11; B_4 = B_3.
    const equity = computeBarEquity(close, tradesOf([[1, 3, 110, 90]]), 0.001);
    expect(equity[0]).toBe(1);
    expect(equity[1]).toBeCloseTo(110 / 110.11, 14);
    expect(equity[2]).toBeCloseTo(120 / 110.11, 14);
    expect(equity[3]).toBeCloseTo(89.91 / 110.11, 14);
    expect(equity[4]).toBe(equity[3]);
  });

  it('gives the exit value on a bar where a trade enters and exits (j = i)', () => {
    // After the first trade B_3 = 89.91 / 110.11; the second enters and exits at bar 4 at 100:
    // units = B_3 / (100·1.001), B_4 = units·100·0.999 = B_3·0.999 / 1.001 (not units·close).
    const equity = computeBarEquity(
      close,
      tradesOf([
        [1, 3, 110, 90],
        [4, 4, 100, 100],
      ]),
      0.001,
    );
    expect(equity[4]).toBeCloseTo(((89.91 / 110.11) * 0.999) / 1.001, 14);
    expect(equity[4]).toBeLessThan(equity[3]);
  });

  it('enters at bar 0 with B_{−1} = 1', () => {
    // No fee, one trade 0→2 filled at 100 and 120: units = B_{−1} / 100 = 1 / 100, so
    // B_0 = 100 / 100 = 1, B_1 = 110 / 100 = 1.1, B_2 = 120 / 100 = 1.2, flat after.
    const equity = computeBarEquity(close, tradesOf([[0, 2, 100, 120]]), 0);
    expect(Array.from(equity)).toEqual([1, 1.1, 1.2, 1.2, 1.2]);
  });

  it('refuses overlapping trades: that is overlap mode, which has no one account', () => {
    expect(() =>
      computeBarEquity(
        close,
        tradesOf([
          [0, 2, 100, 120],
          [2, 3, 120, 90],
        ]),
        0,
      ),
    ).toThrow(RangeError);
  });

  it('writes into a given buffer, overwriting what it held', () => {
    const buffer = new Float64Array(close.length).fill(Number.NaN);
    expect(computeBarEquity(close, tradesOf([[0, 2, 100, 120]]), 0, buffer)).toBe(buffer);
    expect(Array.from(buffer)).toEqual([1, 1.1, 1.2, 1.2, 1.2]);
    expect(() => computeBarEquity(close, tradesOf([]), 0, new Float64Array(3))).toThrow(RangeError);
  });
});
