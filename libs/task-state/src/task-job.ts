import type { DefaultJobOptions, Queue } from 'bullmq';
import { RUN_REQUEST_FIELDS, RunRequest, TryLaterError } from '@app/common';
import { TaskStateStore } from './task-state.store';

/**
 * The BullMQ side of a task: its job's name, data, options and result, and the one way to
 * submit a task (the API, the benchmarks and the tests all call `enqueueTask`). The job id is
 * the task id.
 */
export const TASK_JOB_NAME = 'backtest';

/**
 * Version of the job data's shape. The request in a job was validated where it was received
 * (the API, the CLI): a worker checks only this number before trusting it.
 */
export const TASK_JOB_SCHEMA = 2;

export interface TaskJobData {
  schema: typeof TASK_JOB_SCHEMA;
  task_id: string;
  /** When the task was submitted, ISO-8601 UTC. */
  created_at: string;
  request: RunRequest;
}

/** What a finished job returns (BullMQ keeps it on the completed job). */
export interface TaskJobResult {
  status: 'completed' | 'cancelled' | 'skipped';
  total_signals?: number;
}

/** Base delay of the exponential backoff between tries after a transient fault. */
export const RETRY_BACKOFF_MS = 1000;

/**
 * Job options: a bounded number of tries with exponential backoff (bad input fails at once,
 * with UnrecoverableError), and finished jobs trimmed so Redis stays bounded; results live in
 * RESULTS_DIR, not in Redis.
 */
export function taskJobOptions(attempts: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: 'exponential', delay: RETRY_BACKOFF_MS },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
  };
}

/** A job's data as a worker reads it. */
export type TaskJobContents =
  | { kind: 'validated'; taskId: string; createdAt: string; request: RunRequest }
  /**
   * Written by a version before schema 2 (the request's fields at the top level, not yet
   * validated by the edge): still run, after a full validation, so an upgrade loses no task.
   */
  | { kind: 'unvalidated'; taskId: string; createdAt: string | null; raw: Record<string, unknown> };

export function readTaskJob(jobId: string, data: unknown): TaskJobContents {
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (fields.schema === TASK_JOB_SCHEMA && typeof fields.created_at === 'string') {
    return {
      kind: 'validated',
      taskId: jobId,
      createdAt: fields.created_at,
      request: fields.request as RunRequest,
    };
  }
  const raw: Record<string, unknown> = {};
  for (const field of RUN_REQUEST_FIELDS) if (field in fields) raw[field] = fields[field];
  return {
    kind: 'unvalidated',
    taskId: jobId,
    createdAt: typeof fields.created_at === 'string' ? fields.created_at : null,
    raw,
  };
}

/** The answer to a submission (SPEC §5: 202 of run-async). */
export interface TaskAccepted {
  task_id: string;
  status: 'queued';
  created_at: string;
}

/** BullMQ's states of jobs that wait to be run: what the queue cap counts. */
const WAITING_JOB_STATES = ['waiting', 'prioritized', 'delayed'] as const;

/** When a client refused for a full queue is told to come back (Retry-After). */
export const QUEUE_FULL_RETRY_AFTER_S = 30;

/** Throws TryLaterError when `maxQueued` jobs already wait (MAX_QUEUED_TASKS). */
export async function checkQueueRoom(queue: Queue, maxQueued: number): Promise<void> {
  const counts = await queue.getJobCounts(...WAITING_JOB_STATES);
  const waiting = Object.values(counts).reduce((sum, count) => sum + count, 0);
  if (waiting >= maxQueued) {
    throw new TryLaterError(
      `The queue is full: ${waiting} tasks wait (MAX_QUEUED_TASKS is ${maxQueued}); retry in ${QUEUE_FULL_RETRY_AFTER_S} s`,
      QUEUE_FULL_RETRY_AFTER_S,
    );
  }
}

export interface EnqueueOptions {
  /** Refuse (TryLaterError) when this many jobs already wait: MAX_QUEUED_TASKS. */
  maxQueued?: number;
  createdAt?: Date;
}

/**
 * Submits a validated request: the hash first (status queued), then the job. A job whose hash
 * is missing would be run anyway (the worker rebuilds the hash from the job), but a hash
 * whose job could not be added would wait forever: it is marked failed, if Redis lets us.
 */
export async function enqueueTask(
  queue: Queue<TaskJobData>,
  tasks: TaskStateStore,
  taskId: string,
  request: RunRequest,
  options: EnqueueOptions = {},
): Promise<TaskAccepted> {
  const createdAt = options.createdAt ?? new Date();
  if (options.maxQueued !== undefined) await checkQueueRoom(queue, options.maxQueued);
  await tasks.create(taskId, request, createdAt);
  const data: TaskJobData = {
    schema: TASK_JOB_SCHEMA,
    task_id: taskId,
    created_at: createdAt.toISOString(),
    request,
  };
  try {
    await queue.add(TASK_JOB_NAME, data, { jobId: taskId });
  } catch (error) {
    await tasks.fail(taskId, 'The task could not be queued', 'internal').catch(() => undefined);
    throw error;
  }
  return { task_id: taskId, status: 'queued', created_at: data.created_at };
}
