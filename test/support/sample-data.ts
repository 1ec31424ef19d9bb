import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candleFileLocation, importCsv } from '@app/data';
import { REPO_ROOT } from './app-process';

/** The bundled sample data's CSV sources (SPEC §1: the service ships with it). */
const SAMPLE_CSV_DIR = '/work/shared/data/binance';

/** The 5-minute series the API tests run on: January 2018. */
export const SAMPLE_SYMBOLS = ['ETH_BTC', 'LTC_BTC', 'ADA_BTC'] as const;

/**
 * A DATA_ROOT holding the sample series: the repository's `data/` when it has them, else a
 * temporary copy imported from the CSVs the repository's data comes from.
 */
export async function sampleDataRoot(): Promise<string> {
  const repoData = join(REPO_ROOT, 'data');
  const hasAll = SAMPLE_SYMBOLS.every((symbol) =>
    existsSync(candleFileLocation(repoData, symbol, '5M', 2018).absolutePath),
  );
  if (hasAll) return repoData;
  const dataRoot = mkdtempSync(join(tmpdir(), 'coin-api-data-'));
  for (const symbol of SAMPLE_SYMBOLS) {
    await importCsv({
      csvPath: join(SAMPLE_CSV_DIR, `${symbol}-5m.csv`),
      symbol,
      timeframe: '5M',
      dataRoot,
    });
  }
  return dataRoot;
}
