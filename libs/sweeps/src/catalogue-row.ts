import type { SweepRow } from '@app/catalogue';
import type { SweepRecord } from '@app/task-state';
import type { SweepRequest } from './sweep-request';

/**
 * The catalogue row of a sweep from its hash: what GET /api/sweeps lists while it is queued
 * or running, and after it failed or was cancelled (no folder: SPEC §13 keeps no files of a
 * cancelled sweep). A completed sweep's row comes from its manifest instead.
 */
export function sweepCatalogueRow(state: SweepRecord): SweepRow {
  const request = JSON.parse(state.request) as SweepRequest;
  return {
    sweep_id: state.sweep_id,
    status: state.status,
    strategy: request.strategy,
    symbols: request.symbols,
    timeframe: request.timeframe,
    start_date: request.start_date,
    end_date: request.end_date,
    combinations: state.combinations,
    done: state.done,
    objective: request.objective,
    created_at: state.created_at,
    finished_at: state.finished_at,
    best: null,
    error: state.error,
    manifest_fingerprint: null,
  };
}
