import { workerData } from 'node:worker_threads';
import { DataFileError, InvalidInputError } from '@app/common';
import { CandleFileCache } from '@app/data';
import { CandleWindowQuery, readCandleWindowJson } from './candle-window';

/** Set once for the pool (piscina `workerData`). */
export interface CandleWindowThreadSettings {
  dataRoot: string;
  /** This thread's share of CANDLE_CACHE_MB, in bytes. */
  candleCacheBytes: number;
}

/**
 * A reader thread of the API: decodes Parquet and writes the window's JSON here, so the event
 * loop that answers /health/live and every other request only sends bytes. Year files stay
 * parsed in the thread's cache: zooming around one chart reads its file once.
 */
const settings = workerData as CandleWindowThreadSettings;
const cache = new CandleFileCache({ maxBytes: settings.candleCacheBytes });

/**
 * How a read ended. Errors of the data come back as values: an Error crossing threads loses its
 * class, and with it the HTTP status the API's filter gives it.
 */
export type CandleWindowReply =
  | { kind: 'window'; json: string }
  | { kind: 'data_file'; file: string; problem: string }
  | { kind: 'invalid'; problems: InvalidInputError['problems'] };

export default async function readWindow(query: CandleWindowQuery): Promise<CandleWindowReply> {
  try {
    return { kind: 'window', json: await readCandleWindowJson(settings.dataRoot, query, cache) };
  } catch (error) {
    if (error instanceof DataFileError) {
      return { kind: 'data_file', file: error.file, problem: error.problem };
    }
    if (error instanceof InvalidInputError) return { kind: 'invalid', problems: error.problems };
    throw error;
  }
}
