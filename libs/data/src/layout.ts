import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '@app/common';
import { isNodeError } from './file-errors';
import { EpochRange, kstYear, utcYear } from './kst-time';
import { parseSymbol, parseTimeframe, parseYear, Timeframe } from './validation';

/**
 * The market-data layout: `DATA_ROOT/{SYMBOL}/{TIMEFRAME}/{YEAR}.parquet`.
 * Names that do not fit it (the results folder `tasks/`, temp files, notes) are not data.
 */
export const YEAR_FILE_PATTERN = /^(\d{4})\.parquet$/;

/** One year file of the layout, with its absolute path and its path relative to the data root. */
export interface CandleFileLocation {
  symbol: string;
  timeframe: Timeframe;
  year: number;
  absolutePath: string;
  relativePath: string;
}

/**
 * Resolves a path below the data root and refuses one that would leave it. Symbols and
 * timeframes are validated before they get here; this is the second guard, so that no
 * future caller can turn `..` or an absolute path into a file-system access.
 */
export function resolveInsideDataRoot(dataRoot: string, relativePath: string): string {
  const root = path.resolve(dataRoot);
  const resolved = path.resolve(root, relativePath);
  const fromRoot = path.relative(root, resolved);
  if (fromRoot.startsWith('..') || path.isAbsolute(fromRoot)) {
    throw InvalidInputError.of('path', relativePath, 'a path inside the data root');
  }
  return resolved;
}

/** The directory holding one symbol's year files of one timeframe. */
export function candleDirectory(dataRoot: string, symbol: string, timeframe: string): string {
  return resolveInsideDataRoot(dataRoot, `${parseSymbol(symbol)}/${parseTimeframe(timeframe)}`);
}

/** Where the candles of one year live. */
export function candleFileLocation(
  dataRoot: string,
  symbol: string,
  timeframe: string,
  year: number,
): CandleFileLocation {
  const canonicalSymbol = parseSymbol(symbol);
  const canonicalTimeframe = parseTimeframe(timeframe);
  const relativePath = `${canonicalSymbol}/${canonicalTimeframe}/${String(parseYear(year)).padStart(4, '0')}.parquet`;
  return {
    symbol: canonicalSymbol,
    timeframe: canonicalTimeframe,
    year,
    absolutePath: resolveInsideDataRoot(dataRoot, relativePath),
    relativePath,
  };
}

/**
 * The year files that can hold candles of `[startMs, endMs)`, oldest first.
 *
 * A writer may have split the years on the KST or the UTC calendar, and KST runs nine hours
 * ahead, so a candle's file year is its UTC year or its KST year. The earliest file that can
 * hold a candle of the range is therefore UTC-year(start) and the latest KST-year(end - 1):
 * a candle at 2023-12-31T15:30Z (2024-01-01 00:30 KST) is found in 2023 or in 2024.
 * Missing year files are absent data, not an error.
 */
export async function yearFilesForRange(
  dataRoot: string,
  symbol: string,
  timeframe: string,
  range: EpochRange,
): Promise<CandleFileLocation[]> {
  if (!(range.endMs > range.startMs)) return [];
  const firstYear = utcYear(range.startMs);
  const lastYear = kstYear(range.endMs - 1);
  const years = (await listYearFiles(candleDirectory(dataRoot, symbol, timeframe))).filter(
    (year) => year >= firstYear && year <= lastYear,
  );
  return years.map((year) => candleFileLocation(dataRoot, symbol, timeframe, year));
}

/** The years that have a file in a timeframe directory, ascending; none when it is missing. */
export async function listYearFiles(directory: string): Promise<number[]> {
  const names = await readdirIfDirectory(directory);
  return names
    .map((name) => YEAR_FILE_PATTERN.exec(name)?.[1])
    .filter((year): year is string => year !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Entry names of a directory; none when it does not exist or is not a directory. */
export async function readdirIfDirectory(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if (isNodeError(error) && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return [];
    throw error;
  }
}
