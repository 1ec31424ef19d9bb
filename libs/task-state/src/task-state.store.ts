import type Redis from 'ioredis';
import { FAILURE_CODES, FailureCode, RunRequest } from '@app/common';
import { defineLuaCommands } from './lua-scripts';
import { redisKeys } from './redis-keys';
import { TaskEvent, TaskRecord, TaskStatus, TASK_STATUSES } from './task';

/** The scripts every store's connection needs (see ./lua for their KEYS, ARGV and returns). */
const TASK_SCRIPTS = ['createTask-2.lua', 'transitionTask-2.lua', 'updateProgress-1.lua'];

export type TransitionResult =
  | { ok: true; previous: TaskStatus }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'conflict'; current: TaskStatus };

type ScriptedRedis = Redis & {
  createTask(key: string, active: string, ...args: string[]): Promise<number>;
  transitionTask(key: string, active: string, ...args: string[]): Promise<[string, string]>;
  updateProgress(key: string, ...args: string[]): Promise<number>;
};

export interface TaskStateOptions {
  queueName: string;
  /** TASK_TTL_S: the hash expires this long after its last update. */
  ttlS: number;
  now?: () => Date;
}

/** The task:{task_id} hashes of SPEC §6: creation, guarded transitions, progress, reads. */
export class TaskStateStore {
  private readonly redis: ScriptedRedis;
  private readonly channel: string;
  private readonly activeKey: string;
  private readonly ttl: string;
  private readonly now: () => Date;

  constructor(redis: Redis, options: TaskStateOptions) {
    defineLuaCommands(redis, TASK_SCRIPTS);
    this.redis = redis as ScriptedRedis;
    this.channel = redisKeys.taskEvents(options.queueName);
    this.activeKey = redisKeys.activeTasks(options.queueName);
    this.ttl = String(options.ttlS);
    this.now = options.now ?? (() => new Date());
  }

  get eventsChannel(): string {
    return this.channel;
  }

  /** Records a new task as queued. Returns false if the id already exists. */
  async create(taskId: string, request: RunRequest, createdAt = this.now()): Promise<boolean> {
    return this.createWith(taskId, request, 'queued', createdAt.toISOString(), null);
  }

  private async createWith(
    taskId: string,
    request: RunRequest,
    status: TaskStatus,
    createdAt: string,
    startedAt: string | null,
  ): Promise<boolean> {
    const fields: Record<string, string> = {
      task_id: taskId,
      status,
      progress: '0',
      strategy: request.strategy,
      params: JSON.stringify(request.params),
      execution: JSON.stringify(request.execution ?? {}),
      symbols: JSON.stringify(request.symbols),
      start_date: request.start_date,
      end_date: request.end_date,
      timeframe: request.timeframe,
      created_at: createdAt,
      started_at: startedAt ?? '',
      finished_at: '',
      error: '',
    };
    const created = await this.redis.createTask(
      redisKeys.task(taskId),
      this.activeKey,
      this.channel,
      this.ttl,
      String(this.now().getTime()),
      ...Object.entries(fields).flat(),
    );
    return created === 1;
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const hash = await this.redis.hgetall(redisKeys.task(taskId));
    return decodeTask(hash);
  }

  /**
   * Where a task stands (status, progress, error) without its request: what a status poll
   * shows, read with one HMGET of four fields rather than the whole hash and its JSON.
   */
  async getState(taskId: string): Promise<TaskEvent | undefined> {
    const [id, status, progress, error] = await this.redis.hmget(
      redisKeys.task(taskId),
      'task_id',
      'status',
      'progress',
      'error',
    );
    if (!id || !TASK_STATUSES.includes(status as TaskStatus)) return undefined;
    return {
      task_id: id,
      status: status as TaskStatus,
      progress: Number(progress ?? 0),
      error: error || null,
    };
  }

  /**
   * A worker starts the task: queued -> running, or running -> running when a job is picked
   * up again after its worker died. A hash that expired while the job waited is rebuilt from
   * the job's data, so a long queue never loses a task's state.
   */
  async markRunning(
    taskId: string,
    request: RunRequest,
    createdAt: string,
  ): Promise<TransitionResult> {
    const startedAt = this.now().toISOString();
    const result = await this.transition(taskId, ['queued', 'running'], 'running', {
      started_at: startedAt,
      finished_at: '',
      error: '',
    });
    if (result.ok || result.reason !== 'missing') return result;
    const created = await this.createWith(taskId, request, 'running', createdAt, startedAt);
    return created
      ? { ok: true, previous: 'queued' }
      : this.markRunning(taskId, request, createdAt);
  }

