import { join } from 'node:path';
import { REPO_ROOT } from './app-process';

/** The 5-minute series of the bundled sample data the API tests run on: January 2018. */
export const SAMPLE_SYMBOLS = ['ETH_BTC', 'LTC_BTC', 'ADA_BTC'] as const;

/** The bundled sample data (`data/`, committed): the DATA_ROOT of tests that only read it. */
export function sampleDataRoot(): Promise<string> {
  return Promise.resolve(join(REPO_ROOT, 'data'));
}
