import type Redis from 'ioredis';
import { defineLuaCommands } from './lua-scripts';
import { redisKeys } from './redis-keys';

/** The scripts of the sweep hashes (see ./lua for their KEYS, ARGV and returns). */
const SWEEP_SCRIPTS = ['createSweep-1.lua', 'transitionSweep-2.lua', 'completeChunk-2.lua'];

export const SWEEP_STATE_STATUSES = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
] as const;
export type SweepStateStatus = (typeof SWEEP_STATE_STATUSES)[number];
export const FINAL_SWEEP_STATE_STATUSES: readonly SweepStateStatus[] = [
  'completed',
  'failed',
  'cancelled',
];

/** The sweep:{id} hash (SPEC §13), decoded. */
export interface SweepRecord {
  sweep_id: string;
  status: SweepStateStatus;
  /** done / combinations, 0..1, only rising. */
  progress: number;
  combinations: number;
  /** Combinations of the chunks counted so far. */
  done: number;
  chunks: number;
  strategy: string;
  objective: string;
  /** The validated request, as JSON (the job carries the same). */
  request: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
}

/** What is published on {queue}:sweep-events at each change. */
export interface SweepEvent {
  sweep_id: string;
  status: SweepStateStatus;
  progress: number;
  done: number;
  error: string | null;
}

type ScriptedRedis = Redis & {
  createSweep(hash: string, ...args: string[]): Promise<number>;
  transitionSweep(hash: string, chunks: string, ...args: string[]): Promise<[string, string]>;
  completeChunk(hash: string, chunks: string, ...args: string[]): Promise<[number, number]>;
};

export type SweepTransition =
  | { ok: true; previous: SweepStateStatus }
  | { ok: false; reason: 'missing' }
  | { ok: false; reason: 'conflict'; current: SweepStateStatus };

/**
 * The sweep:{id} hashes: TTL TASK_TTL_S renewed on every update, as task hashes (SPEC §6);
 * once it has expired a finished sweep is read from its folder and the catalogue.
 */
export class SweepStateStore {
  private readonly redis: ScriptedRedis;
  readonly eventsChannel: string;
  private readonly ttl: string;

  constructor(redis: Redis, options: { queueName: string; ttlS: number }) {
    defineLuaCommands(redis, SWEEP_SCRIPTS);
    this.redis = redis as ScriptedRedis;
    this.eventsChannel = redisKeys.sweepEvents(options.queueName);
    this.ttl = String(options.ttlS);
  }

  /** Records a new sweep as queued, unless its hash exists (an id is never reused). */
  async create(
    record: Omit<
      SweepRecord,
      'status' | 'progress' | 'done' | 'started_at' | 'finished_at' | 'error'
    >,
  ): Promise<boolean> {
    const key = redisKeys.sweep(record.sweep_id);
    const fields: Record<string, string> = {
      sweep_id: record.sweep_id,
      status: 'queued',
      progress: '0',
      combinations: String(record.combinations),
      done: '0',
      chunks: String(record.chunks),
      strategy: record.strategy,
      objective: record.objective,
      request: record.request,
      created_at: record.created_at,
      started_at: '',
      finished_at: '',
      error: '',
    };
    // One script: the existence check, the fields and the TTL together, so no half-made hash
    // (just sweep_id, no TTL) can be left behind to block the id and never expire.
    return (await this.redis.createSweep(key, this.ttl, ...Object.entries(fields).flat())) === 1;
  }

  async get(sweepId: string): Promise<SweepRecord | undefined> {
    return decodeSweep(await this.redis.hgetall(redisKeys.sweep(sweepId)));
  }

  /** Counts chunk `chunk` (of `count` combinations) once; returns whether it counted now. */
  async completeChunk(
    sweepId: string,
    chunk: number,
    count: number,
    now = new Date(),
  ): Promise<boolean> {
    const [counted] = await this.redis.completeChunk(
      redisKeys.sweep(sweepId),
      redisKeys.sweepChunks(sweepId),
      this.eventsChannel,
      this.ttl,
      String(chunk),
      String(count),
      now.toISOString(),
    );
    return counted === 1;
  }

  async transition(
    sweepId: string,
    to: SweepStateStatus,
    from: readonly SweepStateStatus[],
    fields: Record<string, string> = {},
  ): Promise<SweepTransition> {
    const [outcome, status] = await this.redis.transitionSweep(
      redisKeys.sweep(sweepId),
      redisKeys.sweepChunks(sweepId),
      this.eventsChannel,
      this.ttl,
      to,
      from.join(' '),
      ...Object.entries(fields).flat(),
    );
    if (outcome === 'ok') return { ok: true, previous: status as SweepStateStatus };
    if (outcome === 'missing') return { ok: false, reason: 'missing' };
    return { ok: false, reason: 'conflict', current: status as SweepStateStatus };
  }
}

export function decodeSweep(hash: Record<string, string>): SweepRecord | undefined {
  if (!hash.sweep_id || !SWEEP_STATE_STATUSES.includes(hash.status as SweepStateStatus))
    return undefined;
  return {
    sweep_id: hash.sweep_id,
    status: hash.status as SweepStateStatus,
    progress: Number(hash.progress ?? 0),
    combinations: Number(hash.combinations ?? 0),
    done: Number(hash.done ?? 0),
    chunks: Number(hash.chunks ?? 0),
    strategy: hash.strategy ?? '',
    objective: hash.objective ?? '',
    request: hash.request ?? '{}',
    created_at: hash.created_at ?? '',
    started_at: hash.started_at || null,
    finished_at: hash.finished_at || null,
    error: hash.error || null,
  };
}

export function decodeSweepEvent(message: string): SweepEvent | undefined {
  try {
    const event = JSON.parse(message) as SweepEvent;
    if (typeof event.sweep_id !== 'string') return undefined;
    return { ...event, error: event.error || null };
  } catch {
    return undefined;
  }
}
