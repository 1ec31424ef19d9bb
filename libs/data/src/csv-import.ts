import { readFile, stat } from 'node:fs/promises';
import { allocateCandles, Candles, DataFileError, ProblemCollector } from '@app/common';
import { CANDLE_COLUMNS, CandleColumn, concatCandles, sortAndDeduplicate } from './candle-order';
import { kstYear, parseIsoTimestamp } from './kst-time';
import { cannotReadFile, isNodeError } from './file-errors';
import { candleFileLocation, CandleFileLocation } from './layout';
import { readCandleFileAs } from './parquet-candles';
import { checkTimeframeSpacing } from './upload-check';
import { parseSymbol, parseTimeframe, Timeframe } from './validation';
import { encodeCandleFile, stageFile, StagedFile } from './write-candles';

export interface ImportCsvRequest {
  csvPath: string;
  symbol: string;
  timeframe: string;
  dataRoot: string;
}

export interface ImportCsvSummary {
  /** Data rows in the CSV. */
  rowsRead: number;
  /** Rows in the year files written, after merging with what they held and de-duplicating. */
  rowsWritten: number;
  /** The year files written; `path` relative to the data root, `rows` the file's total. */
  files: { year: number; path: string; rows: number }[];
}

/**
 * Imports a CSV of candles into the layout, one file per **KST** calendar year (the
 * domain's calendar: a candle at 2024-01-01 00:30 KST goes to 2024 although it is still 2023
 * in UTC; the loader reads either split). Each year is merged with the file already there:
 * the union of both, sorted, one row per timestamp, the imported row winning. The whole CSV
 * is checked, and existing files read, before anything is written; each file is replaced
 * atomically.
 */
export async function importCsv(request: ImportCsvRequest): Promise<ImportCsvSummary> {
  const { symbol, timeframe } = parseImportTarget(request);
  const imported = parseCandleCsv(await readCsvText(request.csvPath), request.csvPath);
  // The rows must be spaced as the timeframe says (issue 10, item 10: 5-minute rows were
  // stored as 1H without a word): every gap a whole number of intervals, the upload's
  // check without its "two candles one interval apart" (an import may be a few sparse rows).
  checkTimeframeSpacing(sortAndDeduplicate(imported), timeframe, 'timeframe', {
    closestMustBeOneInterval: false,
  });

  const updates: { location: CandleFileLocation; candles: Candles }[] = [];
  for (const [year, candles] of splitByKstYear(imported)) {
    const location = candleFileLocation(request.dataRoot, symbol, timeframe, year);
    const existing = await readExistingFile(location);
    // Existing rows first: the de-duplication keeps the last row, the imported one.
    const merged = sortAndDeduplicate(concatCandles(existing ? [existing, candles] : [candles]));
    updates.push({ location, candles: merged });
  }

  const staged: StagedFile[] = [];
  try {
    for (const { location, candles } of updates) {
      staged.push(await stageFile(location.absolutePath, encodeCandleFile(candles)));
    }
  } catch (error) {
    await Promise.all(staged.map((file) => file.discard()));
    throw error;
  }
  for (const file of staged) await file.commit();

  const files = updates.map(({ location, candles }) => ({
    year: location.year,
    path: location.relativePath,
    rows: candles.length,
  }));
  return {
    rowsRead: imported.length,
    rowsWritten: files.reduce((total, file) => total + file.rows, 0),
    files,
  };
}

/**
 * Parses candle CSV text: a header naming `timestamp,open,high,low,close,volume` in any
 * order and letter case (other columns ignored), then one candle per line, in file order.
 * Timestamps are ISO-8601 (with an offset or `Z`; without one they are KST) or epoch
 * milliseconds. Fields may be double-quoted. Errors name the file, the line and the field.
 */
