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

/** One Parquet file of the layout, as `GET /api/data/inventory` reports it. */
export interface InventoryEntry {
  symbol: string;
  timeframe: Timeframe;
  year: number;
  /** Null only when the file cannot be read (see `error`). */
  rows: number | null;
  /** Earliest and latest candle, ISO-8601 UTC with ms and `Z`; null for an empty or unreadable file. */
  first_timestamp: string | null;
  last_timestamp: string | null;
  size_bytes: number;
  /** Relative to the data root, e.g. `BTC_KRW/1D/2024.parquet`. */
  path: string;
  /**
   * Set only for a file that cannot be read (not Parquet, a required column missing...):
   * what is wrong with it. One broken file is listed like this rather than failing the
   * whole inventory (loading it fails with a DataFileError).
   */
  error?: string;
}

/**
 * The candle files under the data root, sorted by symbol, timeframe (shortest first, the
 * order of TIMEFRAMES) and year. Anything that does not fit the layout
 * `{SYMBOL}/{TIMEFRAME}/{YEAR}.parquet` in its canonical upper-case form is not data and is
 * skipped, such as the results folder `tasks/`. Rows come from the Parquet footer; first and
 * last timestamps from the timestamp statistics when they can be trusted, else from reading
 * the timestamp column. A missing data root is an empty inventory.
 */
export async function listInventory(
  dataRoot: string,
  filter: InventoryFilter = {},
): Promise<InventoryEntry[]> {
  const wanted = parseFilter(filter);
  const symbols = wanted.symbol
    ? [wanted.symbol]
    : (await readdirIfDirectory(dataRoot))
        .filter((name) => SYMBOL_PATTERN.test(name) && name === name.toUpperCase())
        .sort();
  const entries: InventoryEntry[] = [];
  for (const symbol of symbols) {
    for (const timeframe of wanted.timeframe ? [wanted.timeframe] : TIMEFRAMES) {
      const years = await listYearFiles(candleDirectory(dataRoot, symbol, timeframe));
      for (const year of years.filter(
        (candidate) => wanted.year === undefined || candidate === wanted.year,
      )) {
        entries.push(await describeFile(candleFileLocation(dataRoot, symbol, timeframe, year)));
      }
    }
  }
  return entries;
}

async function describeFile(location: CandleFileLocation): Promise<InventoryEntry> {
  const { symbol, timeframe, year, relativePath } = location;
  const entry = { symbol, timeframe, year, path: relativePath };
  let sizeBytes = 0;
  try {
    sizeBytes = (await stat(location.absolutePath)).size;
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
      size_bytes: sizeBytes,
    };
  } catch (error) {
    const problem =
      error instanceof DataFileError ? error.problem : cannotReadFile(relativePath, error).problem;
    return {
      ...entry,
      rows: null,
      first_timestamp: null,
      last_timestamp: null,
      size_bytes: sizeBytes,
      error: problem,
    };
  }
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
