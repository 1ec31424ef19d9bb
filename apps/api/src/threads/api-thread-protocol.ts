import type { ThreadError } from '@app/common';
import type { SymbolActivityOutcome } from '@app/backtest';
import type { CandleFileEntry, InventoryEntry, Timeframe } from '@app/data';
import type { CandleWindowQuery } from '../data/candle-window';

/** Set once for the pool (piscina `workerData`). */
export interface ApiThreadSettings {
  dataRoot: string;
  /** Each thread's share of CANDLE_CACHE_MB, in bytes: zooming around a chart reads its file once. */
  candleCacheBytes: number;
}

/**
 * What the API asks of its threads: work that parses or decodes files (Parquet footers and
 * columns, whole result documents), which must never run on the event loop that answers
 * requests. Plain data both ways (structured clone).
 */
export type ApiThreadTask =
  | { kind: 'describe-candle-files'; files: CandleFileEntry[] }
  /** A window of candles for a chart zooming in (SPEC §14), as its JSON text. */
  | { kind: 'read-candle-window'; query: CandleWindowQuery }
  | {
      kind: 'write-trades-csv';
      /** The run's result.json (its path from the manifest), and where to write the CSV. */
      resultPath: string;
      csvPath: string;
    }
  | {
      kind: 'install-upload';
      /** The staged upload, on the data root's file system. */
      stagedPath: string;
      dataRoot: string;
      symbol: string;
      timeframe: Timeframe;
      year: number;
      overwrite: boolean;
      /** The name the client gave the file, for messages. */
      fileName: string;
    }
  | {
      kind: 'set-symbol-active';
      resultsDir: string;
      dataRoot: string;
      runId: string;
      symbol: string;
      isActive: boolean;
    };

export interface InstalledUpload {
  relative_path: string;
  rows: number;
  format: 'parquet' | 'csv';
}

export interface ApiThreadResults {
  'describe-candle-files': InventoryEntry[];
  'read-candle-window': string;
  'install-upload': InstalledUpload;
  'write-trades-csv': { bytes: number };
  'set-symbol-active': SymbolActivityOutcome;
}

/** A thread's answer: its value, or its error as plain data (types survive the clone). */
export type ApiThreadReply<K extends ApiThreadTask['kind']> =
  { ok: true; value: ApiThreadResults[K] } | { ok: false; error: ThreadError };
