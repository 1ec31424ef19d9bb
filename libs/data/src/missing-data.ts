import { stat } from 'node:fs/promises';
import { candleDirectory, listYearFiles, readdirIfDirectory } from './layout';
import { SYMBOL_PATTERN, TIMEFRAMES } from './validation';

/** At most this many names are listed in a hint: a data root may hold thousands of symbols. */
const MAX_LISTED = 10;

function listed(names: readonly (string | number)[]): string {
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown} and ${names.length - MAX_LISTED} more` : shown;
}

/**
 * What the data root does hold, for a run that found no candles (issue 10, item 10: a
 * missing DATA_ROOT said only "No data found"): that the folder does not exist, or per
 * symbol asked for whether it has a folder, which timeframes it has and the years of the one
 * asked for. A few directory listings, no file opened; called only once a run has failed.
 */
export async function describeMissingData(
  dataRoot: string,
  symbols: readonly string[],
  timeframe: string,
): Promise<string> {
  const root = await stat(dataRoot).catch(() => undefined);
  if (!root?.isDirectory()) {
    return `DATA_ROOT ${dataRoot} ${root ? 'is not a directory' : 'does not exist'}: set DATA_ROOT (or --data-root) to the folder that holds SYMBOL/TIMEFRAME/YEAR.parquet`;
  }
  const present = (await readdirIfDirectory(dataRoot)).filter(
    (name) => SYMBOL_PATTERN.test(name) && name === name.toUpperCase(),
  );
  const notes: string[] = [];
  for (const symbol of symbols.slice(0, MAX_LISTED)) {
    if (!present.includes(symbol)) {
      notes.push(`${symbol}: no folder`);
      continue;
    }
    const timeframes: string[] = [];
    for (const candidate of TIMEFRAMES) {
      if ((await listYearFiles(candleDirectory(dataRoot, symbol, candidate))).length > 0) {
        timeframes.push(candidate);
      }
    }
    const years = await listYearFiles(candleDirectory(dataRoot, symbol, timeframe));
    notes.push(
      years.length > 0
        ? `${symbol} ${timeframe}: years ${listed(years)}`
        : `${symbol}: no ${timeframe} files (timeframes: ${timeframes.length > 0 ? listed(timeframes) : 'none'})`,
    );
  }
  const symbolsNote =
    present.length > 0
      ? `symbols in ${dataRoot}: ${listed(present)}`
      : `${dataRoot} holds no symbol folders`;
  return `${notes.join('; ')}; ${symbolsNote} (GET /api/data/inventory or cli inventory lists every file)`;
}
