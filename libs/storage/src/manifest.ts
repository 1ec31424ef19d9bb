import { FailureCode, RunRequest, TerminalStatus } from '@app/common';

export const RESULT_FILE_NAME = 'result.json';
export const MANIFEST_FILE_NAME = 'manifest.json';

export interface ResultFileEntry {
  name: string;
  /** Relative to RESULTS_DIR, e.g. "{id}/result.json". */
  path: string;
  size_bytes: number;
  /** md5 of the file's bytes, hex. */
  checksum: string;
}

/** SPEC §12's portfolio figures by name (null when undefined): what the catalogue indexes. */
export type PortfolioFigures = Readonly<Record<string, number | null>>;

export interface RunSummary {
  total_signals: number;
  symbols_processed: number;
  symbols_failed: number;
  average_execution_time_per_symbol_ms: number;
  /**
   * Mean trade return over every trade of the run, in percent (null without trades).
   * Not in SPEC §7's list: kept here so /history can filter by return without opening results.
   */
  avg_return: number | null;
  /**
   * Not in §7 either: the result document's execution_time (s) and its portfolio (§12), so
   * the catalogue and history need no result.json. Null for runs without a result, and
   * absent in manifests written before part two.
   */
  execution_time: number | null;
  portfolio: PortfolioFigures | null;
}

/** manifest.json: SPEC §7, one per run folder, written last so its presence means "finished". */
export interface Manifest extends RunRequest {
  task_id: string;
  /** How the run ended: the folder of a task still queued or running has no manifest. */
  status: TerminalStatus;
  result_files: ResultFileEntry[];
  metadata: {
    created_at: string | null;
    started_at: string | null;
    finished_at: string;
    duration_ms: number | null;
    execution_host: string;
    environment: string;
    worker_id: string | null;
  };
  summary: RunSummary;
  /**
   * SPEC §7's error; `code` (not in §7) is the failure code a synchronous run is answered
   * with (invalid_input, no_data, data_file, timeout, internal), when the run failed.
   */
  error: { occurred: boolean; message: string | null; code?: FailureCode };
}

export const EMPTY_SUMMARY: RunSummary = {
  total_signals: 0,
  symbols_processed: 0,
  symbols_failed: 0,
  average_execution_time_per_symbol_ms: 0,
  avg_return: null,
  execution_time: null,
  portfolio: null,
};
