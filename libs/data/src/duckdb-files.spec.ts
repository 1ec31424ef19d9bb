/**
 * The loader against files from a second writer: DuckDB, the engine most of the ecosystem
 * uses to write Parquet. A reader tested only on its own writer's files proves little.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata } from 'hyparquet';
import { Candles, DataFileError } from '@app/common';
import { kstDateRange } from './kst-time';
import { loadCandles } from './load-candles';

const MINUTE = 60_000;
const ROWS = 5_000;
const START_MS = Date.UTC(2024, 2, 1); // 2024-03-01T00:00Z
const MARCH = kstDateRange('2024-03-01', '2024-03-31');

/** The candles of the `base` table below, computed independently of DuckDB. */
function expectedBase(): Candles {
  const index = Array.from({ length: ROWS }, (_, i) => i);
  const open = (i: number) => 100 + (i % 7) * 0.5;
  return {
    length: ROWS,
    timestamp: Float64Array.from(index, (i) => START_MS + i * MINUTE),
    open: Float64Array.from(index, open),
    high: Float64Array.from(index, (i) => open(i) + 1.25),
    low: Float64Array.from(index, (i) => open(i) - 0.75),
    close: Float64Array.from(index, (i) => 100 + ((i * 3) % 11) * 0.25),
    volume: Float64Array.from(index, (i) => (i % 13) * 2.5),
  };
}

/** Compares bit for bit and reports the first difference (toEqual on 30,000 numbers is slow). */
function expectSameCandles(actual: Candles, expected: Candles): void {
  expect(actual.length).toBe(expected.length);
  for (const column of ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const) {
    const index = actual[column].findIndex((value, i) => !Object.is(value, expected[column][i]));
    const firstDifference =
      index < 0
        ? undefined
        : { index, actual: actual[column][index], expected: expected[column][index] };
    expect({ column, firstDifference }).toEqual({ column, firstDifference: undefined });
  }
}

