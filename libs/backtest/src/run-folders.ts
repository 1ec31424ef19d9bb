import {
  FailureCode,
  ResultsDirError,
  RunRequest,
  runRequestOf,
  TerminalStatus,
} from '@app/common';
import type { RunIndex } from '@app/catalogue';
import { EMPTY_SUMMARY, Manifest, ManifestFields, ResultStore, RunSummary } from '@app/storage';
import { CHART_FILE_NAME } from './chart-data';
import { BacktestOutcome } from './run-backtest';

/** Where runs happen, as results and manifests record it. */
export interface RunOrigin {
  executionHost: string;
  environment: string;
  /** The worker process (null for the API's own writes and the CLI). */
  workerId: string | null;
}

/** A worker process's id: host and pid, unique among live workers. The one formula. */
export function workerIdOf(executionHost: string, pid = process.pid): string {
  return `${executionHost}:${pid}`;
}

/** When a run was submitted and started; it finishes when its folder is written. */
export interface RunTimes {
  created_at: string | null;
  started_at: string | null;
  /** When the task's hash says it finished (a cancel), instead of the writing time. */
  finished_at?: string | null;
}

/**
 * The one writer of run folders (SPEC §7), for the worker's threads, its finisher, the API's
 * cancel path and the CLI: the result (if any) and the manifest, with the manifest's timing
 * and summary assembled here and nowhere else. Once a folder is complete its catalogue row
 * follows (SPEC §11: the folder, then the row), through `index`; a row that cannot be written
 * never fails the write (RunIndex), the next rebuild heals it.
 */
export class RunFolders {
  constructor(
    readonly store: ResultStore,
    private readonly origin: RunOrigin,
    /** None: a writer without a catalogue (unit tests of the folder format). */
    private readonly index?: RunIndex,
  ) {}

  /** A completed run: result.json, then its manifest (with the result's md5). */
  completed(request: RunRequest, outcome: BacktestOutcome, times: RunTimes): Promise<Manifest> {
    return this.writing(
      this.store.saveCompleted(
        outcome.result.run_id,
        JSON.stringify(outcome.result),
        this.manifestFields(request, times, summarizeOutcome(outcome), null),
        // SPEC §14: the reports' chart data, listed (md5, size) in the manifest.
        [{ name: CHART_FILE_NAME, content: JSON.stringify(outcome.chart) }],
      ),
    );
  }

  /**
   * A run that failed (with its failure code) or was cancelled: the manifest alone (a stray
   * result.json goes).
   */
  unfinished(
    runId: string,
    status: Exclude<TerminalStatus, 'completed'>,
    request: RunRequest,
    times: RunTimes,
    message: string,
    code?: FailureCode,
  ): Promise<Manifest> {
    const fields = this.manifestFields(request, times, EMPTY_SUMMARY, message);
    if (code !== undefined) fields.error.code = code;
    return this.writing(this.store.saveUnfinished(runId, status, fields));
  }

  /**
   * A file-system failure of the write is RESULTS_DIR's fault, said as such (ResultsDirError).
   * The row is written only after the whole folder is (its manifest last).
   */
  private async writing(write: Promise<Manifest>): Promise<Manifest> {
    let manifest: Manifest;
    try {
      manifest = await write;
    } catch (error) {
      if (typeof (error as NodeJS.ErrnoException).code !== 'string') throw error;
      throw new ResultsDirError(this.store.resultsDir, error);
    }
    await this.index?.runFolderWritten(manifest.task_id);
    return manifest;
  }

  private manifestFields(
    request: RunRequest,
    times: RunTimes,
    summary: RunSummary,
    errorMessage: string | null,
  ): ManifestFields {
    const finishedAt = times.finished_at ? new Date(times.finished_at) : new Date();
    const startedMs = times.started_at ? Date.parse(times.started_at) : NaN;
    return {
      ...runRequestOf(request),
      metadata: {
        created_at: times.created_at,
        started_at: times.started_at,
        finished_at: finishedAt.toISOString(),
        duration_ms: Number.isFinite(startedMs) ? finishedAt.getTime() - startedMs : null,
        execution_host: this.origin.executionHost,
        environment: this.origin.environment,
        worker_id: this.origin.workerId,
      },
      summary,
      error: { occurred: errorMessage !== null, message: errorMessage },
    };
  }
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
    execution_time: result.execution_time,
    portfolio: { ...result.portfolio },
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
