import { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '@app/common';
import type { TaskEventListener, TaskEventsBus } from '@app/platform';
import type { TaskEvent } from '@app/task-state';
import { SSE_HEARTBEAT_MS, TaskEventStreams } from './task-event-streams.service';
import { TaskSnapshot, TaskStates } from './task-states.service';

const TASK = '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';

/** The task events channel in memory: what TaskEventsBus fans out from Redis. */
class EventsChannel {
  private readonly listeners = new Set<TaskEventListener>();
  watch(_taskId: string, listener: TaskEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(event: TaskEvent): void {
    for (const listener of this.listeners) listener(event);
  }
  get watchers(): number {
    return this.listeners.size;
  }
}

/** The task's state as the stores would answer it; `stateJson` as the real service builds it. */
class StatesInMemory {
  current: TaskSnapshot | undefined;
  find(): Promise<TaskSnapshot | undefined> {
    return Promise.resolve(this.current);
  }
  stateJson(snapshot: TaskSnapshot): Promise<string> {
    return Promise.resolve(JSON.stringify({ ...snapshot, result: null }));
  }
}

/** A reply whose raw response records what was written. */
function replyRecorder(): {
  reply: FastifyReply;
  written: () => string;
  ended: () => boolean;
  hangUp: () => void;
} {
  const raw = Object.assign(new EventEmitter(), {
    chunks: [] as string[],
    finished: false,
    writeHead: jest.fn(),
    write(chunk: string) {
      this.chunks.push(chunk);
      return true;
    },
    end() {
      this.finished = true;
    },
  });
  const reply = { raw, hijack: jest.fn(), getHeaders: () => ({ 'x-request-id': 'r-1' }) };
  return {
    reply: reply as unknown as FastifyReply,
    written: () => raw.chunks.join(''),
    ended: () => raw.finished,
    hangUp: () => raw.emit('close'),
  };
}

const snapshot = (status: TaskSnapshot['status'], progress: number): TaskSnapshot => ({
  task_id: TASK,
  status,
  progress,
  error: null,
});
const event = (status: TaskEvent['status'], progress: number): TaskEvent =>
  snapshot(status, progress);

function dataOf(text: string): Array<{ status: string; progress: number }> {
  return [...text.matchAll(/^data: (.*)$/gm)].map(
    (m) => JSON.parse(m[1]) as { status: string; progress: number },
  );
}

/** Lets the stream's chained deliveries (a few awaits each) run to the end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

describe('TaskEventStreams', () => {
  let channel: EventsChannel;
  let states: StatesInMemory;
  let streams: TaskEventStreams;

  beforeEach(() => {
    jest.useFakeTimers();
    channel = new EventsChannel();
    states = new StatesInMemory();
    streams = new TaskEventStreams(
      states as unknown as TaskStates,
      channel as unknown as TaskEventsBus,
    );
  });
  afterEach(() => jest.useRealTimers());

  it('refuses an unknown task before any byte of the stream', async () => {
    const { reply } = replyRecorder();
    await expect(streams.stream(TASK, reply)).rejects.toThrow(NotFoundError);
    expect(reply.hijack).not.toHaveBeenCalled();
    expect(channel.watchers).toBe(0);
  });

  it('sends the current state, each newer change in order, and ends after the final state', async () => {
    states.current = snapshot('queued', 0);
    const recorder = replyRecorder();
    await streams.stream(TASK, recorder.reply);
    channel.publish(event('running', 0));
    channel.publish(event('running', 0.5));
    channel.publish(event('running', 0.25)); // late and older: dropped
    channel.publish(event('completed', 1));
    await settle();
    expect(dataOf(recorder.written())).toEqual([
      { task_id: TASK, status: 'queued', progress: 0, result: null, error: null },
      expect.objectContaining({ status: 'running', progress: 0 }),
      expect.objectContaining({ status: 'running', progress: 0.5 }),
      expect.objectContaining({ status: 'completed', progress: 1 }),
    ]);
    expect(recorder.written()).toMatch(/^id: 1\ndata: /);
    expect(recorder.ended()).toBe(true);
    expect(channel.watchers).toBe(0);
  });

  it('writes a heartbeat comment and picks up a change whose event was lost', async () => {
    states.current = snapshot('running', 0.5);
    const recorder = replyRecorder();
    await streams.stream(TASK, recorder.reply);
    states.current = snapshot('failed', 0.5);
    jest.advanceTimersByTime(SSE_HEARTBEAT_MS);
    await settle();
    expect(recorder.written()).toContain(': keep-alive\n\n');
    expect(dataOf(recorder.written()).map((state) => state.status)).toEqual(['running', 'failed']);
    expect(recorder.ended()).toBe(true);
  });

  it('stops watching when the client hangs up', async () => {
    states.current = snapshot('queued', 0);
    const recorder = replyRecorder();
    await streams.stream(TASK, recorder.reply);
    expect(channel.watchers).toBe(1);
    recorder.hangUp();
    expect(channel.watchers).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
