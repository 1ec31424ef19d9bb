import { FailureCode } from '@app/common';

/** Lifecycle of an asynchronous backtest (SPEC §6): queued -> running -> completed | failed | cancelled. */
export const TASK_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
export const ACTIVE_STATUSES: readonly TaskStatus[] = ['queued', 'running'];

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** What a task was asked to run; also the BullMQ job's data. */
export interface TaskRequest {
  strategy: string;
  params: Record<string, unknown>;
  symbols: string[];
  start_date: string;
  end_date: string;
  timeframe: string;
}

/** The task:{task_id} hash, decoded (SPEC §6 field names). */
export interface TaskRecord extends TaskRequest {
  task_id: string;
  status: TaskStatus;
  /** 0..1, rising as symbols finish. */
  progress: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}

/** Published on every change, for progress streams and for workers watching for cancels. */
export interface TaskEvent {
  task_id: string;
  status: TaskStatus;
  progress: number;
  error: string | null;
  /** Why a task failed, on its `failed` event only. */
  error_code?: FailureCode;
}

export function taskKey(taskId: string): string {
  return `task:${taskId}`;
}

/** Redis pub/sub channel of task events; one per queue so deployments sharing a Redis stay apart. */
export function taskEventsChannel(queueName: string): string {
  return `${queueName}:task-events`;
}

/** Sorted set of queued/running task ids (score: last change, ms), for the reconciler. */
export function activeTasksKey(queueName: string): string {
  return `${queueName}:active-tasks`;
}