  /** Raises progress (0..1) of a running task; lower or equal values are ignored. */
  async reportProgress(taskId: string, progress: number): Promise<boolean> {
    const clamped = Math.min(1, Math.max(0, progress));
    const changed = await this.redis.updateProgress(
      redisKeys.task(taskId),
      this.channel,
      this.ttl,
      String(clamped),
    );
    return changed === 1;
  }

  /**
   * running -> queued: the worker put the job back (an infrastructure fault, not the task's):
   * the task waits again and a client sees it waiting, not stuck "running".
   */
  async requeue(taskId: string): Promise<TransitionResult> {
    return this.transition(taskId, ['running'], 'queued', { started_at: '' });
  }

  async complete(taskId: string): Promise<TransitionResult> {
    return this.transition(taskId, ['running'], 'completed', {
      progress: '1',
      finished_at: this.now().toISOString(),
      error: '',
    });
  }

  /** queued|running -> failed; `code` travels with the published event (not the hash). */
  async fail(
    taskId: string,
    message: string,
    code: FailureCode = 'internal',
  ): Promise<TransitionResult> {
    return this.transition(
      taskId,
      ['queued', 'running'],
      'failed',
      { finished_at: this.now().toISOString(), error: message },
      code,
    );
  }

  async cancel(taskId: string, reason = 'Cancelled by request'): Promise<TransitionResult> {
    return this.transition(taskId, ['queued', 'running'], 'cancelled', {
      finished_at: this.now().toISOString(),
      error: reason,
    });
  }

  /** Queued and running task ids with the time of their last change (ms), oldest first. */
  async listActive(): Promise<Array<{ taskId: string; changedAtMs: number }>> {
    const flat = await this.redis.zrange(this.activeKey, 0, -1, 'WITHSCORES');
    const entries: Array<{ taskId: string; changedAtMs: number }> = [];
    for (let i = 0; i < flat.length; i += 2) {
      entries.push({ taskId: flat[i], changedAtMs: Number(flat[i + 1]) });
    }
    return entries;
  }

  /** Drops an id from the active index (its hash expired or its job is gone). */
  async forgetActive(taskId: string): Promise<void> {
    await this.redis.zrem(this.activeKey, taskId);
  }

  /** Renews the TTL of a task that is waiting a long time in the queue. */
  async touch(taskId: string): Promise<boolean> {
    return (await this.redis.expire(redisKeys.task(taskId), Number(this.ttl))) === 1;
  }

  private async transition(
    taskId: string,
    from: readonly TaskStatus[],
    to: TaskStatus,
    fields: Record<string, string>,
    errorCode: FailureCode | '' = '',
  ): Promise<TransitionResult> {
    const [outcome, current] = await this.redis.transitionTask(
      redisKeys.task(taskId),
      this.activeKey,
      this.channel,
      this.ttl,
      String(this.now().getTime()),
      to,
      from.join(' '),
      errorCode,
      ...Object.entries(fields).flat(),
    );
    if (outcome === 'ok') return { ok: true, previous: current as TaskStatus };
    if (outcome === 'missing') return { ok: false, reason: 'missing' };
    return { ok: false, reason: 'conflict', current: current as TaskStatus };
  }
}

/** Decodes a task hash; undefined when the hash does not exist (or is not one of ours). */
export function decodeTask(hash: Record<string, string>): TaskRecord | undefined {
  if (!hash.task_id || !TASK_STATUSES.includes(hash.status as TaskStatus)) return undefined;
  return {
    task_id: hash.task_id,
    status: hash.status as TaskStatus,
    progress: Number(hash.progress ?? 0),
    strategy: hash.strategy ?? '',
    params: parseJson(hash.params, {}),
    execution: parseJson(hash.execution, {}),
    symbols: parseJson(hash.symbols, []),
    start_date: hash.start_date ?? '',
    end_date: hash.end_date ?? '',
    timeframe: hash.timeframe ?? '',
    created_at: hash.created_at ?? '',
    started_at: hash.started_at || null,
    finished_at: hash.finished_at || null,
    error: hash.error || null,
  };
}

/** Decodes a message from the task events channel; undefined for anything malformed. */
export function decodeTaskEvent(message: string): TaskEvent | undefined {
  const event = parseJson<Partial<TaskEvent> | undefined>(message, undefined);
  if (
    !event ||
    typeof event.task_id !== 'string' ||
    !TASK_STATUSES.includes(event.status as TaskStatus)
  ) {
    return undefined;
  }
  return {
    task_id: event.task_id,
    status: event.status as TaskStatus,
    progress: typeof event.progress === 'number' ? event.progress : 0,
    error: typeof event.error === 'string' && event.error !== '' ? event.error : null,
    ...(FAILURE_CODES.includes(event.error_code as FailureCode) && {
      error_code: event.error_code,
    }),
  };
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
