import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DecodedArray, parquetMetadata } from 'hyparquet';
import { ByteWriter, parquetWriteBuffer, SchemaElement } from 'hyparquet-writer';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { Candles, DataFileError } from '@app/common';
import { readCandleFile, summarizeCandleFile } from './parquet-candles';
import { CandleCompression, writeCandleFile } from './write-candles';

const utc = (iso: string) => Date.parse(iso);
const KST_MS = 9 * 3_600_000;

/** Three candles straddling new year 2024 KST, with values that are easy to tell apart. */
const INSTANTS = [
  utc('2023-12-31T14:59:00Z'),
  utc('2023-12-31T15:00:00Z'),
  utc('2023-12-31T15:30:00Z'),
];
const PRICES = {
  open: [100.5, 101.25, 102],
  high: [110.5, 111.25, 112],
  low: [90.5, 91.25, 92],
  close: [105.5, 106.25, 107],
  volume: [1.5, 0, 1234567.125],
};

function expectCandles(
  actual: Candles,
  timestamps: number[],
  prices: Record<string, number[]> = PRICES,
): void {
  expect({
    timestamp: Array.from(actual.timestamp),
    open: Array.from(actual.open),
    high: Array.from(actual.high),
    low: Array.from(actual.low),
    close: Array.from(actual.close),
    volume: Array.from(actual.volume),
  }).toEqual({ timestamp: timestamps, ...prices });
  expect(actual.length).toBe(timestamps.length);
}

interface ColumnSpec {
  element: Omit<SchemaElement, 'name'>;
  data: DecodedArray;
}

/** Writes a Parquet file with hyparquet-writer and a hand-made schema, columns in the order given. */
function writeParquet(
  file: string,
  columns: Record<string, ColumnSpec>,
  rowGroupSize?: number,
): void {
  const names = Object.keys(columns);
  const schema: SchemaElement[] = [
    { name: 'root', num_children: names.length },
    ...names.map((name) => ({ name, ...columns[name].element })),
  ];
  const buffer = parquetWriteBuffer({
    schema,
    columnData: names.map((name) => ({ name, data: columns[name].data })),
    rowGroupSize,
  });
  writeFileSync(file, new Uint8Array(buffer));
}

const DOUBLE: ColumnSpec['element'] = { type: 'DOUBLE', repetition_type: 'REQUIRED' };
const priceColumns = (prices: Record<string, number[]> = PRICES): Record<string, ColumnSpec> =>
  Object.fromEntries(
    Object.entries(prices).map(([name, values]) => [
      name,
      { element: DOUBLE, data: Float64Array.from(values) },
    ]),
  );
const int64 = (values: (number | bigint)[]) =>
  BigInt64Array.from(values.map((value) => BigInt(value)));

