import { allocateCandles } from '@app/common';
import { CandleFileCache, FileVersion } from './candle-file-cache';

const BYTES_PER_CANDLE = 6 * 8;
const version = (absolutePath: string, mtimeMs = 1, size = 100, ino = 7): FileVersion => ({
  absolutePath,
  mtimeMs,
  size,
  ino,
});

describe('CandleFileCache', () => {
  it('serves what it holds for the same file version', () => {
    const cache = new CandleFileCache({ maxBytes: 10 * BYTES_PER_CANDLE });
    const candles = allocateCandles(4);
    cache.set(version('/a'), candles);
    expect(cache.get(version('/a'))).toBe(candles);
    expect(cache.sizeBytes).toBe(4 * BYTES_PER_CANDLE);
  });

  it.each([
    ['mtime', version('/a', 2)],
    ['size', version('/a', 1, 101)],
    ['inode (replaced by rename)', version('/a', 1, 100, 8)],
  ])('never serves a file whose %s changed, and forgets it', (_change, changed) => {
    const cache = new CandleFileCache({ maxBytes: 10 * BYTES_PER_CANDLE });
    cache.set(version('/a'), allocateCandles(4));
    expect(cache.get(changed)).toBeUndefined();
    expect(cache.get(version('/a'))).toBeUndefined();
    expect(cache.sizeBytes).toBe(0);
  });

  it('evicts the least recently used entries to stay within maxBytes', () => {
    const cache = new CandleFileCache({ maxBytes: 10 * BYTES_PER_CANDLE });
    cache.set(version('/a'), allocateCandles(4));
    cache.set(version('/b'), allocateCandles(4));
    cache.get(version('/a')); // /b is now the least recently used
    cache.set(version('/c'), allocateCandles(4));
    expect(cache.get(version('/b'))).toBeUndefined();
    expect(cache.get(version('/a'))).toBeDefined();
    expect(cache.get(version('/c'))).toBeDefined();
    expect(cache.sizeBytes).toBe(8 * BYTES_PER_CANDLE);
  });

  it('does not hold a file larger than the whole cache', () => {
    const cache = new CandleFileCache({ maxBytes: 10 * BYTES_PER_CANDLE });
    cache.set(version('/a'), allocateCandles(2));
    cache.set(version('/huge'), allocateCandles(11));
    expect(cache.get(version('/huge'))).toBeUndefined();
    expect(cache.get(version('/a'))).toBeDefined();
  });

  it('replaces the entry of a path that is stored again', () => {
    const cache = new CandleFileCache({ maxBytes: 10 * BYTES_PER_CANDLE });
    cache.set(version('/a'), allocateCandles(4));
    const newer = allocateCandles(2);
    cache.set(version('/a', 2), newer);
    expect(cache.get(version('/a', 2))).toBe(newer);
    expect(cache.entryCount).toBe(1);
    expect(cache.sizeBytes).toBe(2 * BYTES_PER_CANDLE);
  });

  it('rejects a nonsense bound', () => {
    expect(() => new CandleFileCache({ maxBytes: -1 })).toThrow(RangeError);
  });
});
