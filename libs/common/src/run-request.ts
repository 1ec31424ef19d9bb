/**
 * The one contract of a backtest run, free of any framework: what a run is asked to do (the
 * validated request, the task:{id} hash, the BullMQ job, the manifest all carry these fields)
 * and the lifecycle of its task. Libraries narrow it (libs/backtest's BacktestRequest); nobody
 * redefines it.
 */

/** A parameter value as it is stored and sent: JSON's number, boolean or a choice's name. */
export type ParamValue = number | boolean | string;

/** What a run is asked to do, every parameter resolved (defaults filled in). */
export interface RunRequest {
  strategy: string;
  /** The strategy's parameters, in its table's order. */
  params: Readonly<Record<string, ParamValue>>;
  /**
   * How trades are filled (SPEC §12: fee, slippage, positions), defaults filled in. Records
   * written before §12 have none: readers take the defaults (no costs, overlapping trades).
   */
  execution: Readonly<Record<string, ParamValue>>;
  /** Upper case, de-duplicated, in the order given. */
  symbols: readonly string[];
  /** Upper-case timeframe, e.g. 5M. */
  timeframe: string;
  /** KST calendar dates YYYY-MM-DD, both inclusive. */
  start_date: string;
  end_date: string;
}

/** The request's fields, in the order the task hash, the job and the manifest list them. */
export const RUN_REQUEST_FIELDS = [
  'strategy',
  'params',
  'execution',
  'symbols',
  'timeframe',
  'start_date',
  'end_date',
] as const satisfies ReadonlyArray<keyof RunRequest>;

/** Exactly the request fields of a bigger record (a task, a manifest, a validated request). */
export function runRequestOf(source: RunRequest): RunRequest {
  const { strategy, params, execution, symbols, timeframe, start_date, end_date } = source;
  return { strategy, params, execution, symbols, timeframe, start_date, end_date };
}

/** Lifecycle of a run's task (SPEC §6): queued -> running -> completed | failed | cancelled. */
export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The states a task ends in; a run folder's manifest records one of them. */
export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export const ACTIVE_STATUSES: readonly TaskStatus[] = ['queued', 'running'];

export function isTerminal(status: TaskStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly TaskStatus[]).includes(status);
}
