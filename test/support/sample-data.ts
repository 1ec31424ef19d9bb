import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './app-process';

/** The 5-minute series of the bundled sample data the API tests run on: January 2018. */
export const SAMPLE_SYMBOLS = ['ETH_BTC', 'LTC_BTC', 'ADA_BTC'] as const;

/** The bundled sample data (`data/`, committed): the DATA_ROOT of tests that only read it. */
export function sampleDataRoot(): Promise<string> {
  return Promise.resolve(join(REPO_ROOT, 'data'));
}

/**
 * A copy of the bundled sample data in `into`, for tests that write candles (uploads,
 * imports): they must never add files to the checkout's data/. Run results are left out.
 */
export function copySampleData(into: string): string {
  const source = join(REPO_ROOT, 'data');
  cpSync(source, into, {
    recursive: true,
    filter: (path) => path !== join(source, 'tasks'),
  });
  return into;
}
