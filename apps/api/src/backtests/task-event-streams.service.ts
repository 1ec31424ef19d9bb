import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '@app/common';
import { TaskEventsBus } from '@app/platform';
import { isTerminal, TaskEvent, TaskStatus } from '@app/task-state';
import { TaskSnapshot, TaskStates } from './task-states.service';

/** A comment line this often keeps proxies from closing a quiet stream (and re-checks the state). */
export const SSE_HEARTBEAT_MS = 15_000;

/** Order of the lifecycle: a state never goes back, so an older one arriving late is dropped. */
function stage(status: TaskStatus): number {
  if (status === 'queued') return 0;
  if (status === 'running') return 1;
  return 2;
}

function isNewer(next: TaskSnapshot, last: TaskSnapshot | undefined): boolean {
  if (!last) return true;
  if (stage(next.status) !== stage(last.status)) return stage(next.status) > stage(last.status);
  return next.status === 'running' && next.progress > last.progress;
}

function definedHeaders(
  headers: Record<string, OutgoingHttpHeader | undefined>,
): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined));
}

function snapshotOf(event: TaskEvent): TaskSnapshot {
  const { task_id, status, progress, error } = event;
  return { task_id, status, progress, error };
}

/** One client's stream: events in order, each newer than the last, ending with the final state. */
class TaskEventStream {
  private last: TaskSnapshot | undefined;
  private sequence = 0;
  private delivering: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly states: TaskStates,
    private readonly logger: Logger,
    private readonly onClose: () => void,
  ) {}

  /** Queues a state to send; deliveries run one at a time, in arrival order. */
  offer(snapshot: TaskSnapshot): void {
    this.delivering = this.delivering.then(() => this.deliver(snapshot));
  }

  heartbeat(): void {
    if (!this.closed) this.response.write(': keep-alive\n\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.response.end();
  }

  private async deliver(snapshot: TaskSnapshot): Promise<void> {
    if (this.closed || !isNewer(snapshot, this.last)) return;
    this.last = snapshot;
    try {
      const data = await this.states.stateJson(snapshot);
      if (this.closed) return;
      this.sequence += 1;
      // A data line may not hold a line break: a pretty-printed result spans several lines.
      const lines = data.split('\n').map((line) => `data: ${line}`);
      this.response.write(`id: ${this.sequence}\n${lines.join('\n')}\n\n`);
    } catch (error) {
      this.logger.error({ err: error, task_id: snapshot.task_id }, 'Task event stream failed');
      this.close();
      return;
    }
    if (isTerminal(snapshot.status)) this.close();
  }
}

/**
 * GET /api/backtests/status/{id}/events: Server-Sent Events of a task's state. Events come
 * through Redis pub/sub (TaskEventsBus), so any API replica streams changes made anywhere.
 * The heartbeat also re-reads the state, so a stream never hangs on an event lost while
 * Redis restarted.
 */
@Injectable()
export class TaskEventStreams implements OnModuleDestroy {
  private readonly logger = new Logger(TaskEventStreams.name);
  private readonly open = new Set<TaskEventStream>();

  constructor(
    private readonly states: TaskStates,
    private readonly events: TaskEventsBus,
  ) {}

  /** Starts the stream; a task that does not exist is a 404 before any event is sent. */
  async stream(taskId: string, reply: FastifyReply): Promise<void> {
    const early: TaskSnapshot[] = [];
    let forward = (snapshot: TaskSnapshot): void => void early.push(snapshot);
    // Watch before reading the state: nothing that changes in between is missed.
    const unwatch = this.events.watch(taskId, (event) => forward(snapshotOf(event)));
    let current: TaskSnapshot | undefined;
    try {
      current = await this.states.find(taskId);
    } catch (error) {
      unwatch();
      throw error;
    }
    if (!current) {
      unwatch();
      throw new NotFoundError(`No task ${taskId}`);
    }

    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      // What hooks set so far (CORS, the request id) goes out with the stream.
      ...definedHeaders(reply.getHeaders()),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    const heartbeat = setInterval(() => {
      stream.heartbeat();
      this.states.find(taskId).then(
        (snapshot) => snapshot && stream.offer(snapshot),
        () => undefined, // Redis away: the next beat tries again.
      );
    }, SSE_HEARTBEAT_MS);
    const stream: TaskEventStream = new TaskEventStream(response, this.states, this.logger, () => {
      clearInterval(heartbeat);
      unwatch();
      this.open.delete(stream);
    });
    this.open.add(stream);
    response.once('close', () => stream.close());

    stream.offer(current);
    forward = (snapshot) => stream.offer(snapshot);
    for (const snapshot of early) stream.offer(snapshot);
  }

  /** Ends every open stream, so that shutdown does not wait for clients to hang up. */
  onModuleDestroy(): void {
    for (const stream of this.open) stream.close();
  }
}
