import type Redis from 'ioredis';
import { FAILURE_CODES, FailureCode } from '@app/common';
import {
  activeTasksKey,
  TaskEvent,
  taskEventsChannel,
  taskKey,
  TaskRecord,
  TaskRequest,
  TaskStatus,
  TASK_STATUSES,
} from './task';

/**
 * Every change is one Lua script: check the transition, write the fields, renew the TTL,
 * keep the active-task index and publish the event — atomically, so two processes racing
 * (a cancel and a completion, two workers after a stall) can never both win.
 */
const TRANSITION_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {'missing', ''} end
local allowed = false
for status in string.gmatch(ARGV[5], '%S+') do
  if status == current then allowed = true end
end
if not allowed then return {'conflict', current} end
local fields = {'status', ARGV[4]}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
local state = redis.call('HMGET', KEYS[1], 'task_id', 'progress', 'error')
if ARGV[4] == 'completed' or ARGV[4] == 'failed' or ARGV[4] == 'cancelled' then
  redis.call('ZREM', KEYS[2], state[1])
else
  redis.call('ZADD', KEYS[2], ARGV[3], state[1])
end
redis.call('PUBLISH', ARGV[1], cjson.encode({task_id = state[1], status = ARGV[4], progress = tonumber(state[2]), error = state[3], error_code = ARGV[6]}))
return {'ok', current}
`;

/** Progress only rises, and only while the task runs. */
const PROGRESS_SCRIPT = `
local state = redis.call('HMGET', KEYS[1], 'status', 'progress', 'task_id', 'error')
if state[1] ~= 'running' then return 0 end
local progress = tonumber(ARGV[3])
if progress <= tonumber(state[2]) then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('PUBLISH', ARGV[1], cjson.encode({task_id = state[3], status = 'running', progress = progress, error = state[4]}))
return 1
`;

/** Creates the hash unless it exists (ARGV: channel, ttl, nowMs, then field/value pairs). */
const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
local state = redis.call('HMGET', KEYS[1], 'task_id', 'status', 'progress', 'error')
redis.call('ZADD', KEYS[2], ARGV[3], state[1])
redis.call('PUBLISH', ARGV[1], cjson.encode({task_id = state[1], status = state[2], progress = tonumber(state[3]), error = state[4]}))
return 1
`;

export type TransitionResult =
  | { ok: true; previous: TaskStatus }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'conflict'; current: TaskStatus };

type ScriptedRedis = Redis & {
  taskTransition(key: string, active: string, ...args: string[]): Promise<[string, string]>;
  taskProgress(key: string, ...args: string[]): Promise<number>;
  taskCreate(key: string, active: string, ...args: string[]): Promise<number>;
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
    this.redis = redis as ScriptedRedis;
    if (!('taskTransition' in redis)) {
      redis.defineCommand('taskTransition', { numberOfKeys: 2, lua: TRANSITION_SCRIPT });
      redis.defineCommand('taskProgress', { numberOfKeys: 1, lua: PROGRESS_SCRIPT });
      redis.defineCommand('taskCreate', { numberOfKeys: 2, lua: CREATE_SCRIPT });
    }
    this.channel = taskEventsChannel(options.queueName);
    this.activeKey = activeTasksKey(options.queueName);
    this.ttl = String(options.ttlS);
    this.now = options.now ?? (() => new Date());
  }

  get eventsChannel(): string {
    return this.channel;
  }

  /** Records a new task as queued. Returns false if the id already exists. */
  async create(taskId: string, request: TaskRequest, createdAt = this.now()): Promise<boolean> {
    return this.createWith(taskId, request, 'queued', createdAt.toISOString(), null);
  }

  private async createWith(
    taskId: string,
    request: TaskRequest,
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
      symbols: JSON.stringify(request.symbols),
      start_date: request.start_date,
      end_date: request.end_date,
      timeframe: request.timeframe,
      created_at: createdAt,
      started_at: startedAt ?? '',
      finished_at: '',
      error: '',
    };
    const created = await this.redis.taskCreate(
      taskKey(taskId),
      this.activeKey,
      this.channel,
      this.ttl,
      String(this.now().getTime()),
      ...Object.entries(fields).flat(),
    );
    return created === 1;
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const hash = await this.redis.hgetall(taskKey(taskId));
    return decodeTask(hash);
  }

  /**
   * A worker starts the task: queued -> running, or running -> running when a job is picked
   * up again after its worker died. A hash that expired while the job waited is rebuilt from
   * the job's data, so a long queue never loses a task's state.
   */
  async markRunning(
    taskId: string,
    request: TaskRequest,
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
    const changed = await this.redis.taskProgress(
      taskKey(taskId),
      this.channel,
      this.ttl,
      String(clamped),
    );
    return changed === 1;
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
    return (await this.redis.expire(taskKey(taskId), Number(this.ttl))) === 1;
  }

  private async transition(
    taskId: string,
    from: readonly TaskStatus[],
    to: TaskStatus,
    fields: Record<string, string>,
    errorCode: FailureCode | '' = '',
  ): Promise<TransitionResult> {
    const [outcome, current] = await this.redis.taskTransition(
      taskKey(taskId),
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