export function parseCandleCsv(text: string, file: string): Candles {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '');
  if (!header) throw new DataFileError(file, 'line 1: unterminated quoted field');
  const names = header.map((name) => name.trim().toLowerCase());
  const missing = CANDLE_COLUMNS.filter((column) => !names.includes(column));
  if (missing.length > 0) {
    throw new DataFileError(
      file,
      `line 1: missing required column(s): ${missing.join(', ')} (header: ${header.join(',')})`,
    );
  }
  const repeated = CANDLE_COLUMNS.filter(
    (column) => names.indexOf(column) !== names.lastIndexOf(column),
  );
  if (repeated.length > 0) {
    throw new DataFileError(file, `line 1: column(s) named more than once: ${repeated.join(', ')}`);
  }
  const fieldIndex = Object.fromEntries(
    CANDLE_COLUMNS.map((column) => [column, names.indexOf(column)]),
  );

  const dataLines = lines
    .map((line, index) => ({ line, lineNumber: index + 1 }))
    .slice(1)
    .filter(({ line }) => line.trim() !== '');
  const candles = allocateCandles(dataLines.length);
  dataLines.forEach(({ line, lineNumber }, row) => {
    const fields = splitCsvLine(line);
    if (!fields) throw new DataFileError(file, `line ${lineNumber}: unterminated quoted field`);
    if (fields.length !== header.length) {
      throw new DataFileError(
        file,
        `line ${lineNumber}: ${fields.length} fields, but the header has ${header.length}`,
      );
    }
    for (const column of CANDLE_COLUMNS) {
      const text = fields[fieldIndex[column]].trim();
      const value = column === 'timestamp' ? parseCsvTimestamp(text) : parseDecimal(text);
      if (value === undefined)
        throw new DataFileError(file, badFieldMessage(lineNumber, column, text));
      candles[column][row] = value;
    }
  });
  return candles;
}

function badFieldMessage(lineNumber: number, column: CandleColumn, text: string): string {
  const expected =
    column === 'timestamp'
      ? 'an ISO-8601 time (without offset = KST) or epoch milliseconds'
      : 'a decimal number';
  return `line ${lineNumber}, field "${column}": ${JSON.stringify(text)} is not ${expected}`;
}

function parseImportTarget(request: ImportCsvRequest): { symbol: string; timeframe: Timeframe } {
  const problems = new ProblemCollector();
  const symbol = problems.check(() => parseSymbol(request.symbol));
  const timeframe = problems.check(() => parseTimeframe(request.timeframe));
  problems.throwIfAny();
  return { symbol: symbol!, timeframe: timeframe! };
}

async function readCsvText(csvPath: string): Promise<string> {
  try {
    return await readFile(csvPath, 'utf8');
  } catch (error) {
    throw cannotReadFile(csvPath, error);
  }
}

async function readExistingFile(location: CandleFileLocation): Promise<Candles | undefined> {
  try {
    await stat(location.absolutePath);
  } catch (error) {
    if (isNodeError(error) && error.code === 'ENOENT') return undefined;
    throw cannotReadFile(location.relativePath, error);
  }
  return readCandleFileAs(location.absolutePath, location.relativePath);
}

/** The candles of each KST calendar year, in input order, years ascending. */
function splitByKstYear(candles: Candles): Map<number, Candles> {
  const rowsByYear = new Map<number, number[]>();
  for (let row = 0; row < candles.length; row++) {
    const year = kstYear(candles.timestamp[row]);
    const rows = rowsByYear.get(year) ?? [];
    rows.push(row);
    rowsByYear.set(year, rows);
  }
  const years = [...rowsByYear.keys()].sort((a, b) => a - b);
  return new Map(
    years.map((year) => {
      const rows = rowsByYear.get(year)!;
      const part = allocateCandles(rows.length);
      for (const column of CANDLE_COLUMNS) {
        rows.forEach((row, index) => (part[column][index] = candles[column][row]));
      }
      return [year, part];
    }),
  );
}

const EPOCH_MILLISECONDS = /^-?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** UTC epoch ms of a CSV time, which must fall in a KST year with a 4-digit file name. */
function parseCsvTimestamp(text: string): number | undefined {
  const epochMs = EPOCH_MILLISECONDS.test(text) ? Number(text) : parseIsoTimestamp(text);
  if (epochMs === undefined || !Number.isSafeInteger(epochMs)) return undefined;
  const year = kstYear(epochMs);
  return year >= 0 && year <= 9999 ? epochMs : undefined;
}

/** A plain decimal or scientific number; not '', hex, 'NaN' or 'Infinity' as Number() allows. */
function parseDecimal(text: string): number | undefined {
  if (!DECIMAL_NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Splits one CSV line (RFC 4180 quoting within the line); undefined when a quote is left open. */
function splitCsvLine(line: string): string[] | undefined {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted && char === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (char === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return quoted ? undefined : fields;
}
