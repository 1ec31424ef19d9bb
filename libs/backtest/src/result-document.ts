import { ResolvedParams, SymbolResult } from '@app/strategies';

/** Version of the result document's shape (SPEC §4). */
export const RESULT_VERSION = '1.1.0';

export interface FailedSymbol {
  symbol: string;
  reason: string;
}

/** What `POST /api/backtests/run` returns, `GET /api/backtests/{id}` reads and result.json stores. */
export interface ResultDocument {
  version: typeof RESULT_VERSION;
  run_id: string;
  strategy: string;
  params: ResolvedParams;
  start_date: string;
  end_date: string;
  timeframe: string;
  total_signals: number;
  /** Seconds. */
  execution_time: number;
  symbols: SymbolResult[];
  symbols_failed: FailedSymbol[];
  metadata: {
    execution_date: string;
    environment: string;
    execution_host: string;
    worker_id?: string;
  };
}
