import { ExecutionSettings, PortfolioStats, ResolvedParams, SymbolResult } from '@app/strategies';

/**
 * Version of the result document's shape: 1.2.0 adds SPEC §12 (execution, stats, portfolio,
 * the fills of each signal) and §10.6 (is_active). Readers of older documents take a missing
 * is_active as true and missing stats/portfolio as not computed.
 */
export const RESULT_VERSION = '1.2.0';

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
  /** How trades were filled (SPEC §12), every field present. */
  execution: ExecutionSettings;
  start_date: string;
  end_date: string;
  timeframe: string;
  total_signals: number;
  /** Seconds. */
  execution_time: number;
  symbols: SymbolResult[];
  symbols_failed: FailedSymbol[];
  /** SPEC §12: over the active symbols with equal capital each. */
  portfolio: PortfolioStats;
  metadata: {
    execution_date: string;
    environment: string;
    execution_host: string;
    worker_id?: string;
  };
}
