import { FailureCode, RunRequest, TaskStatus } from '@app/common';

export {
  ACTIVE_STATUSES,
  isTerminal,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  type TaskStatus,
  type TerminalStatus,
} from '@app/common';

/** The task:{task_id} hash, decoded (SPEC §6 field names). */
export interface TaskRecord extends RunRequest {
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