describe('loading Parquet files written by DuckDB', () => {
  let instance: DuckDBInstance;
  let duckdb: DuckDBConnection;
  let dataRoot: string;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    duckdb = await instance.connect();
    await duckdb.run("SET TimeZone = 'UTC'");
    // utc and kst are the same instant as wall times: kst is what a KST writer stores naively.
    // Prices are cast: DuckDB reads a literal like 0.5 as DECIMAL.
    await duckdb.run(`
      CREATE TABLE base AS
      SELECT i,
             TIMESTAMP '2024-03-01 00:00:00' + to_minutes(i) AS utc,
             TIMESTAMP '2024-03-01 09:00:00' + to_minutes(i) AS kst,
             CAST(100 + (i % 7) * 0.5 AS DOUBLE) AS open,
             CAST(100 + (i % 7) * 0.5 + 1.25 AS DOUBLE) AS high,
             CAST(100 + (i % 7) * 0.5 - 0.75 AS DOUBLE) AS low,
             CAST(100 + ((i * 3) % 11) * 0.25 AS DOUBLE) AS close,
             CAST((i % 13) * 2.5 AS DOUBLE) AS volume
      FROM range(${ROWS}) t(i)`);
  });

  afterAll(() => {
    duckdb.closeSync();
    instance.closeSync();
  });

  beforeEach(() => (dataRoot = mkdtempSync(path.join(tmpdir(), 'duckdb-files-'))));
  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  /** Writes `select` with DuckDB to DATA_ROOT/{symbol}/1M/{year}.parquet; returns the path. */
  async function copyToParquet(
    select: string,
    { year = 2024, symbol = 'BTC_KRW', compression = 'zstd', rowGroupSize = 2048 } = {},
  ): Promise<string> {
    const directory = path.join(dataRoot, symbol, '1M');
    mkdirSync(directory, { recursive: true });
    const file = path.join(directory, `${year}.parquet`);
    await duckdb.run(
      `COPY (${select}) TO '${file}' (FORMAT parquet, COMPRESSION ${compression}, ROW_GROUP_SIZE ${rowGroupSize})`,
    );
    return file;
  }

  const metadataOf = (file: string) => parquetMetadata(new Uint8Array(readFileSync(file)));
  const encodingsOf = (file: string, column: string) =>
    metadataOf(file).row_groups.flatMap(
      ({ columns }) =>
        columns.find((chunk) => chunk.meta_data?.path_in_schema[0] === column)?.meta_data
          ?.encodings ?? [],
    );

  it.each([
    ['snappy', 'SNAPPY'],
    ['gzip', 'GZIP'],
    ['zstd', 'ZSTD'],
    ['brotli', 'BROTLI'],
    ['lz4', 'LZ4_RAW'],
    ['uncompressed', 'UNCOMPRESSED'],
  ])('reads %s compression across several row groups', async (compression, codec) => {
    const file = await copyToParquet(
      'SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp, open, high, low, close, volume FROM base ORDER BY i',
      { compression },
    );
    const metadata = metadataOf(file);
    expect(metadata.row_groups.length).toBeGreaterThan(1);
    expect(metadata.row_groups[0].columns[0].meta_data?.codec).toBe(codec);
    expect(metadata.schema.find(({ name }) => name === 'open')?.type).toBe('DOUBLE');
    expectSameCandles(await loadCandles(dataRoot, 'BTC_KRW', '1M', MARCH), expectedBase());
  });

  it.each([
    ['TIMESTAMP (naive, so KST)', 'kst'],
    ['TIMESTAMPTZ (UTC)', 'CAST(utc AS TIMESTAMPTZ)'],
    ['TIMESTAMP_MS (naive, so KST)', 'CAST(kst AS TIMESTAMP_MS)'],
    ['TIMESTAMP_NS (naive, so KST)', 'CAST(kst AS TIMESTAMP_NS)'],
    ['BIGINT epoch milliseconds (UTC)', 'epoch_ms(utc)'],
    ['VARCHAR ISO with Z', "strftime(utc, '%Y-%m-%dT%H:%M:%S') || 'Z'"],
    ['VARCHAR ISO with +09:00', "strftime(kst, '%Y-%m-%dT%H:%M:%S') || '+09:00'"],
    ['VARCHAR ISO without offset (KST)', "strftime(kst, '%Y-%m-%d %H:%M:%S')"],
    ['VARCHAR of a TIMESTAMPTZ (+00)', 'CAST(CAST(utc AS TIMESTAMPTZ) AS VARCHAR)'],
  ])('reads timestamps stored as %s', async (_encoding, timestamp) => {
    await copyToParquet(
      `SELECT ${timestamp} AS timestamp, open, high, low, close, volume FROM base ORDER BY i`,
    );
    expectSameCandles(await loadCandles(dataRoot, 'BTC_KRW', '1M', MARCH), expectedBase());
  });

  it('ignores extra columns (dictionary-encoded strings among them) in shuffled order', async () => {
    const file = await copyToParquet(`
      SELECT 'BTC_KRW' AS symbol, volume, '1M' AS timeframe, close, i AS trade_count, low,
             CAST(utc AS TIMESTAMPTZ) AS timestamp, high, open
      FROM base ORDER BY i`);
    expect(encodingsOf(file, 'symbol').some((encoding) => encoding.endsWith('DICTIONARY'))).toBe(
      true,
    );
    expectSameCandles(await loadCandles(dataRoot, 'BTC_KRW', '1M', MARCH), expectedBase());
  });

  it('ignores a nested column whose fields are named like the candle columns', async () => {
    // The struct comes after the real columns, so a lookup by name alone would find its
    // `open` (a string) last and decode the top-level `open` by the wrong schema element.
    await copyToParquet(`
      SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp, open, high, low, close, volume,
             {'open': 'x' || i, 'timestamp': 'y'} AS extra
      FROM base ORDER BY i`);
    expectSameCandles(await loadCandles(dataRoot, 'BTC_KRW', '1M', MARCH), expectedBase());
  });

  it('reads DECIMAL (INT32, INT64 and fixed-length storage) and FLOAT prices', async () => {
    const file = await copyToParquet(`
      SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp,
             CAST(open AS DECIMAL(18, 3)) AS open,
             CAST(high AS DECIMAL(9, 2)) AS high,
             CAST(low AS DECIMAL(38, 4)) AS low,
             CAST(close AS FLOAT) AS close,
             volume
      FROM base ORDER BY i`);
    const types = Object.fromEntries(
      metadataOf(file).schema.map((element) => [element.name, element.type]),
    );
    expect(types).toMatchObject({
      open: 'INT64',
      high: 'INT32',
      low: 'FIXED_LEN_BYTE_ARRAY',
      close: 'FLOAT',
    });
    expectSameCandles(await loadCandles(dataRoot, 'BTC_KRW', '1M', MARCH), expectedBase());
  });

  it('decodes dictionary-encoded timestamp strings, keeping the last of duplicate rows', async () => {
    // 50 distinct times, each written 100 times: row i belongs to minute i // 100.
    const file = await copyToParquet(`
      SELECT strftime(TIMESTAMP '2024-03-01 09:00:00' + to_minutes(i // 100), '%Y-%m-%dT%H:%M:%S') AS timestamp,
             open, high, low, i AS close, volume
      FROM base ORDER BY i`);
    expect(encodingsOf(file, 'timestamp').some((encoding) => encoding.endsWith('DICTIONARY'))).toBe(
      true,
    );
    const loaded = await loadCandles(dataRoot, 'BTC_KRW', '1M', MARCH);
    const lastRows = Array.from({ length: 50 }, (_, minute) => minute * 100 + 99);
    expect(Array.from(loaded.timestamp)).toEqual(
      lastRows.map((i) => START_MS + Math.floor(i / 100) * MINUTE),
    );
    expect(Array.from(loaded.close)).toEqual(lastRows);
    expect(Array.from(loaded.volume)).toEqual(lastRows.map((i) => (i % 13) * 2.5));
  });

  describe('around new year (2023-12-31T15:00Z = 2024-01-01 00:00 KST)', () => {
    beforeAll(async () => {
      // Every 30 minutes from 2023-12-31 12:00 UTC to 2024-01-01 18:00 UTC; close = row number.
      await duckdb.run(`
        CREATE TABLE boundary AS
        SELECT i,
               TIMESTAMP '2023-12-31 12:00:00' + to_minutes(30 * i) AS utc,
               TIMESTAMP '2023-12-31 21:00:00' + to_minutes(30 * i) AS kst,
               i AS close
        FROM range(61) t(i)`);
    });
    const boundaryRow = (i: number) => ({
      time: Date.UTC(2023, 11, 31, 12) + i * 30 * MINUTE,
      close: i,
    });
    const selectBoundary = (where: string) =>
      `SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp, close AS open, close AS high, close AS low, close, close AS volume
       FROM boundary WHERE ${where} ORDER BY i`;

    it.each([
      ['KST', 'year(kst)'],
      ['UTC', 'year(utc)'],
    ])(
      'finds 2024-01-01 KST whole when the files were split by %s year',
      async (_calendar, year) => {
        await copyToParquet(selectBoundary(`${year} = 2023`), { year: 2023 });
        await copyToParquet(selectBoundary(`${year} = 2024`), { year: 2024 });
        const newYearsDay = await loadCandles(
          dataRoot,
          'BTC_KRW',
          '1M',
          kstDateRange('2024-01-01', '2024-01-01'),
        );
        // 15:00Z on 31 December (row 6) up to, not including, 15:00Z on 1 January (row 54).
        const rows = Array.from({ length: 48 }, (_, k) => boundaryRow(k + 6));
        expect(Array.from(newYearsDay.timestamp)).toEqual(rows.map(({ time }) => time));
        expect(Array.from(newYearsDay.close)).toEqual(rows.map(({ close }) => close));
        expect(Array.from(newYearsDay.timestamp)).toContain(Date.parse('2023-12-31T15:30:00Z'));
      },
    );

    it('keeps the later year file’s row for a timestamp both files hold', async () => {
      await copyToParquet(selectBoundary('i <= 10'), { year: 2023 });
      await copyToParquet(
        `SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp, close AS open, close AS high, close AS low,
                close + 1000 AS close, close AS volume
         FROM boundary WHERE i >= 8 ORDER BY i`,
        { year: 2024 },
      );
      const loaded = await loadCandles(
        dataRoot,
        'BTC_KRW',
        '1M',
        kstDateRange('2023-12-31', '2024-01-02'),
      );
      expect(Array.from(loaded.close)).toEqual([
        ...Array.from({ length: 8 }, (_, i) => i),
        ...Array.from({ length: 53 }, (_, k) => k + 8 + 1000),
      ]);
    });
  });

  describe('broken files', () => {
    const loadMarch = () =>
      loadCandles(dataRoot, 'BTC_KRW', '1M', MARCH).catch((caught: unknown) => caught);

    it('reports a truncated file, naming it', async () => {
      const file = await copyToParquet(
        'SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp, open, high, low, close, volume FROM base',
      );
      const bytes = readFileSync(file);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const error = await loadMarch();
      expect(error).toBeInstanceOf(DataFileError);
      expect((error as DataFileError).message).toMatch(
        /^BTC_KRW\/1M\/2024.parquet: not a readable Parquet file/,
      );
    });

    it('reports a file whose data pages are garbage, naming it', async () => {
      const file = await copyToParquet(
        'SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp, open, high, low, close, volume FROM base',
        { compression: 'snappy' },
      );
      const bytes = readFileSync(file);
      bytes.fill(0x5a, 4, Math.floor(bytes.length / 2)); // footer intact, pages destroyed
      writeFileSync(file, bytes);
      const error = await loadMarch();
      expect(error).toBeInstanceOf(DataFileError);
      expect((error as DataFileError).file).toBe('BTC_KRW/1M/2024.parquet');
    });

    it('names the file and the missing column', async () => {
      await copyToParquet(
        'SELECT CAST(utc AS TIMESTAMPTZ) AS timestamp, open, high, low, close FROM base',
      );
      const error = await loadMarch();
      expect(error).toBeInstanceOf(DataFileError);
      expect((error as DataFileError).message).toBe(
        'BTC_KRW/1M/2024.parquet: missing required column(s): volume (found: timestamp, open, high, low, close)',
      );
    });
  });
});
