import { stat } from 'node:fs/promises';
import { DataFileError } from '@app/common';
import { cannotReadFile } from './file-errors';
import { formatUtcIso } from './kst-time';
import {
  candleDirectory,
  candleFileLocation,
  CandleFileLocation,
  listYearFiles,
  readdirIfDirectory,
} from './layout';
import { summarizeCandleFile } from './parquet-candles';
import {
  parseSymbol,
  parseTimeframe,
  parseYear,
  SYMBOL_PATTERN,
  Timeframe,
  TIMEFRAMES,
} from './validation';

export interface InventoryFilter {
  symbol?: string;
  timeframe?: string;
  year?: number;
}

/** One Parquet file of the layout, as `GET /api/data/inventory` reports it (SPEC §10.5). */
export interface InventoryEntry {
  symbol: string;
  timeframe: Timeframe;
  year: number;
  /** Relative to the data root, e.g. `BTC_KRW/1D/2024.parquet`. */
  relative_path: string;
  size_bytes: number;
  /** When the file last changed, ISO-8601 UTC. */
  modified_at: string;
  /** Null only when the file cannot be read (see `error`). */
  rows: number | null;
  /** Earliest and latest candle, ISO-8601 UTC with ms and `Z`; null for an empty or unreadable file. */
  first_timestamp: string | null;
  last_timestamp: string | null;
  /**
   * Set only for a file that cannot be read (not Parquet, a required column missing...):
   * what is wrong with it. One broken file is listed like this rather than failing the
   * whole inventory (loading it fails with a DataFileError).
   */
  error?: string;
}

/** A candle file of the layout found on disk: where it is, how big, when it changed. */
export interface CandleFileEntry {
  location: CandleFileLocation;
  sizeBytes: number;
  modifiedMs: number;
}

/**
 * The candle files under the data root, newest change first, ties by path (SPEC §10.5), from
 * the directory listings and a stat each: no file is opened, so listing thousands is cheap
 * and a page then describes only its own files (`describeCandleFile`). Anything that does not
 * fit the layout `{SYMBOL}/{TIMEFRAME}/{YEAR}.parquet` in its canonical upper-case form is not
 * data and is skipped, such as the results folder `tasks/`. A missing data root has none.
 */
export async function listCandleFiles(
  dataRoot: string,
  filter: InventoryFilter = {},
): Promise<CandleFileEntry[]> {
  const wanted = parseFilter(filter);
  const symbols = wanted.symbol
    ? [wanted.symbol]
    : (await readdirIfDirectory(dataRoot)).filter(
        (name) => SYMBOL_PATTERN.test(name) && name === name.toUpperCase(),
      );
  const files: CandleFileEntry[] = [];
  for (const symbol of symbols) {
    for (const timeframe of wanted.timeframe ? [wanted.timeframe] : TIMEFRAMES) {
      const years = await listYearFiles(candleDirectory(dataRoot, symbol, timeframe));
      for (const year of years.filter(
        (candidate) => wanted.year === undefined || candidate === wanted.year,
      )) {
        const location = candleFileLocation(dataRoot, symbol, timeframe, year);
        const stats = await stat(location.absolutePath).catch(() => undefined);
        if (stats?.isFile()) {
          // Whole milliseconds, as modified_at reports it: files written within one ms (a
          // fresh checkout) then tie and sort by path, the order the client can check;
          // sub-ms order made the inventory test fail at random (issue 10, item 11).
          files.push({ location, sizeBytes: stats.size, modifiedMs: Math.floor(stats.mtimeMs) });
        }
      }
    }
  }
  return files.sort(
    (a, b) =>
      b.modifiedMs - a.modifiedMs || compareText(a.location.relativePath, b.location.relativePath),
  );
}

/** Every candle file described, in `listCandleFiles`' order (a few files: the CLI, tests). */
export async function listInventory(
  dataRoot: string,
  filter: InventoryFilter = {},
): Promise<InventoryEntry[]> {
  const entries: InventoryEntry[] = [];
  for (const file of await listCandleFiles(dataRoot, filter)) {
    entries.push(await describeCandleFile(file));
  }
  return entries;
}

/**
 * One file's inventory entry: rows from the Parquet footer; first and last timestamps from
 * the timestamp statistics when they can be trusted, else from reading the timestamp column.
 * An unreadable file is listed with null figures and what is wrong with it.
 */
export async function describeCandleFile(file: CandleFileEntry): Promise<InventoryEntry> {
  const { location, sizeBytes, modifiedMs } = file;
  const { symbol, timeframe, year, relativePath } = location;
  const entry = {
    symbol,
    timeframe,
    year,
    relative_path: relativePath,
    size_bytes: sizeBytes,
    modified_at: formatUtcIso(modifiedMs),
  };
  try {
    const { rows, firstMs, lastMs } = await summarizeCandleFile(
      location.absolutePath,
      relativePath,
      year,
    );
    return {
      ...entry,
      rows,
      first_timestamp: firstMs === undefined ? null : formatUtcIso(firstMs),
      last_timestamp: lastMs === undefined ? null : formatUtcIso(lastMs),
    };
  } catch (error) {
    const problem =
      error instanceof DataFileError ? error.problem : cannotReadFile(relativePath, error).problem;
    return { ...entry, rows: null, first_timestamp: null, last_timestamp: null, error: problem };
  }
}

/** Code-point order, as a byte-wise database collation sorts paths (not the locale's). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseFilter(filter: InventoryFilter): {
  symbol?: string;
  timeframe?: Timeframe;
  year?: number;
} {
  const { symbol, timeframe, year } = filter;
  return {
    symbol: symbol === undefined ? undefined : parseSymbol(symbol),
    timeframe: timeframe === undefined ? undefined : parseTimeframe(timeframe),
    year: year === undefined ? undefined : parseYear(year),
  };
}
