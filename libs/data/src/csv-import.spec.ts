import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataFileError, InvalidInputError } from '@app/common';
import { importCsv, parseCandleCsv } from './csv-import';
import { kstDateRange } from './kst-time';
import { loadCandles } from './load-candles';
import { readCandleFile } from './parquet-candles';

const utc = (iso: string) => Date.parse(iso);
const HEADER = 'timestamp,open,high,low,close,volume';

describe('parseCandleCsv', () => {
  it('reads columns in any order and case, ignores extra ones, and accepts every time format', () => {
    const candles = parseCandleCsv(
      [
        '\uFEFFVolume,Close,symbol,timestamp,low,high,open',
        '10,105.5,BTC_KRW,2023-12-31T15:30:00Z,99,106,100',
        '11,106.5,BTC_KRW,2024-01-01 00:31:00,100,107,101', // no offset: KST
        '12,107.5,BTC_KRW,2024-01-01T00:32:00+09:00,101,108,102',
        '13,1.25e2,BTC_KRW,1704036780000,102,109,103', // epoch milliseconds
        '"14","108.5","BTC,KRW","2023-12-31T15:34:00.250Z",103,110,104',
        '',
      ].join('\r\n'),
      'in.csv',
    );
    expect(Array.from(candles.timestamp)).toEqual([
      utc('2023-12-31T15:30:00Z'),
      utc('2023-12-31T15:31:00Z'),
      utc('2023-12-31T15:32:00Z'),
      utc('2023-12-31T15:33:00Z'),
      utc('2023-12-31T15:34:00.250Z'),
    ]);
    expect(Array.from(candles.open)).toEqual([100, 101, 102, 103, 104]);
    expect(Array.from(candles.high)).toEqual([106, 107, 108, 109, 110]);
    expect(Array.from(candles.low)).toEqual([99, 100, 101, 102, 103]);
    expect(Array.from(candles.close)).toEqual([105.5, 106.5, 107.5, 125, 108.5]);
    expect(Array.from(candles.volume)).toEqual([10, 11, 12, 13, 14]);
  });

  it.each([
    [
      'line 1: missing required column(s): volume',
      'timestamp,open,high,low,close\n2024-01-01T00:00:00Z,1,1,1,1',
    ],
    [
      'line 3, field "high": "abc" is not a decimal number',
      `${HEADER}\n2024-01-01T00:00:00Z,1,1,1,1,1\n2024-01-01T00:01:00Z,1,abc,1,1,1`,
    ],
    [
      'line 2, field "close": "" is not a decimal number',
      `${HEADER}\n2024-01-01T00:00:00Z,1,1,1,,1`,
    ],
    ['line 2, field "volume": "NaN" is not', `${HEADER}\n2024-01-01T00:00:00Z,1,1,1,1,NaN`],
    ['line 2, field "open": "0x10" is not', `${HEADER}\n2024-01-01T00:00:00Z,0x10,1,1,1,1`],
    [
      'line 3, field "timestamp": "2024-02-30T00:00:00Z" is not an ISO-8601 time',
      `${HEADER}\n\n2024-02-30T00:00:00Z,1,1,1,1,1`,
    ],
    ['line 2: 5 fields, but the header has 6', `${HEADER}\n2024-01-01T00:00:00Z,1,1,1,1`],
    ['line 2: unterminated quoted field', `${HEADER}\n"2024-01-01T00:00:00Z,1,1,1,1,1`],
    [
      'line 1: column(s) named more than once: open',
      `${HEADER},open\n2024-01-01T00:00:00Z,1,1,1,1,1,1`,
    ],
  ])('reports %j, naming the file', (message, text) => {
    const error = (() => {
      try {
        parseCandleCsv(text, 'prices.csv');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DataFileError);
    expect((error as DataFileError).file).toBe('prices.csv');
    expect((error as DataFileError).problem).toContain(message);
  });
});

describe('importCsv', () => {
  let dir: string;
  let dataRoot: string;
  let csvPath: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'csv-import-'));
    dataRoot = path.join(dir, 'data');
    csvPath = path.join(dir, 'in.csv');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeCsv = (rows: string[]) => writeFileSync(csvPath, [HEADER, ...rows].join('\n'));
  const closes = async (year: number) => {
    const candles = await readCandleFile(path.join(dataRoot, 'BTC_KRW', '1H', `${year}.parquet`));
    return Array.from(candles.timestamp, (timestamp, i) => [
      new Date(timestamp).toISOString(),
      candles.close[i],
    ]);
  };

  it('refuses rows spaced finer than the timeframe, naming it, and writes nothing', async () => {
    writeCsv(['2024-03-01T00:00:00Z,1,1,1,1,1', '2024-03-01T00:05:00Z,2,2,2,2,2']);
    await expect(
      importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot }),
    ).rejects.toThrow(
      /timeframe: got "1H"; expected candles 1 hour\(s\) apart for timeframe 1H: .* are 5 minute\(s\) apart/,
    );
    expect(existsSync(dataRoot)).toBe(false);
  });

  it('splits by KST calendar year and reports what it wrote', async () => {
    writeCsv([
      '2023-12-31T14:00:00Z,1,1,1,1,1', // 2023-12-31 23:00 KST
      '2023-12-31T15:00:00Z,2,2,2,2,2', // 2024-01-01 00:00 KST
      '2024-06-01T00:00:00Z,3,3,3,3,3',
    ]);
    const summary = await importCsv({ csvPath, symbol: 'btc_krw', timeframe: '1h', dataRoot });
    expect(summary).toEqual({
      rowsRead: 3,
      rowsWritten: 3,
      files: [
        { year: 2023, path: 'BTC_KRW/1H/2023.parquet', rows: 1 },
        { year: 2024, path: 'BTC_KRW/1H/2024.parquet', rows: 2 },
      ],
    });
    expect(await closes(2023)).toEqual([['2023-12-31T14:00:00.000Z', 1]]);
    expect(await closes(2024)).toEqual([
      ['2023-12-31T15:00:00.000Z', 2],
      ['2024-06-01T00:00:00.000Z', 3],
    ]);
    expect(readdirSync(path.join(dataRoot, 'BTC_KRW', '1H')).sort()).toEqual([
      '2023.parquet',
      '2024.parquet',
    ]);
  });

  it('merges with the existing year file, the imported row winning, sorted', async () => {
    writeCsv(['2024-03-01T00:00:00Z,1,1,1,1,1', '2024-03-03T00:00:00Z,1,1,1,1,1']);
    await importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot });
    writeCsv([
      '2024-03-03T00:00:00Z,2,2,2,2,2',
      '2024-03-02T00:00:00Z,2,2,2,2,2',
      '2024-03-02T00:00:00Z,3,3,3,3,3',
    ]);
    const summary = await importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot });
    expect(summary).toEqual({
      rowsRead: 3,
      rowsWritten: 3,
      files: [{ year: 2024, path: 'BTC_KRW/1H/2024.parquet', rows: 3 }],
    });
    expect(await closes(2024)).toEqual([
      ['2024-03-01T00:00:00.000Z', 1],
      ['2024-03-02T00:00:00.000Z', 3],
      ['2024-03-03T00:00:00.000Z', 2],
    ]);
  });

  it('writes nothing when a line is bad', async () => {
    writeCsv(['2023-06-01T00:00:00Z,1,1,1,1,1', '2024-06-01T00:00:00Z,1,1,x,1,1']);
    await expect(
      importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot }),
    ).rejects.toThrow(`${csvPath}: line 3, field "low": "x" is not a decimal number`);
    expect(existsSync(dataRoot)).toBe(false);
  });

  it('writes nothing when an existing year file is broken', async () => {
    writeCsv(['2023-06-01T00:00:00Z,1,1,1,1,1', '2024-06-01T00:00:00Z,1,1,1,1,1']);
    await importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot });
    const before2023 = readFileSync(path.join(dataRoot, 'BTC_KRW', '1H', '2023.parquet'));
    writeFileSync(path.join(dataRoot, 'BTC_KRW', '1H', '2024.parquet'), 'garbage');
    writeCsv(['2023-07-01T00:00:00Z,2,2,2,2,2', '2024-07-01T00:00:00Z,2,2,2,2,2']);
    await expect(
      importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot }),
    ).rejects.toThrow(/^BTC_KRW\/1H\/2024.parquet: not a readable Parquet file/);
    expect(
      readFileSync(path.join(dataRoot, 'BTC_KRW', '1H', '2023.parquet')).equals(before2023),
    ).toBe(true);
    expect(readdirSync(path.join(dataRoot, 'BTC_KRW', '1H')).sort()).toEqual([
      '2023.parquet',
      '2024.parquet',
    ]);
  });

  it('validates symbol and timeframe, listing both, before reading or writing anything', async () => {
    const error = await importCsv({
      csvPath: '/nonexistent.csv',
      symbol: '../x',
      timeframe: '2M',
      dataRoot,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map(({ field }) => field)).toEqual([
      'symbol',
      'timeframe',
    ]);
  });

  it('writes nothing for a CSV with a header only', async () => {
    writeCsv([]);
    expect(await importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot })).toEqual({
      rowsRead: 0,
      rowsWritten: 0,
      files: [],
    });
    expect(existsSync(dataRoot)).toBe(false);
  });

  it('reports a missing CSV file', async () => {
    await expect(
      importCsv({ csvPath, symbol: 'BTC_KRW', timeframe: '1H', dataRoot }),
    ).rejects.toThrow(/in.csv: cannot read the file \(ENOENT/);
  });
});

