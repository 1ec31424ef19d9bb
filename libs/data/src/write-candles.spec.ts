import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInputError } from '@app/common';
import { readCandleFile } from './parquet-candles';
import { generateCandles } from './synthetic';
import { stageFile, writeCandleFile } from './write-candles';

describe('writeCandleFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'write-candles-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const candles = (seed: number) =>
    generateCandles({ count: 50, startMs: Date.UTC(2024, 0, 1), stepMs: 60_000, seed });

  it('creates missing directories and leaves no temp file behind', async () => {
    const file = path.join(dir, 'BTC_KRW', '1M', '2024.parquet');
    await writeCandleFile(file, candles(1));
    expect(readdirSync(path.dirname(file))).toEqual(['2024.parquet']);
    expect((await readCandleFile(file)).close).toEqual(candles(1).close);
  });

  it('replaces a file by renaming a new one over it, never rewriting it in place', async () => {
    const file = path.join(dir, '2024.parquet');
    await writeCandleFile(file, candles(1));
    const before = statSync(file).ino;
    await writeCandleFile(file, candles(2));
    expect(statSync(file).ino).not.toBe(before);
    expect((await readCandleFile(file)).close).toEqual(candles(2).close);
    expect(readdirSync(dir)).toEqual(['2024.parquet']);
  });

  it('leaves the target untouched when a staged file is discarded', async () => {
    const file = path.join(dir, '2024.parquet');
    await writeCandleFile(file, candles(1));
    const staged = await stageFile(file, new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir)).toHaveLength(2);
    await staged.discard();
    expect(readdirSync(dir)).toEqual(['2024.parquet']);
    expect((await readCandleFile(file)).close).toEqual(candles(1).close);
  });

  it('rejects a row group size that is not a positive whole number', async () => {
    await expect(
      writeCandleFile(path.join(dir, 'a.parquet'), candles(1), { rowGroupSize: 0 }),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });
});
