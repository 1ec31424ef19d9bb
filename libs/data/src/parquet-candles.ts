import { readFile } from 'node:fs/promises';
import {
  AsyncBuffer,
  asyncBufferFromFile,
  DecodedArray,
  FileMetaData,
  parquetMetadata,
  parquetMetadataAsync,
  ParquetParsers,
  parquetSchema,
  SchemaElement,
  TimeUnit,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import {
  CancellationCheck,
  Candles,
  DataFileError,
  PRICE_COLUMNS,
  throwIfCancelled,
} from '@app/common';
import { CANDLE_COLUMNS, CandleColumn, sortAndDeduplicate } from './candle-order';
import { NullValueError, readFlatColumnChunk } from './flat-column-reader';
import { cannotReadFile, errorMessage } from './file-errors';
import { KST_OFFSET_MS, parseIsoTimestamp } from './kst-time';

/**
 * Reading candle files with hyparquet (+ hyparquet-compressors for every mainstream codec).
 *
 * Speed comes from never building a row object or a Date: each page of a column chunk,
 * decoded by hyparquet's page readers (see flat-column-reader), is copied straight into a
 * Float64Array. hyparquet would turn every timestamp into a Date (or, with custom parsers,
 * call a parser per value into a plain Array); instead an INT64 timestamp column is read as a
 * plain INT64, so its raw BigInt64Array arrives, and the unit and zone are applied here in
 * one loop.
 */

/** Keeps INT64/INT96 timestamps (values and statistics) as raw integers in the column's unit. */
const RAW_TIMESTAMPS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (raw) => raw,
  timestampFromMicroseconds: (raw) => raw,
  timestampFromNanoseconds: (raw) => raw,
};

const TIMESTAMP_RULE =
  'a TIMESTAMP (millis, micros or nanos), an INT64 of epoch milliseconds, an INT96 or an ISO-8601 string';
const NUMBER_RULE = 'a number (DOUBLE, FLOAT, INT32, INT64 or DECIMAL)';

/** How a file stores its `timestamp` column, decided once from the column's schema. */
interface TimestampEncoding {
  /** Converts one value as hyparquet hands it over to UTC epoch ms; undefined when it is not one. */
  toEpochMs: (value: unknown) => number | undefined;
  /** INT64 storage: hyparquet can hand over raw integers, and min/max statistics order like time. */
  isInt64: boolean;
  /** A plain integer column, epoch milliseconds by contract (no unit of its own). */
  isPlainEpoch?: boolean;
  /** The fast path for a whole BigInt64Array chunk of millis or micros (see copyInt64Timestamps). */
  copyInt64?: (
    source: BigInt64Array,
    sourceStart: number,
    count: number,
    target: Float64Array,
    targetStart: number,
  ) => void;
}

/** A candle Parquet file in memory, its schema checked. */
interface CandleParquet {
  file: string;
  buffer: ArrayBuffer;
  metadata: FileMetaData;
  timestamp: TimestampEncoding;
}

/** Rows and time span of a candle file, as the inventory reports them. */
export interface CandleFileSummary {
  rows: number;
  /** Earliest and latest timestamp (UTC epoch ms); undefined when the file has no rows. */
  firstMs?: number;
  lastMs?: number;
}

/**
 * Reads one whole candle file: columns in any order (others ignored), sorted by time, an
 * exact duplicate timestamp keeping the last row in file order. `DataFileError` names the file.
 */
export async function readCandleFile(filePath: string): Promise<Candles> {
  return readCandleFileAs(filePath, filePath);
}

/** {@link readCandleFile} naming the file `displayName` in errors; checks `isCancelled` per row group. */
export async function readCandleFileAs(
  absolutePath: string,
  displayName: string,
  isCancelled?: CancellationCheck,
  year?: number,
): Promise<Candles> {
  const parquet = await openCandleParquet(
    await readFileBytes(absolutePath, displayName),
    displayName,
  );
  const columns = decodeColumns(parquet, CANDLE_COLUMNS, isCancelled);
  const candles = sortAndDeduplicate({ length: columns.timestamp.length, ...columns });
  if (year !== undefined && candles.length > 0) {
    checkYearSpan(displayName, year, parquet.timestamp, {
      firstMs: candles.timestamp[0],
      lastMs: candles.timestamp[candles.length - 1],
    });
  }
  return candles;
}

/** A day either side: a year file may be split by the KST or by the UTC calendar. */
const YEAR_SLACK_MS = 86_400_000;

