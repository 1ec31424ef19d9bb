import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInputError } from '@app/common';
import { kstDateRange } from './kst-time';
import { candleFileLocation, resolveInsideDataRoot, yearFilesForRange } from './layout';

describe('resolveInsideDataRoot', () => {
  it('resolves paths below the root', () => {
    expect(resolveInsideDataRoot('/data', 'BTC_KRW/1D/2024.parquet')).toBe(
      '/data/BTC_KRW/1D/2024.parquet',
    );
  });

  it.each(['../secret', 'BTC_KRW/../../etc/passwd', '/etc/passwd', '..'])(
    'refuses %j',
    (relative) => {
      expect(() => resolveInsideDataRoot('/data', relative)).toThrow(InvalidInputError);
    },
  );
});

describe('candleFileLocation', () => {
  it('builds the canonical layout path from lower-case input', () => {
    expect(candleFileLocation('/data', 'btc_krw', '1d', 2024)).toEqual({
      symbol: 'BTC_KRW',
      timeframe: '1D',
      year: 2024,
      absolutePath: '/data/BTC_KRW/1D/2024.parquet',
      relativePath: 'BTC_KRW/1D/2024.parquet',
    });
  });

  it('validates before building a path', () => {
    expect(() => candleFileLocation('/data', '../x_y', '1D', 2024)).toThrow(/symbol/);
    expect(() => candleFileLocation('/data', 'BTC_KRW', '../1D', 2024)).toThrow(/timeframe/);
  });
});

describe('yearFilesForRange', () => {
  let dataRoot: string;

  beforeEach(() => {
    dataRoot = mkdtempSync(path.join(tmpdir(), 'layout-'));
    const directory = path.join(dataRoot, 'BTC_KRW', '1H');
    mkdirSync(directory, { recursive: true });
    for (const name of [
      '2022.parquet',
      '2023.parquet',
      '2024.parquet',
      '2025.parquet',
      'notes.txt',
      '.2024.parquet.tmp',
    ]) {
      writeFileSync(path.join(directory, name), '');
    }
  });

  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  const years = async (startDate: string, endDate: string) =>
    (await yearFilesForRange(dataRoot, 'btc_krw', '1h', kstDateRange(startDate, endDate))).map(
      ({ year }) => year,
    );

  it('reads the previous year too on 1 January KST, whose first hours are the old UTC year', async () => {
    expect(await years('2024-01-01', '2024-01-01')).toEqual([2023, 2024]);
  });

  it('reads only the one year mid-year', async () => {
    expect(await years('2024-03-01', '2024-06-30')).toEqual([2024]);
  });

  it('covers every year of a long range, and nothing that is not a year file', async () => {
    expect(await years('2022-06-01', '2025-12-31')).toEqual([2022, 2023, 2024, 2025]);
  });

  it('ends at the KST year of the last instant: 31 December reads no next-year file', async () => {
    expect(await years('2024-12-31', '2024-12-31')).toEqual([2024]);
  });

  it('is empty, not an error, when the symbol has no data', async () => {
    expect(
      await yearFilesForRange(dataRoot, 'ETH_KRW', '1H', kstDateRange('2024-01-01', '2024-12-31')),
    ).toEqual([]);
  });
});
