import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Candles, InvalidInputError } from '@app/common';
import { listInventory } from './inventory';
import { writeCandleFile } from './write-candles';

function candlesAt(isoTimes: string[]): Candles {
  const values = Float64Array.from(isoTimes, (_, i) => i + 1);
  return {
    length: isoTimes.length,
    timestamp: Float64Array.from(isoTimes, (iso) => Date.parse(iso)),
    open: values,
    high: values,
    low: values,
    close: values,
    volume: values,
  };
}

describe('listInventory', () => {
  let dataRoot: string;
  const file = (...parts: string[]) => path.join(dataRoot, ...parts);

  beforeEach(async () => {
    dataRoot = mkdtempSync(path.join(tmpdir(), 'inventory-'));
    await writeCandleFile(
      file('ETH_KRW', '1D', '2024.parquet'),
      candlesAt(['2024-03-01T00:00:00Z', '2024-01-01T00:00:00Z']),
    );
    await writeCandleFile(
      file('BTC_KRW', '1H', '2024.parquet'),
      candlesAt(['2024-01-01T00:00:00Z']),
    );
    await writeCandleFile(
      file('BTC_KRW', '1H', '2023.parquet'),
      candlesAt(['2023-01-01T00:00:00.250Z', '2023-12-31T14:00:00Z']),
    );
    await writeCandleFile(file('BTC_KRW', '15M', '2024.parquet'), candlesAt([]));
    await writeCandleFile(
      file('BTC_KRW', '1M', '2024.parquet'),
      candlesAt(['2024-05-05T05:05:00Z']),
    );
    // Not the layout: results folder, lower-case names, stray files, temp files.
    mkdirSync(file('tasks', 'abc'), { recursive: true });
    writeFileSync(file('tasks', 'abc', 'result.json'), '{}');
    await writeCandleFile(
      file('btc_krw', '1H', '2024.parquet'),
      candlesAt(['2024-01-01T00:00:00Z']),
    );
    await writeCandleFile(
      file('BTC_KRW', '1h', '2024.parquet'),
      candlesAt(['2024-01-01T00:00:00Z']),
    );
    writeFileSync(file('BTC_KRW', '1H', 'README.md'), 'notes');
    writeFileSync(file('BTC_KRW', '1H', '.2025.parquet.123.tmp'), 'half written');
    writeFileSync(file('BTC_KRW', 'notes.txt'), 'notes');
  });
  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  it('lists the layout’s files, newest change first, ties by path (SPEC §10.5)', async () => {
    const paths = [
      'BTC_KRW/1M/2024.parquet',
      'BTC_KRW/15M/2024.parquet',
      'BTC_KRW/1H/2023.parquet',
      'BTC_KRW/1H/2024.parquet',
      'ETH_KRW/1D/2024.parquet',
    ];
    // Two files changed at the same instant sort by path; the others by time, newest first.
    const at = (seconds: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
    utimesSync(path.join(dataRoot, paths[0]), at(10), at(10));
    utimesSync(path.join(dataRoot, paths[1]), at(30), at(30));
    utimesSync(path.join(dataRoot, paths[2]), at(20), at(20));
    utimesSync(path.join(dataRoot, paths[3]), at(20), at(20));
    utimesSync(path.join(dataRoot, paths[4]), at(40), at(40));
    const entries = await listInventory(dataRoot);
    expect(entries.map((entry) => entry.relative_path)).toEqual([
      paths[4],
      paths[1],
      paths[2],
      paths[3],
      paths[0],
    ]);
    expect(entries[2]).toEqual({
      symbol: 'BTC_KRW',
      timeframe: '1H',
      year: 2023,
      rows: 2,
      first_timestamp: '2023-01-01T00:00:00.250Z',
      last_timestamp: '2023-12-31T14:00:00.000Z',
      size_bytes: statSync(file('BTC_KRW', '1H', '2023.parquet')).size,
      modified_at: '2026-01-01T00:00:20.000Z',
      relative_path: 'BTC_KRW/1H/2023.parquet',
    });
    expect(entries[0]).toMatchObject({
      rows: 2,
      first_timestamp: '2024-01-01T00:00:00.000Z',
      last_timestamp: '2024-03-01T00:00:00.000Z',
    });
  });

  it('reports an empty file with no first/last time', async () => {
    const [entry] = await listInventory(dataRoot, { timeframe: '15m' });
    expect(entry).toMatchObject({
      relative_path: 'BTC_KRW/15M/2024.parquet',
      rows: 0,
      first_timestamp: null,
      last_timestamp: null,
    });
  });

  it('filters by symbol, timeframe and year', async () => {
    const paths = async (filter: Parameters<typeof listInventory>[1]) =>
      (await listInventory(dataRoot, filter)).map((entry) => entry.relative_path).sort();
    expect(await paths({ symbol: 'btc_krw', timeframe: '1h' })).toEqual([
      'BTC_KRW/1H/2023.parquet',
      'BTC_KRW/1H/2024.parquet',
    ]);
    expect(await paths({ year: 2023 })).toEqual(['BTC_KRW/1H/2023.parquet']);
    expect(await paths({ symbol: 'XRP_KRW' })).toEqual([]);
  });

  it('rejects an invalid filter', async () => {
    await expect(listInventory(dataRoot, { symbol: '../etc' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(listInventory(dataRoot, { timeframe: '2M' })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(listInventory(dataRoot, { year: 20.5 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('lists a broken file with its error instead of failing', async () => {
    writeFileSync(file('ETH_KRW', '1D', '2023.parquet'), 'not parquet');
    const entries = await listInventory(dataRoot, { symbol: 'ETH_KRW' });
    expect(entries).toHaveLength(2);
    expect(entries[0]).toEqual({
      symbol: 'ETH_KRW',
      timeframe: '1D',
      year: 2023,
      rows: null,
      first_timestamp: null,
      last_timestamp: null,
      size_bytes: 11,
      relative_path: 'ETH_KRW/1D/2023.parquet',
      modified_at: expect.stringMatching(/Z$/),
      error: expect.stringMatching(/^not a readable Parquet file/),
    });
    expect(entries[1]).toMatchObject({ year: 2024, rows: 2 });
    expect(entries[1].error).toBeUndefined();
  });

  it('flags a file none of whose candles is of its year', async () => {
    mkdirSync(file('OLD_KRW', '1D'), { recursive: true });
    await writeCandleFile(
      file('OLD_KRW', '1D', '2024.parquet'),
      candlesAt(['2021-05-01T00:00:00Z']),
    );
    const [entry] = await listInventory(dataRoot, { symbol: 'OLD_KRW' });
    expect(entry).toMatchObject({ year: 2024, rows: null });
    expect(entry.error).toMatch(/^holds no candle of 2024: .*2021-05-01/);
  });

  it('is empty when the data root does not exist', async () => {
    expect(await listInventory(path.join(dataRoot, 'nothing-here'))).toEqual([]);
  });
});