describe('round trip of the shared Binance CSVs', () => {
  // Real Binance candles, kept in the repository as fixtures (test/fixtures/binance).
  const sharedDirectory = path.resolve(__dirname, '../../../test/fixtures/binance');
  const csvFiles = existsSync(sharedDirectory)
    ? readdirSync(sharedDirectory).filter((name) => name.endsWith('.csv'))
    : [];
  let dataRoot: string;

  beforeAll(() => (dataRoot = mkdtempSync(path.join(tmpdir(), 'round-trip-'))));
  afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));

  it('finds the shared CSVs', () => {
    expect(csvFiles.length).toBeGreaterThan(0);
  });

  it.each(csvFiles)('%s: CSV -> Parquet -> loader gives exactly the same numbers', async (name) => {
    const [, symbol, timeframe] = /^(\w+?_\w+?)-(\w+)\.csv$/.exec(name) ?? [];
    const csvPath = path.join(sharedDirectory, name);
    // An independent reading of the CSV: these files have a fixed header and UTC times.
    const rows = readFileSync(csvPath, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(','));

    const summary = await importCsv({ csvPath, symbol, timeframe, dataRoot });
    expect(summary.rowsRead).toBe(rows.length);
    expect(summary.rowsWritten).toBe(rows.length);

    const loaded = await loadCandles(
      dataRoot,
      symbol,
      timeframe,
      kstDateRange('2010-01-01', '2030-12-31'),
    );
    expect(loaded.length).toBe(rows.length);
    const mismatches = rows.filter(
      ([timestamp, open, high, low, close, volume], i) =>
        loaded.timestamp[i] !== Date.parse(timestamp) ||
        loaded.open[i] !== Number(open) ||
        loaded.high[i] !== Number(high) ||
        loaded.low[i] !== Number(low) ||
        loaded.close[i] !== Number(close) ||
        loaded.volume[i] !== Number(volume),
    );
    expect(mismatches).toEqual([]);
  });
});
