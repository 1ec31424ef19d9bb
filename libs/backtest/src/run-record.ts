import {
  EMPTY_SUMMARY,
  Manifest,
  ManifestFields,
  ResultStore,
  RunRequestRecord,
  RunSummary,
} from '@app/storage';
import { BacktestOutcome } from './run-backtest';

/** When and where a run happened, for its manifest. */
export interface RunTiming {
  created_at: string | null;
  started_at: string | null;
  finished_at: string;
  execution_host: string;
  environment: string;
  worker_id: string | null;
}

/** The manifest summary of a completed run; avg_return is over all trades of all symbols. */
export function summarizeOutcome(outcome: BacktestOutcome): RunSummary {
  const { result, symbolMs } = outcome;
  let returnSum = 0;
  let trades = 0;
  for (const symbol of result.symbols) {
    returnSum += symbol.avg_return * symbol.samples;
    trades += symbol.samples;
  }
  const totalMs = symbolMs.reduce((sum, ms) => sum + ms, 0);
  return {
    total_signals: result.total_signals,
    symbols_processed: result.symbols.length,
    symbols_failed: result.symbols_failed.length,
    average_execution_time_per_symbol_ms:
      symbolMs.length > 0 ? round3(totalMs / symbolMs.length) : 0,
    avg_return: trades > 0 ? returnSum / trades : null,
  };
}

function manifestFields(
  request: RunRequestRecord,
  timing: RunTiming,
  summary: RunSummary,
  errorMessage: string | null,
): ManifestFields {
  const started = timing.started_at ? Date.parse(timing.started_at) : NaN;
  return {
    strategy: request.strategy,
    params: request.params,
    symbols: request.symbols,
    start_date: request.start_date,
    end_date: request.end_date,
    timeframe: request.timeframe,
    metadata: {
      ...timing,
      duration_ms: Number.isFinite(started) ? Date.parse(timing.finished_at) - started : null,
    },
    summary,
    error: { occurred: errorMessage !== null, message: errorMessage },
  };
}

/** Writes a completed run's folder: result.json, then its manifest. */
export function recordCompletedRun(
  store: ResultStore,
  request: RunRequestRecord,
  outcome: BacktestOutcome,
  timing: RunTiming,
): Promise<Manifest> {
  return store.saveCompleted(
    outcome.result.run_id,
    JSON.stringify(outcome.result),
    manifestFields(request, timing, summarizeOutcome(outcome), null),
  );
}

/** Writes the manifest of a run that failed or was cancelled; no result file. */
export function recordUnfinishedRun(
  store: ResultStore,
  runId: string,
  status: 'failed' | 'cancelled',
  request: RunRequestRecord,
  timing: RunTiming,
  message: string,
): Promise<Manifest> {
  return store.saveUnfinished(
    runId,
    status,
    manifestFields(request, timing, EMPTY_SUMMARY, message),
  );
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
