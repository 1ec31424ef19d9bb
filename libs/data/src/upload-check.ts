import { open, readFile } from 'node:fs/promises';
import { Candles, DataFileError, InvalidInputError } from '@app/common';
import { parseCandleCsv } from './csv-import';
import { formatUtcIso, KST_OFFSET_MS } from './kst-time';
import { readCandleFileAs } from './parquet-candles';
import { Timeframe, TIMEFRAME_MS } from './validation';

/** What an upload turned out to be: its format (by content) and its candles. */
export interface CheckedUpload {
  format: 'parquet' | 'csv';
  candles: Candles;
}

const PARQUET_MAGIC = 'PAR1';

/**
 * SPEC §10.8: an uploaded year file checked completely before it may replace anything:
 * readable (Parquet or CSV, told apart by the content, not the name), the required columns,
 * at least one candle, every candle inside [YEAR-01-01 00:00 KST, (YEAR+1)-01-01 00:00 UTC)
 * (a year split by either calendar fits), and spaced as the timeframe says. Problems are
 * InvalidInputErrors naming the `file` field: what is wrong, how many rows, the first one.
 */
export async function checkUploadedCandles(options: {
  path: string;
  displayName: string;
  timeframe: Timeframe;
  year: number;
}): Promise<CheckedUpload> {
  const { path, displayName, timeframe, year } = options;
  const format = (await startsWithParquetMagic(path)) ? 'parquet' : 'csv';
  let candles: Candles;
  try {
    candles =
      format === 'parquet'
        ? await readCandleFileAs(path, displayName)
        : parseCandleCsv(await readFile(path, 'utf8'), displayName);
  } catch (error) {
    if (!(error instanceof DataFileError)) throw error;
    throw InvalidInputError.of('file', displayName, `a readable candle file: ${error.problem}`);
  }
  if (candles.length === 0) {
    throw InvalidInputError.of('file', displayName, 'a file with at least one candle');
  }
  checkYear(candles, year, displayName);
  checkTimeframeSpacing(candles, timeframe, 'file');
  return { format, candles };
}

function checkYear(candles: Candles, year: number, displayName: string): void {
  const fromMs = Date.UTC(year, 0, 1) - KST_OFFSET_MS;
  const toMs = Date.UTC(year + 1, 0, 1);
  let outside = 0;
  let first = -1;
  for (let i = 0; i < candles.length; i++) {
    const time = candles.timestamp[i];
    if (time < fromMs || time >= toMs) {
      if (first < 0) first = i;
      outside++;
    }
  }
  if (outside > 0) {
    throw InvalidInputError.of(
      'file',
      displayName,
      `candles of ${year} only (${formatUtcIso(fromMs)} to before ${formatUtcIso(toMs)}): ${outside} of ${candles.length} rows fall outside, the first at ${formatUtcIso(candles.timestamp[first])}`,
    );
  }
}

/**
 * Candles spaced as their timeframe says (the check `cli import` and uploads get): every gap
 * a whole number of timeframe intervals (finer data refused: five-minute rows are never
 * stored as 1H), and for an upload the smallest gap exactly one interval (coarser data refused).
 * `field` names the input in the error.
 */
export function checkTimeframeSpacing(
  candles: Candles,
  timeframe: Timeframe,
  field: string,
  /**
   * Also require two candles one interval apart. An upload is a whole year file and must;
   * an import may be a few rows merged into one, so only its gaps are checked.
   */
  { closestMustBeOneInterval = true }: { closestMustBeOneInterval?: boolean } = {},
): void {
  if (candles.length < 2) return;
  const interval = TIMEFRAME_MS[timeframe];
  let smallest = Infinity;
  for (let i = 1; i < candles.length; i++) {
    const gap = candles.timestamp[i] - candles.timestamp[i - 1];
    if (gap % interval !== 0) {
      throw InvalidInputError.of(
        field,
        timeframe,
        `candles ${describeInterval(interval)} apart for timeframe ${timeframe}: ${formatUtcIso(candles.timestamp[i - 1])} and ${formatUtcIso(candles.timestamp[i])} are ${describeInterval(gap)} apart`,
      );
    }
    if (gap < smallest) smallest = gap;
  }
  if (closestMustBeOneInterval && smallest !== interval) {
    throw InvalidInputError.of(
      field,
      timeframe,
      `candles ${describeInterval(interval)} apart for timeframe ${timeframe}: the closest two are ${describeInterval(smallest)} apart (is the timeframe right?)`,
    );
  }
}

function describeInterval(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day(s)`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour(s)`;
  if (ms % 60_000 === 0) return `${ms / 60_000} minute(s)`;
  return `${ms / 1000} s`;
}

async function startsWithParquetMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.toString('latin1') === PARQUET_MAGIC;
  } finally {
    await handle.close();
  }
}
