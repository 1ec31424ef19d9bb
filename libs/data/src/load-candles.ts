import { stat } from 'node:fs/promises';
import { CancellationCheck, Candles, throwIfCancelled } from '@app/common';
import { CandleFileCache, FileVersion } from './candle-file-cache';
import { cannotReadFile } from './file-errors';
import { candlesInRange, concatCandles, sortAndDeduplicate } from './candle-order';
import { EpochRange } from './kst-time';
import { CandleFileLocation, yearFilesForRange } from './layout';
import { readCandleFileAs } from './parquet-candles';

export interface LoadCandlesOptions {
  /** Checked between files and row groups; once it returns true a `CancelledError` is thrown. */
  isCancelled?: CancellationCheck;
  /** Parsed year files to reuse across calls (a worker's many small tasks). */
  cache?: CandleFileCache;
}

/**
 * One symbol's candles with `range.startMs <= timestamp < range.endMs`, sorted by time.
 *
 * Symbol and timeframe are validated (`InvalidInputError`) before any path is built. Every
 * year file that can hold candles of the range is read (see `yearFilesForRange`), oldest
 * year first; of rows with exactly the same timestamp the last one read wins: the last in
 * its file, and across files the one from the later year's file. Missing files are absent
 * data, and an empty result (length 0) is for the caller to judge. A file that cannot be read
 * is a `DataFileError` naming it relative to the data root.
 *
 * The returned arrays are the caller's own, never shared with the cache.
 */
export async function loadCandles(
  dataRoot: string,
  symbol: string,
  timeframe: string,
  range: EpochRange,
  options: LoadCandlesOptions = {},
): Promise<Candles> {
  const { isCancelled, cache } = options;
  const files = await yearFilesForRange(dataRoot, symbol, timeframe, range);
  const parts: Candles[] = [];
  for (const file of files) {
    throwIfCancelled(isCancelled);
    const candles = await readYearFile(file, cache, isCancelled);
    parts.push(candlesInRange(candles, range));
  }
  throwIfCancelled(isCancelled);
  // Without a cache, one file's arrays were read for this call alone: no copy (a year of
  // one-minute candles is 25 MB of columns, ~7% of a CLI run). Otherwise concatenation copies
  // (so the cache stays private) and keeps the file order the duplicate rule depends on; one
  // sort settles candles that files share.
  if (!cache && parts.length === 1) return sortAndDeduplicate(parts[0]);
  return sortAndDeduplicate(concatCandles(parts));
}

async function readYearFile(
  file: CandleFileLocation,
  cache: CandleFileCache | undefined,
  isCancelled: CancellationCheck | undefined,
): Promise<Candles> {
  if (!cache) {
    return readCandleFileAs(file.absolutePath, file.relativePath, isCancelled, file.year);
  }
  // Stat before reading: a file replaced in between is filed under its older version, which
  // never matches again. At worst a file is parsed twice; stale candles are never served.
  let version: FileVersion;
  try {
    const { mtimeMs, size, ino } = await stat(file.absolutePath);
    version = { absolutePath: file.absolutePath, mtimeMs, size, ino };
  } catch (error) {
    throw cannotReadFile(file.relativePath, error);
  }
  const cached = cache.get(version);
  if (cached) return cached;
  const candles = await readCandleFileAs(
    file.absolutePath,
    file.relativePath,
    isCancelled,
    file.year,
  );
  cache.set(version, candles);
  return candles;
}