/**
 * A year file none of whose candles falls in its year (give or take the slack) is an error,
 * not silently missing data: most often an INT64 column in another unit than milliseconds
 * (pandas' `astype('int64')` gives nanoseconds), sometimes a file in the wrong folder.
 */
function checkYearSpan(
  file: string,
  year: number,
  encoding: TimestampEncoding,
  { firstMs, lastMs }: { firstMs: number; lastMs: number },
): void {
  const yearStart = Date.UTC(year, 0, 1) - YEAR_SLACK_MS;
  const yearEnd = Date.UTC(year + 1, 0, 1) + YEAR_SLACK_MS;
  if (lastMs >= yearStart && firstMs < yearEnd) return;
  const unit = encoding.isPlainEpoch ? likelyEpochUnit(firstMs) : undefined;
  const fix = unit
    ? `INT64 timestamps must be epoch milliseconds, and these look like epoch ${unit.name}: ${unit.fix}, or store a Parquet TIMESTAMP`
    : `is the file in the folder of its year?`;
  throw new DataFileError(
    file,
    `holds no candle of ${year}: its timestamps run from ${describeInstant(firstMs)} to ${describeInstant(lastMs)}; ${fix}`,
  );
}

function likelyEpochUnit(value: number): { name: string; fix: string } | undefined {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e17) return { name: 'nanoseconds', fix: 'divide them by 1,000,000' };
  if (magnitude >= 1e14) return { name: 'microseconds', fix: 'divide them by 1,000' };
  if (magnitude > 0 && magnitude < 1e11) return { name: 'seconds', fix: 'multiply them by 1,000' };
  return undefined;
}

/** An instant for a message; a value beyond the calendar's range is shown as it is. */
function describeInstant(epochMs: number): string {
  return Math.abs(epochMs) <= 8.64e15 ? new Date(epochMs).toISOString() : `${epochMs} (as ms)`;
}

/**
 * How many rows a candle file holds, from its footer alone (a few KB read, no column): what
 * MAX_CANDLES_PER_RUN is checked against before a run is queued.
 */
export async function candleFileRowCount(
  absolutePath: string,
  displayName: string,
): Promise<number> {
  let source: AsyncBuffer;
  try {
    source = await asyncBufferFromFile(absolutePath);
  } catch (error) {
    throw cannotReadFile(displayName, error);
  }
  const footer = await asParquetError(displayName, () =>
    parquetMetadataAsync(source, { parsers: RAW_TIMESTAMPS }),
  );
  return rowCount(footer);
}

/**
 * Rows and first/last timestamp of a candle file, reading only the footer when the
 * timestamp statistics can be trusted, otherwise the timestamp column.
 */
export async function summarizeCandleFile(
  absolutePath: string,
  displayName: string,
  year?: number,
): Promise<CandleFileSummary> {
  const summary = await summarizeCandles(absolutePath, displayName);
  if (year !== undefined && summary.firstMs !== undefined && summary.lastMs !== undefined) {
    checkYearSpan(displayName, year, summary.timestamp, {
      firstMs: summary.firstMs,
      lastMs: summary.lastMs,
    });
  }
  return { rows: summary.rows, firstMs: summary.firstMs, lastMs: summary.lastMs };
}

async function summarizeCandles(
  absolutePath: string,
  displayName: string,
): Promise<CandleFileSummary & { timestamp: TimestampEncoding }> {
  let source: AsyncBuffer;
  try {
    source = await asyncBufferFromFile(absolutePath);
  } catch (error) {
    throw cannotReadFile(displayName, error);
  }
  const footer = await asParquetError(displayName, () =>
    parquetMetadataAsync(source, { parsers: RAW_TIMESTAMPS }),
  );
  const timestamp = checkCandleSchema(footer, displayName);
  const rows = rowCount(footer);
  if (rows === 0) return { rows, timestamp };
  const span = timestamp.isInt64 ? timestampStatistics(footer, timestamp) : undefined;
  if (span) return { rows, ...span, timestamp };

  const parquet = await openCandleParquet(
    await readFileBytes(absolutePath, displayName),
    displayName,
  );
  const timestamps = decodeColumns(parquet, ['timestamp']).timestamp;
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const value of timestamps) {
    firstMs = Math.min(firstMs, value);
    lastMs = Math.max(lastMs, value);
  }
  return { rows, firstMs, lastMs, timestamp };
}

