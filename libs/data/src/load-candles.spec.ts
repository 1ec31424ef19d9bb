import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { CancelledError, Candles, DataFileError, InvalidInputError } from '@app/common';
import { CandleFileCache } from './candle-file-cache';
import { kstDateRange } from './kst-time';
import { candleFileLocation } from './layout';
import { loadCandles } from './load-candles';
import { generateCandles } from './synthetic';
import { writeCandleFile } from './write-candles';

const utc = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;

/** Candles at the given instants whose close is the label, so tests see which row survived. */
function labelled(rows: [iso: string, close: number][]): Candles {
  const column = (pick: (row: [string, number]) => number) => Float64Array.from(rows.map(pick));
  return {
    length: rows.length,
    timestamp: column(([iso]) => utc(iso)),
    open: column(([, close]) => close),
    high: column(([, close]) => close + 0.5),
    low: column(([, close]) => close - 0.5),
    close: column(([, close]) => close),
    volume: column(([, close]) => close * 2),
  };
}

const closesByTime = (candles: Candles) =>
  Array.from(candles.timestamp, (timestamp, i) => [
    new Date(timestamp).toISOString(),
    candles.close[i],
  ]);

describe('loadCandles', () => {
  let dataRoot: string;
  const write = (
    symbol: string,
    timeframe: string,
    year: number,
    candles: Candles,
    rowGroupSize?: number,
  ) =>
    writeCandleFile(candleFileLocation(dataRoot, symbol, timeframe, year).absolutePath, candles, {
      rowGroupSize,
    });

  beforeEach(() => (dataRoot = mkdtempSync(path.join(tmpdir(), 'load-candles-'))));
  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  it('returns the candles of the KST date range, start inclusive, end + 1 day exclusive', async () => {
    await write(
      'BTC_KRW',
      '1H',
      2024,
      labelled([
        ['2024-03-01T14:00:00Z', 1], // 2024-03-01 23:00 KST
        ['2024-03-01T15:00:00Z', 2], // 2024-03-02 00:00 KST: first in range
        ['2024-03-03T14:00:00Z', 3], // 2024-03-03 23:00 KST: last in range
        ['2024-03-03T15:00:00Z', 4], // 2024-03-04 00:00 KST
      ]),
    );
    const candles = await loadCandles(
      dataRoot,
      'btc_krw',
      '1h',
      kstDateRange('2024-03-02', '2024-03-03'),
    );
    expect(closesByTime(candles)).toEqual([
      ['2024-03-01T15:00:00.000Z', 2],
      ['2024-03-03T14:00:00.000Z', 3],
    ]);
    expect(Array.from(candles.volume)).toEqual([4, 6]);
  });

  describe('at a year boundary', () => {
    // 2023-12-31T15:30Z is 2024-01-01 00:30 KST: 2023 on the UTC calendar, 2024 on the KST one.
    const boundaryCandles = labelled([
      ['2023-12-31T14:30:00Z', 1], // 2023-12-31 23:30 KST
      ['2023-12-31T15:30:00Z', 2], // 2024-01-01 00:30 KST
      ['2024-01-01T14:30:00Z', 3], // 2024-01-01 23:30 KST
    ]);

    it.each([
      ['KST year', { 2023: [0], 2024: [1, 2] }],
      ['UTC year', { 2023: [0, 1], 2024: [2] }],
    ])('finds every candle when the files were split by %s', async (_split, rowsByYear) => {
      for (const [year, rows] of Object.entries(rowsByYear)) {
        const part = labelled(
          rows.map((row) => [new Date(boundaryCandles.timestamp[row]).toISOString(), row + 1]),
        );
        await write('BTC_KRW', '1H', Number(year), part);
      }
      const newYearsDay = await loadCandles(
        dataRoot,
        'BTC_KRW',
        '1H',
        kstDateRange('2024-01-01', '2024-01-01'),
      );
      expect(closesByTime(newYearsDay)).toEqual([
        ['2023-12-31T15:30:00.000Z', 2],
        ['2024-01-01T14:30:00.000Z', 3],
      ]);
      const newYearsEve = await loadCandles(
        dataRoot,
        'BTC_KRW',
        '1H',
        kstDateRange('2023-12-31', '2023-12-31'),
      );
      expect(closesByTime(newYearsEve)).toEqual([['2023-12-31T14:30:00.000Z', 1]]);
    });
  });

  it('keeps the later year file’s row when two files hold the same timestamp', async () => {
    await write(
      'BTC_KRW',
      '1H',
      2023,
      labelled([
        ['2023-12-31T15:00:00Z', 1],
        ['2023-12-31T16:00:00Z', 1],
      ]),
    );
    await write(
      'BTC_KRW',
      '1H',
      2024,
      labelled([
        ['2023-12-31T16:00:00Z', 2],
        ['2023-12-31T17:00:00Z', 2],
      ]),
    );
    const candles = await loadCandles(
      dataRoot,
      'BTC_KRW',
      '1H',
      kstDateRange('2024-01-01', '2024-01-01'),
    );
    expect(closesByTime(candles)).toEqual([
      ['2023-12-31T15:00:00.000Z', 1],
      ['2023-12-31T16:00:00.000Z', 2],
      ['2023-12-31T17:00:00.000Z', 2],
    ]);
  });

  it('returns no candles, not an error, when there is no data in range', async () => {
    await write('BTC_KRW', '1D', 2024, labelled([['2024-06-01T00:00:00Z', 1]]));
    expect(
      (await loadCandles(dataRoot, 'BTC_KRW', '1D', kstDateRange('2024-01-01', '2024-01-31')))
        .length,
    ).toBe(0);
    expect(
      (await loadCandles(dataRoot, 'ETH_KRW', '1D', kstDateRange('2024-01-01', '2024-12-31')))
        .length,
    ).toBe(0);
    expect(
      (
        await loadCandles(
          path.join(dataRoot, 'missing'),
          'BTC_KRW',
          '1D',
          kstDateRange('2024-01-01', '2024-12-31'),
        )
      ).length,
    ).toBe(0);
  });

  it.each([
    ['../etc', '1D', 'symbol'],
    ['BTC_KRW/../..', '1D', 'symbol'],
    ['BTC_KRW', '../1D', 'timeframe'],
    ['BTC_KRW', '1D/../../x', 'timeframe'],
  ])('rejects symbol %j / timeframe %j as invalid input', async (symbol, timeframe, field) => {
    const error = await loadCandles(
      dataRoot,
      symbol,
      timeframe,
      kstDateRange('2024-01-01', '2024-01-02'),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems[0].field).toBe(field);
  });

  it('names a broken file relative to the data root', async () => {
    const file = candleFileLocation(dataRoot, 'BTC_KRW', '1D', 2024).absolutePath;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'not parquet at all');
    const error = await loadCandles(
      dataRoot,
      'BTC_KRW',
      '1D',
      kstDateRange('2024-01-01', '2024-01-02'),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataFileError);
    expect((error as DataFileError).file).toBe('BTC_KRW/1D/2024.parquet');
    expect((error as DataFileError).message).toMatch(
      /^BTC_KRW\/1D\/2024.parquet: not a readable Parquet file/,
    );
  });

  describe('a year file none of whose candles is of its year', () => {
    /** A 2024 file whose plain INT64 timestamps are 2024 instants in the given unit. */
    const writeEpochFile = (symbol: string, perMs: bigint, divide = false) => {
      const instants = [utc('2024-03-01T00:00:00Z'), utc('2024-03-01T01:00:00Z')];
      const file = candleFileLocation(dataRoot, symbol, '1H', 2024).absolutePath;
      mkdirSync(path.dirname(file), { recursive: true });
      const price = { type: 'DOUBLE', repetition_type: 'REQUIRED' } as const;
      const names = ['open', 'high', 'low', 'close', 'volume'];
      const buffer = parquetWriteBuffer({
        schema: [
          { name: 'root', num_children: 6 },
          { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED' },
          ...names.map((name) => ({ name, ...price })),
        ],
        columnData: [
          {
            name: 'timestamp',
            data: BigInt64Array.from(
              instants.map((ms) => (divide ? BigInt(ms) / perMs : BigInt(ms) * perMs)),
            ),
          },
          ...names.map((name) => ({ name, data: Float64Array.from([10, 11]) })),
        ],
      });
      writeFileSync(file, new Uint8Array(buffer));
    };
    const load = (symbol: string) =>
      loadCandles(dataRoot, symbol, '1H', kstDateRange('2024-03-01', '2024-03-01')).catch(
        (caught: unknown) => caught,
      );

    it('names the file and the unit when INT64 timestamps are nanoseconds, micros or seconds', async () => {
      writeEpochFile('NS_KRW', 1_000_000n);
      writeEpochFile('US_KRW', 1_000n);
      writeEpochFile('S_KRW', 1_000n, true);
      for (const [symbol, unit, fix] of [
        ['NS_KRW', 'nanoseconds', '1,000,000'],
        ['US_KRW', 'microseconds', '1,000'],
        ['S_KRW', 'seconds', 'multiply them by 1,000'],
      ]) {
        const error = await load(symbol);
        expect(error).toBeInstanceOf(DataFileError);
        expect((error as Error).message).toMatch(
          new RegExp(
            `^${symbol}/1H/2024.parquet: holds no candle of 2024: .*epoch ${unit}: .*${fix}`,
          ),
        );
      }
    });

    it('loads milliseconds, and says so when a file sits in another year’s folder', async () => {
      writeEpochFile('MS_KRW', 1n);
      expect(
        (await loadCandles(dataRoot, 'MS_KRW', '1H', kstDateRange('2024-03-01', '2024-03-01')))
          .length,
      ).toBe(2);
      await write('OLD_KRW', '1H', 2024, labelled([['2022-06-01T00:00:00Z', 1]]));
      const error = await loadCandles(
        dataRoot,
        'OLD_KRW',
        '1H',
        kstDateRange('2024-01-01', '2024-12-31'),
      ).catch((caught: unknown) => caught);
      expect((error as Error).message).toBe(
        'OLD_KRW/1H/2024.parquet: holds no candle of 2024: its timestamps run from 2022-06-01T00:00:00.000Z to 2022-06-01T00:00:00.000Z; is the file in the folder of its year?',
      );
    });

    it('accepts a file split by the other calendar (a day either side of the year)', async () => {
      // Only the first hours of 1 January 2025 KST, which is still 2024 in UTC.
      await write('EDGE_KRW', '1H', 2025, labelled([['2024-12-31T15:00:00Z', 1]]));
      const candles = await loadCandles(
        dataRoot,
        'EDGE_KRW',
        '1H',
        kstDateRange('2025-01-01', '2025-01-01'),
      );
      expect(candles.length).toBe(1);
    });
  });

  describe('cancellation', () => {
    beforeEach(async () => {
      const start = utc('2023-12-31T15:00:00Z');
      await write(
        'BTC_KRW',
        '1M',
        2024,
        generateCandles({ count: 1000, startMs: start, stepMs: MINUTE, seed: 1 }),
        100,
      );
    });
    const wholeYear = () => kstDateRange('2024-01-01', '2024-12-31');

    it('stops before reading when already cancelled', async () => {
      await expect(
        loadCandles(dataRoot, 'BTC_KRW', '1M', wholeYear(), { isCancelled: () => true }),
      ).rejects.toBeInstanceOf(CancelledError);
    });

    it('stops between row groups once cancelled', async () => {
      let checks = 0;
      const isCancelled = () => ++checks > 3;
      await expect(
        loadCandles(dataRoot, 'BTC_KRW', '1M', wholeYear(), { isCancelled }),
      ).rejects.toBeInstanceOf(CancelledError);
      expect(checks).toBe(4);
    });

    it('runs to the end when never cancelled', async () => {
      const candles = await loadCandles(dataRoot, 'BTC_KRW', '1M', wholeYear(), {
        isCancelled: () => false,
      });
      expect(candles.length).toBe(1000);
    });
  });

  describe('with a cache', () => {
    it('serves a parsed file again but never after the file changed', async () => {
      const cache = new CandleFileCache({ maxBytes: 1024 * 1024 });
      const range = kstDateRange('2024-01-01', '2024-12-31');
      await write('BTC_KRW', '1D', 2024, labelled([['2024-05-01T00:00:00Z', 1]]));
      expect(closesByTime(await loadCandles(dataRoot, 'BTC_KRW', '1D', range, { cache }))).toEqual([
        ['2024-05-01T00:00:00.000Z', 1],
      ]);
      expect(cache.entryCount).toBe(1);

      // Same size and the same second: only the inode (atomic rename) tells the versions apart.
      await write('BTC_KRW', '1D', 2024, labelled([['2024-05-01T00:00:00Z', 2]]));
      expect(closesByTime(await loadCandles(dataRoot, 'BTC_KRW', '1D', range, { cache }))).toEqual([
        ['2024-05-01T00:00:00.000Z', 2],
      ]);
    });

    it('hands out copies, so a caller cannot corrupt the cache', async () => {
      const cache = new CandleFileCache();
      const range = kstDateRange('2024-01-01', '2024-12-31');
      await write('BTC_KRW', '1D', 2024, labelled([['2024-05-01T00:00:00Z', 1]]));
      const first = await loadCandles(dataRoot, 'BTC_KRW', '1D', range, { cache });
      first.close[0] = 999;
      const second = await loadCandles(dataRoot, 'BTC_KRW', '1D', range, { cache });
      expect(second.close[0]).toBe(1);
    });
  });

  it('loads synthetic candles across many row groups exactly', async () => {
    const start = utc('2023-12-31T15:00:00Z');
    const written = generateCandles({ count: 5_000, startMs: start, stepMs: MINUTE, seed: 7 });
    await write('BTC_KRW', '1M', 2024, written, 700);
    const loaded = await loadCandles(
      dataRoot,
      'BTC_KRW',
      '1M',
      kstDateRange('2024-01-01', '2024-12-31'),
    );
    for (const column of ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const) {
      // Buffer comparison: bit-for-bit equal, and fast where toEqual walks element by element.
      expect(Buffer.from(loaded[column].buffer).equals(Buffer.from(written[column].buffer))).toBe(
        true,
      );
    }
  });
});
