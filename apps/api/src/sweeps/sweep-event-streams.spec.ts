import { EventEmitter } from 'node:events';
import Redis from 'ioredis';
import type { FastifyReply } from 'fastify';
import type { RedisConnections } from '@app/platform';
import { SweepStateStore } from '@app/task-state';
import { PrivateRedis, startPrivateRedis } from '../../../../test/support/redis-server';
import { SweepEventStreams } from './sweep-event-streams.service';
import type { Sweeps } from './sweeps.service';
import type { SweepStateDto } from './sweep.dto';

const SWEEP = '00000000-0000-4000-8000-000000000001';
/** How long each read of the sweep takes here: long enough that an event lands during one. */
const READ_MS = 100;

/** A reply whose raw response records what was written, and when. */
function replyRecorder(): { reply: FastifyReply; progress: () => number[]; hangUp: () => void } {
  const raw = Object.assign(new EventEmitter(), {
    chunks: [] as string[],
    writeHead: () => undefined,
    write(chunk: string) {
      this.chunks.push(chunk);
      return true;
    },
    end: () => undefined,
  });
  const reply = { raw, hijack: () => undefined, getHeaders: () => ({}) };
  return {
    reply: reply as unknown as FastifyReply,
    progress: () =>
      [...raw.chunks.join('').matchAll(/^data: (.*)$/gm)].map(
        (m) => (JSON.parse(m[1]) as SweepStateDto).progress,
      ),
    hangUp: () => raw.emit('close'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SweepEventStreams (real Redis pub/sub)', () => {
  jest.setTimeout(30_000);
  let server: PrivateRedis;
  let client: Redis;
  let subscriber: Redis;
  let store: SweepStateStore;
  let streams: SweepEventStreams;

  beforeAll(async () => {
    server = await startPrivateRedis();
    client = new Redis(server.url);
    subscriber = new Redis(server.url);
    store = new SweepStateStore(client, { queueName: 'backtests', ttlS: 3600 });
    // The sweep as the service reads it, from the real hash; each read takes READ_MS.
    const sweeps = {
      get: async (sweepId: string) => {
        await sleep(READ_MS);
        const state = (await store.get(sweepId))!;
        return { status: state.status, progress: state.progress } as SweepStateDto;
      },
    } as unknown as Sweeps;
    const connections = { client, subscriber } as unknown as RedisConnections;
    streams = new SweepEventStreams(connections, store, sweeps);
    streams.onModuleInit();
    await store.create({
      sweep_id: SWEEP,
      combinations: 100,
      chunks: 100,
      strategy: 'volume_long_candle',
      objective: 'total_return_pct',
      request: '{}',
      created_at: '2026-01-01T00:00:00.000Z',
    });
  });
  afterAll(async () => {
    streams.onModuleDestroy();
    client.disconnect();
    subscriber.disconnect();
    await server.stop();
  });

  it('an event during a read is followed up, and later events still come within the gap, not with the heartbeat', async () => {
    const recorder = replyRecorder();
    await streams.stream(SWEEP, recorder.reply);
    await sleep(100); // subscribed
    // One event; its read starts 200 ms later and takes READ_MS: a second event lands in it.
    await store.completeChunk(SWEEP, 0, 1);
    await sleep(200 + READ_MS / 2);
    await store.completeChunk(SWEEP, 1, 1);
    // The follow-up read (after the gap) has run; now a later event, well after all that.
    await sleep(1000);
    expect(recorder.progress().at(-1)).toBe(0.02);
    await store.completeChunk(SWEEP, 2, 1);
    // Within the gap and a read, far below the 15 s heartbeat.
    const deadline = Date.now() + 2000;
    while (recorder.progress().at(-1) !== 0.03 && Date.now() < deadline) await sleep(20);
    expect(recorder.progress().at(-1)).toBe(0.03);
    recorder.hangUp();
  });
});