async function readFileBytes(absolutePath: string, displayName: string): Promise<ArrayBuffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(absolutePath);
  } catch (error) {
    throw cannotReadFile(displayName, error);
  }
  // A file read whole owns its memory; hand that over instead of copying tens of megabytes.
  const ownsWholeBuffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return ownsWholeBuffer && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : new Uint8Array(bytes).buffer;
}

async function openCandleParquet(buffer: ArrayBuffer, file: string): Promise<CandleParquet> {
  const metadata = await asParquetError(file, () =>
    parquetMetadata(buffer, { parsers: RAW_TIMESTAMPS }),
  );
  const timestamp = checkCandleSchema(metadata, file);
  return { file, buffer, metadata, timestamp };
}

/**
 * Reads the given columns into Float64Arrays (timestamps as UTC epoch ms), one row group at
 * a time so a cancelled task stops between groups.
 */
function decodeColumns<C extends CandleColumn>(
  parquet: CandleParquet,
  columns: readonly C[],
  isCancelled?: CancellationCheck,
): Record<C, Float64Array> {
  const { file, buffer, metadata, timestamp } = parquet;
  const total = rowCount(metadata);
  const output = Object.fromEntries(
    columns.map((column) => [column, new Float64Array(total)]),
  ) as Record<C, Float64Array>;
  // Top-level columns only: a nested column may have a field called `open` too.
  const elements = new Map(
    parquetSchema(metadata).children.map(({ element }) => [
      element.name,
      readAsElement(element, timestamp),
    ]),
  );

  let groupStart = 0;
  for (const rowGroup of metadata.row_groups) {
    throwIfCancelled(isCancelled);
    const groupEnd = groupStart + Number(rowGroup.num_rows);
    for (const column of columns) {
      const chunk = rowGroup.columns.find(
        ({ meta_data }) =>
          meta_data?.path_in_schema.length === 1 && meta_data.path_in_schema[0] === column,
      )?.meta_data;
      if (!chunk) {
        throw new DataFileError(
          file,
          `column "${column}" is missing from row group starting at row ${groupStart + 1}; the file is damaged`,
        );
      }
      let filled = 0;
      try {
        readFlatColumnChunk(
          buffer,
          { metadata, chunk, element: elements.get(column)!, compressors, parsers: RAW_TIMESTAMPS },
          (values, rowInChunk) => {
            const from = groupStart + rowInChunk;
            const count = Math.min(values.length, groupEnd - from);
            copyValues(parquet, column, values, from, count, output[column]);
            filled += count;
          },
        );
      } catch (error) {
        if (error instanceof DataFileError) throw error;
        if (error instanceof NullValueError) {
          throw badValue(file, column, groupStart + error.rowInChunk, null);
        }
        throw new DataFileError(file, `not a readable Parquet file (${errorMessage(error)})`);
      }
      if (filled !== groupEnd - groupStart) {
        throw new DataFileError(
          file,
          `column "${column}" holds ${filled} values for rows ${groupStart + 1}-${groupEnd}; the file is damaged`,
        );
      }
    }
    groupStart = groupEnd;
  }
  throwIfCancelled(isCancelled);
  return output;
}

/**
 * The schema element a column is converted by: an INT64 timestamp as a plain INT64, so its
 * raw integers arrive in a BigInt64Array instead of being converted value by value.
 */
function readAsElement(element: SchemaElement, timestamp: TimestampEncoding): SchemaElement {
  return element.name === 'timestamp' && timestamp.isInt64 && element.num_children === undefined
    ? { ...element, logical_type: undefined, converted_type: undefined }
    : element;
}

/** Writes `count` decoded values of one page into `target` from row `from`. */
function copyValues(
  { file, timestamp }: CandleParquet,
  column: CandleColumn,
  values: DecodedArray,
  from: number,
  count: number,
  target: Float64Array,
): void {
  if (column !== 'timestamp' && isNumberArray(values)) {
    target.set(values.subarray(0, count), from);
  } else if (column === 'timestamp' && timestamp.copyInt64 && values instanceof BigInt64Array) {
    timestamp.copyInt64(values, 0, count, target, from);
  } else {
    const decode = column === 'timestamp' ? timestamp.toEpochMs : toNumber;
    for (let i = 0; i < count; i++) {
      const value: unknown = values[i];
      const decoded = decode(value);
      if (decoded === undefined) throw badValue(file, column, from + i, value);
      target[from + i] = decoded;
    }
  }
}