describe('readCandleFile', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'parquet-candles-'));
    file = path.join(dir, 'candles.parquet');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('files of our own writer', () => {
    it.each<CandleCompression>(['SNAPPY', 'GZIP', 'BROTLI', 'UNCOMPRESSED'])(
      'reads back exactly what was written (%s, one row per row group)',
      async (compression) => {
        const candles = {
          length: 3,
          timestamp: Float64Array.from(INSTANTS),
          ...Object.fromEntries(
            Object.entries(PRICES).map(([name, values]) => [name, Float64Array.from(values)]),
          ),
        } as Candles;
        await writeCandleFile(file, candles, { compression, rowGroupSize: 1 });
        const metadata = parquetMetadata(new Uint8Array(readFileSync(file)));
        expect(metadata.row_groups).toHaveLength(3);
        expect(metadata.row_groups[0].columns[0].meta_data?.codec).toBe(compression);
        expect(metadata.schema[1]).toMatchObject({
          name: 'timestamp',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
        });
        expectCandles(await readCandleFile(file), INSTANTS);
      },
    );

    it('sorts the rows and keeps the last row of a duplicate timestamp', async () => {
      const [a, b, c] = INSTANTS;
      const candles = {
        length: 4,
        timestamp: Float64Array.from([c, a, b, a]),
        open: Float64Array.from([3, 1, 2, 10]),
        high: Float64Array.from([3, 1, 2, 10]),
        low: Float64Array.from([3, 1, 2, 10]),
        close: Float64Array.from([3, 1, 2, 10]),
        volume: Float64Array.from([3, 1, 2, 10]),
      };
      await writeCandleFile(file, candles);
      const read = await readCandleFile(file);
      expect(Array.from(read.timestamp)).toEqual([a, b, c]);
      expect(Array.from(read.close)).toEqual([10, 2, 3]);
    });

    it('refuses to write a timestamp that is not whole milliseconds', async () => {
      const candles = {
        length: 1,
        timestamp: Float64Array.from([1.5]),
        ...Object.fromEntries(Object.keys(PRICES).map((name) => [name, Float64Array.from([1])])),
      } as Candles;
      await expect(writeCandleFile(file, candles)).rejects.toThrow(/timestamp: got 1.5/);
    });
  });

  describe('timestamp encodings', () => {
    const naive = INSTANTS.map((instant) => instant + KST_MS); // the same instants as KST wall time

    it.each<[string, ColumnSpec, number[]]>([
      [
        'TIMESTAMP(MICROS, UTC), required',
        {
          element: {
            type: 'INT64',
            repetition_type: 'REQUIRED',
            logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
          },
          data: int64(INSTANTS.map((ms) => ms * 1000 + 999)),
        },
        INSTANTS,
      ],
      [
        'TIMESTAMP(MILLIS, naive) as KST',
        {
          element: {
            type: 'INT64',
            repetition_type: 'REQUIRED',
            logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MILLIS' },
          },
          data: int64(naive),
        },
        INSTANTS,
      ],
      [
        'TIMESTAMP(NANOS, UTC), optional',
        {
          element: {
            type: 'INT64',
            repetition_type: 'OPTIONAL',
            logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' },
          },
          data: INSTANTS.map((ms) => BigInt(ms) * 1_000_000n + 999_999n),
        },
        INSTANTS,
      ],
      [
        'legacy TIMESTAMP_MICROS annotation (UTC)',
        {
          element: {
            type: 'INT64',
            repetition_type: 'REQUIRED',
            converted_type: 'TIMESTAMP_MICROS',
          },
          data: int64(INSTANTS.map((ms) => ms * 1000)),
        },
        INSTANTS,
      ],
      [
        'plain INT64 epoch milliseconds (UTC)',
        { element: { type: 'INT64', repetition_type: 'REQUIRED' }, data: int64(INSTANTS) },
        INSTANTS,
      ],
      [
        'ISO-8601 strings with and without offset',
        {
          element: { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' },
          data: ['2023-12-31T14:59:00Z', '2024-01-01T00:00:00', '2024-01-01T00:30:00+09:00'],
        },
        INSTANTS,
      ],
    ])('reads %s', async (_name, timestamp, expected) => {
      writeParquet(file, { timestamp, ...priceColumns() });
      expectCandles(await readCandleFile(file), expected);
    });

    it('reads INT96 as KST wall time', async () => {
      // hyparquet-writer cannot write INT96: write 12-byte values, then relabel the column.
      const int96 = naive.map((ms) => {
        const bytes = new Uint8Array(12);
        const view = new DataView(bytes.buffer);
        const days = Math.floor(ms / 86_400_000);
        view.setBigInt64(0, BigInt(ms - days * 86_400_000) * 1_000_000n, true);
        view.setInt32(8, days + 2_440_588, true); // Julian day number
        return bytes;
      });
      writeParquet(file, {
        timestamp: {
          element: { type: 'FIXED_LEN_BYTE_ARRAY', type_length: 12, repetition_type: 'REQUIRED' },
          data: int96,
        },
        ...priceColumns(),
      });
      relabelColumnAsInt96(file, 'timestamp');
      expectCandles(await readCandleFile(file), INSTANTS);
    });

    it.each<[string, ColumnSpec, RegExp]>([
      [
        'a DATE',
        {
          element: { type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'DATE' },
          data: Int32Array.from([1, 2, 3]),
        },
        /column "timestamp" has type INT32 \(DATE\); expected a TIMESTAMP/,
      ],
      [
        'a DOUBLE',
        { element: DOUBLE, data: Float64Array.from(INSTANTS) },
        /column "timestamp" has type DOUBLE; expected/,
      ],
    ])('rejects %s timestamp, naming file and column', async (_name, timestamp, message) => {
      writeParquet(file, { timestamp, ...priceColumns() });
      const error = await readCandleFile(file).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DataFileError);
      expect((error as DataFileError).file).toBe(file);
      expect((error as DataFileError).message).toMatch(message);
    });

    it('rejects an unparsable ISO string, naming the row and the value', async () => {
      writeParquet(file, {
        timestamp: {
          element: { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' },
          data: ['2024-01-01T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T00:02:00Z'],
        },
        ...priceColumns(),
      });
      await expect(readCandleFile(file)).rejects.toThrow(
        `${file}: column "timestamp" row 2 has the value "2024-13-01T00:00:00Z"`,
      );
    });
  });

  describe('price columns', () => {
    it('reads INT32, INT64, FLOAT and DECIMAL as numbers', async () => {
      writeParquet(file, {
        timestamp: {
          element: { type: 'INT64', repetition_type: 'REQUIRED' },
          data: int64(INSTANTS),
        },
        open: {
          element: { type: 'INT32', repetition_type: 'REQUIRED' },
          data: Int32Array.from([100, 101, 102]),
        },
        high: {
          element: { type: 'INT64', repetition_type: 'REQUIRED' },
          data: int64([110, 111, 112]),
        },
        low: {
          element: { type: 'FLOAT', repetition_type: 'REQUIRED' },
          data: Float32Array.from([90.5, 91.25, 92]),
        },
        close: {
          element: {
            type: 'INT64',
            repetition_type: 'REQUIRED',
            converted_type: 'DECIMAL',
            scale: 2,
            precision: 18,
          },
          data: [105.5, 106.25, 107],
        },
        volume: { element: DOUBLE, data: Float64Array.from(PRICES.volume) },
      });
      expectCandles(await readCandleFile(file), INSTANTS, {
        open: [100, 101, 102],
        high: [110, 111, 112],
        low: [90.5, 91.25, 92],
        close: [105.5, 106.25, 107],
        volume: PRICES.volume,
      });
    });

    it('rejects prices stored as text', async () => {
      writeParquet(file, {
        timestamp: {
          element: { type: 'INT64', repetition_type: 'REQUIRED' },
          data: int64(INSTANTS),
        },
        ...priceColumns(),
        close: {
          element: { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' },
          data: ['1', '2', '3'],
        },
      });
      await expect(readCandleFile(file)).rejects.toThrow(
        /column "close" has type BYTE_ARRAY \(UTF8\); expected a number/,
      );
    });

    it('rejects a null price, naming the row', async () => {
      writeParquet(file, {
        timestamp: {
          element: { type: 'INT64', repetition_type: 'REQUIRED' },
          data: int64(INSTANTS),
        },
        ...priceColumns(),
        volume: { element: { type: 'DOUBLE', repetition_type: 'OPTIONAL' }, data: [1, null, 3] },
      });
      await expect(readCandleFile(file)).rejects.toThrow(
        /column "volume" row 2 has an empty \(null\) value/,
      );
    });
  });

  describe('layout of the file', () => {
    it('ignores extra columns and takes the columns in any order, across row groups', async () => {
      writeParquet(
        file,
        {
          symbol: {
            element: { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' },
            data: ['X', 'X', 'X'],
          },
          volume: { element: DOUBLE, data: Float64Array.from(PRICES.volume) },
          close: { element: DOUBLE, data: Float64Array.from(PRICES.close) },
          trades: {
            element: { type: 'INT32', repetition_type: 'REQUIRED' },
            data: Int32Array.from([7, 8, 9]),
          },
          low: { element: DOUBLE, data: Float64Array.from(PRICES.low) },
          timestamp: {
            element: { type: 'INT64', repetition_type: 'REQUIRED' },
            data: int64(INSTANTS),
          },
          high: { element: DOUBLE, data: Float64Array.from(PRICES.high) },
          open: { element: DOUBLE, data: Float64Array.from(PRICES.open) },
        },
        2,
      );
      expectCandles(await readCandleFile(file), INSTANTS);
    });

    it('names every missing column', async () => {
      const { volume: _volume, high: _high, ...rest } = priceColumns();
      writeParquet(file, {
        timestamp: {
          element: { type: 'INT64', repetition_type: 'REQUIRED' },
          data: int64(INSTANTS),
        },
        ...rest,
      });
      await expect(readCandleFile(file)).rejects.toThrow(
        `${file}: missing required column(s): high, volume (found: timestamp, open, low, close)`,
      );
    });

    it('reports a file that is not Parquet', async () => {
      writeFileSync(file, 'timestamp,open,high,low,close,volume\n');
      await expect(readCandleFile(file)).rejects.toThrow(
        new RegExp(`^${file}: not a readable Parquet file`),
      );
    });

    it('reports a truncated file', async () => {
      writeParquet(file, {
        timestamp: {
          element: { type: 'INT64', repetition_type: 'REQUIRED' },
          data: int64(INSTANTS),
        },
        ...priceColumns(),
      });
      const bytes = readFileSync(file);
      writeFileSync(file, bytes.subarray(0, bytes.length - 20));
      await expect(readCandleFile(file)).rejects.toBeInstanceOf(DataFileError);
    });

    it('turns any damage to the pages into a DataFileError or a load, never a hang or a crash', async () => {
      // Nullable columns (as pandas and DuckDB write them), several row groups and pages.
      const rows = 400;
      const optional = (data: DecodedArray) => ({
        element: { type: 'DOUBLE', repetition_type: 'OPTIONAL' } as const,
        data,
      });
      const pristine = parquetWriteBuffer({
        schema: [
          { name: 'root', num_children: 6 },
          { name: 'timestamp', type: 'INT64', repetition_type: 'OPTIONAL' },
          ...['open', 'high', 'low', 'close', 'volume'].map((name) => ({
            name,
            ...optional([]).element,
          })),
        ],
        columnData: [
          {
            name: 'timestamp',
            data: int64(Array.from({ length: rows }, (_, i) => 1e12 + i * 6e4)),
          },
          ...['open', 'high', 'low', 'close', 'volume'].map((name) => ({
            name,
            data: Float64Array.from({ length: rows }, (_, i) => 100 + (i % 7)),
          })),
        ],
        rowGroupSize: 150,
        pageSize: 512,
        codec: 'SNAPPY',
      });
      const footerStart =
        pristine.byteLength - 8 - new DataView(pristine).getUint32(pristine.byteLength - 8, true);
      let seed = 2024;
      const random = (below: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed % below;
      };
      const outcomes = { loaded: 0, refused: 0 };
      for (let attempt = 0; attempt < 300; attempt++) {
        const bytes = new Uint8Array(pristine.slice(0));
        // Overwrite 1-8 bytes somewhere in the column data (the footer is checked elsewhere).
        const at = 4 + random(footerStart - 12);
        for (let i = 0, n = 1 + random(8); i < n; i++) bytes[at + i] = random(256);
        writeFileSync(file, bytes);
        try {
          const candles = await readCandleFile(file);
          expect(candles.length).toBeLessThanOrEqual(rows);
          outcomes.loaded++;
        } catch (error) {
          expect(error).toBeInstanceOf(DataFileError);
          expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
          outcomes.refused++;
        }
      }
      // Most damage is noticed; some lands in values that are still numbers.
      expect(outcomes.refused).toBeGreaterThan(100);
    });

    it('reports a missing file as unreadable', async () => {
      await expect(readCandleFile(path.join(dir, 'nope.parquet'))).rejects.toThrow(
        /nope.parquet: cannot read the file \(ENOENT/,
      );
    });
  });
});

describe('summarizeCandleFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'parquet-summary-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes rows and first/last from the footer of our files', async () => {
    const file = path.join(dir, 'a.parquet');
    const [a, b, c] = INSTANTS;
    await writeCandleFile(
      file,
      {
        length: 3,
        timestamp: Float64Array.from([b, c, a]),
        ...Object.fromEntries(
          Object.keys(PRICES).map((name) => [name, Float64Array.from([1, 2, 3])]),
        ),
      } as Candles,
      { rowGroupSize: 2 },
    );
    expect(await summarizeCandleFile(file, 'a.parquet')).toEqual({
      rows: 3,
      firstMs: a,
      lastMs: c,
    });
  });

  it('reads the timestamps when they are strings (no usable statistics)', async () => {
    const file = path.join(dir, 'b.parquet');
    writeParquet(file, {
      timestamp: {
        element: { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' },
        // Lexical order is not time order here: the statistics would be wrong.
        data: ['2024-01-01T09:00:00+09:00', '2023-12-31T23:00:00Z', '2024-01-01T00:30:00'],
      },
      ...priceColumns(),
    });
    expect(await summarizeCandleFile(file, 'b.parquet')).toEqual({
      rows: 3,
      firstMs: utc('2023-12-31T15:30:00Z'),
      lastMs: utc('2024-01-01T00:00:00Z'),
    });
  });

  it('applies the KST rule to naive statistics', async () => {
    const file = path.join(dir, 'c.parquet');
    writeParquet(file, {
      timestamp: {
        element: {
          type: 'INT64',
          repetition_type: 'REQUIRED',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' },
        },
        data: int64(INSTANTS.map((ms) => (ms + KST_MS) * 1000)),
      },
      ...priceColumns(),
    });
    expect(await summarizeCandleFile(file, 'c.parquet')).toEqual({
      rows: 3,
      firstMs: INSTANTS[0],
      lastMs: INSTANTS[2],
    });
  });
});

/** Rewrites the footer so a 12-byte FIXED_LEN_BYTE_ARRAY column is declared INT96. */
function relabelColumnAsInt96(file: string, column: string): void {
  const bytes = new Uint8Array(readFileSync(file));
  const metadata = parquetMetadata(bytes);
  const footerStart = bytes.length - 8 - metadata.metadata_length;
  for (const element of metadata.schema) {
    if (element.name === column) Object.assign(element, { type: 'INT96', type_length: undefined });
  }
  for (const rowGroup of metadata.row_groups) {
    for (const chunk of rowGroup.columns) {
      if (chunk.meta_data?.path_in_schema[0] === column) {
        Object.assign(chunk.meta_data, { type: 'INT96', statistics: undefined });
      }
    }
  }
  const writer = new ByteWriter();
  writer.appendBytes(bytes.subarray(0, footerStart));
  const metadataStart = writer.offset;
  writeMetadata(writer, metadata as Parameters<typeof writeMetadata>[1]);
  writer.appendUint32(writer.offset - metadataStart);
  writer.appendBytes(new TextEncoder().encode('PAR1'));
  writeFileSync(file, writer.getBytes());
}