/** A chunk of plain numbers, which a Float64Array can take over in one copy. */
function isNumberArray(
  values: DecodedArray,
): values is Uint8Array | Uint32Array | Int32Array | Float32Array | Float64Array {
  return (
    !Array.isArray(values) &&
    !(values instanceof BigInt64Array) &&
    !(values instanceof BigUint64Array)
  );
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

function badValue(file: string, column: CandleColumn, row: number, value: unknown): DataFileError {
  const shown =
    value === null || value === undefined
      ? 'an empty (null) value'
      : `the value ${JSON.stringify(value, (_key, part: unknown) => (typeof part === 'bigint' ? String(part) : part))}`;
  const expected = column === 'timestamp' ? TIMESTAMP_RULE : NUMBER_RULE;
  return new DataFileError(
    file,
    `column "${column}" row ${row + 1} has ${shown}; expected ${expected}`,
  );
}

/**
 * Checks that every required column is there, flat, and of a type we can read; returns how
 * the timestamps are stored. Extra columns are ignored.
 */
function checkCandleSchema(metadata: FileMetaData, file: string): TimestampEncoding {
  const topLevel = new Map(
    parquetSchema(metadata).children.map((child) => [child.element.name, child]),
  );
  const missing = CANDLE_COLUMNS.filter((column) => !topLevel.has(column));
  if (missing.length > 0) {
    const found = [...topLevel.keys()].join(', ') || 'none';
    throw new DataFileError(
      file,
      `missing required column(s): ${missing.join(', ')} (found: ${found})`,
    );
  }
  const flatElement = (column: CandleColumn): SchemaElement => {
    const { element, children } = topLevel.get(column)!;
    if (children.length > 0 || element.repetition_type === 'REPEATED') {
      throw new DataFileError(
        file,
        `column "${column}" has a nested or repeated type; expected a flat column`,
      );
    }
    return element;
  };
  const unreadable = (column: CandleColumn, element: SchemaElement, expected: string) =>
    new DataFileError(
      file,
      `column "${column}" has type ${describeType(element)}; expected ${expected}`,
    );

  const timestampElement = flatElement('timestamp');
  const timestamp = timestampEncoding(timestampElement);
  if (!timestamp) throw unreadable('timestamp', timestampElement, TIMESTAMP_RULE);
  for (const column of PRICE_COLUMNS) {
    const element = flatElement(column);
    if (!isNumeric(element)) throw unreadable(column, element, NUMBER_RULE);
  }
  return timestamp;
}

/**
 * The domain rules for timestamps: a TIMESTAMP adjusted to UTC and an epoch integer are UTC;
 * a naive TIMESTAMP, an INT96 (which has no zone) and an ISO string without offset are KST.
 * Legacy TIMESTAMP_MILLIS/MICROS annotations without a logical type mean UTC-adjusted.
 */
function timestampEncoding(element: SchemaElement): TimestampEncoding | undefined {
  const { type, logical_type: logical, converted_type: converted } = element;
  if (type === 'INT64') {
    if (logical?.type === 'TIMESTAMP')
      return integerTimestamp(logical.unit, logical.isAdjustedToUTC, true);
    if (logical === undefined && converted === 'TIMESTAMP_MILLIS')
      return integerTimestamp('MILLIS', true, true);
    if (logical === undefined && converted === 'TIMESTAMP_MICROS')
      return integerTimestamp('MICROS', true, true);
    const isPlainInteger =
      (logical === undefined && (converted === undefined || converted === 'INT_64')) ||
      (logical?.type === 'INTEGER' && logical.isSigned);
    return isPlainInteger
      ? { ...integerTimestamp('MILLIS', true, true), isPlainEpoch: true }
      : undefined;
  }
  if (type === 'INT96' && logical === undefined && converted === undefined) {
    return integerTimestamp('NANOS', false, false);
  }
  const isText =
    logical?.type === 'STRING' ||
    (logical === undefined && (converted === undefined || converted === 'UTF8'));
  if (type === 'BYTE_ARRAY' && isText) {
    return {
      isInt64: false,
      toEpochMs: (value) => (typeof value === 'string' ? parseIsoTimestamp(value) : undefined),
    };
  }
  return undefined;
}

const INTEGER_TO_EPOCH_MS: Record<TimeUnit, (raw: bigint) => number> = {
  MILLIS: (raw) => Number(raw),
  // Microseconds since 1970 stay below 2^53 until the year 2255: a double divides them exactly.
  MICROS: (raw) => Math.floor(Number(raw) / 1000),
  // Nanoseconds are beyond 2^53 already: divide as integers, rounding down like the others.
  NANOS: (raw) => Number(raw / 1_000_000n) - (raw % 1_000_000n < 0n ? 1 : 0),
};

function integerTimestamp(unit: TimeUnit, isUtc: boolean, isInt64: boolean): TimestampEncoding {
  const toUtcMs = INTEGER_TO_EPOCH_MS[unit];
  const zoneShiftMs = isUtc ? 0 : KST_OFFSET_MS;
  const unitsPerMs = unit === 'MILLIS' ? 1 : 1000;
  return {
    isInt64,
    toEpochMs: (value) => (typeof value === 'bigint' ? toUtcMs(value) - zoneShiftMs : undefined),
    copyInt64:
      isInt64 && unit !== 'NANOS'
        ? (source, sourceStart, count, target, targetStart) =>
            copyInt64Timestamps(
              source,
              sourceStart,
              count,
              target,
              targetStart,
              unitsPerMs,
              zoneShiftMs,
            )
        : undefined,
  };
}

/**
 * Converts raw INT64 millis or micros to epoch ms without making a BigInt per value (a
 * BigInt each is a visible share of a whole-file load: compare `npm run bench`'s
 * parquet_load_one_year with this function made of BigInt64Array reads): each int64 is read
 * as two int32 halves, little-endian
 * like the Parquet bytes hyparquet copied. The sum is exact below 2^53, true of millis and of
 * micros since 1970 until the year 2255; dividing that exact double by 1000 and rounding
 * down is exact as well.
 */
function copyInt64Timestamps(
  source: BigInt64Array,
  sourceStart: number,
  count: number,
  target: Float64Array,
  targetStart: number,
  unitsPerMs: number,
  zoneShiftMs: number,
): void {
  const halves = new Int32Array(source.buffer, source.byteOffset + sourceStart * 8, count * 2);
  for (let i = 0; i < count; i++) {
    const raw = halves[2 * i + 1] * 4_294_967_296 + (halves[2 * i] >>> 0);
    target[targetStart + i] = Math.floor(raw / unitsPerMs) - zoneShiftMs;
  }
}

function isNumeric({
  type,
  logical_type: logical,
  converted_type: converted,
}: SchemaElement): boolean {
  if (logical?.type === 'DECIMAL' || converted === 'DECIMAL' || logical?.type === 'FLOAT16')
    return true;
  if (type === 'DOUBLE' || type === 'FLOAT')
    return logical === undefined && converted === undefined;
  if (type === 'INT32' || type === 'INT64') {
    const isIntegerAnnotation = converted === undefined || /^U?INT_\d+$/.test(converted);
    return logical === undefined ? isIntegerAnnotation : logical.type === 'INTEGER';
  }
  return false;
}

function describeType({
  type,
  logical_type: logical,
  converted_type: converted,
}: SchemaElement): string {
  const annotation = logical?.type ?? converted;
  return annotation ? `${type ?? 'group'} (${annotation})` : (type ?? 'group');
}

/**
 * First/last timestamp from the row groups' min/max statistics, when every group has exact
 * ones and no nulls; otherwise undefined and the column must be read.
 */
function timestampStatistics(
  metadata: FileMetaData,
  encoding: TimestampEncoding,
): { firstMs: number; lastMs: number } | undefined {
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const rowGroup of metadata.row_groups) {
    if (Number(rowGroup.num_rows) === 0) continue;
    const statistics = rowGroup.columns.find(
      (chunk) => chunk.meta_data?.path_in_schema.join('.') === 'timestamp',
    )?.meta_data?.statistics;
    if (
      !statistics ||
      (statistics.null_count ?? 0n) !== 0n ||
      statistics.is_min_value_exact === false ||
      statistics.is_max_value_exact === false
    ) {
      return undefined;
    }
    const min = encoding.toEpochMs(statistics.min_value);
    const max = encoding.toEpochMs(statistics.max_value);
    if (min === undefined || max === undefined) return undefined;
    firstMs = Math.min(firstMs, min);
    lastMs = Math.max(lastMs, max);
  }
  return { firstMs, lastMs };
}

function rowCount(metadata: FileMetaData): number {
  return metadata.row_groups.reduce((total, rowGroup) => total + Number(rowGroup.num_rows), 0);
}

/** Any failure inside hyparquet means the bytes are not a readable Parquet file. */
async function asParquetError<T>(file: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new DataFileError(file, `not a readable Parquet file (${errorMessage(error)})`);
  }
}
