import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { RedisConnections } from '@app/platform';
import { decodeSweepEvent, FINAL_SWEEP_STATE_STATUSES, SweepStateStore } from '@app/task-state';
import { SSE_HEARTBEAT_MS } from '../backtests/task-event-streams.service';
import type { SweepStateDto } from './sweep.dto';
import { Sweeps } from './sweeps.service';

/** At most one progress event per stream this often: a sweep of many small chunks stays readable. */
const MIN_EVENT_GAP_MS = 200;

/**
 * GET /api/sweeps/{id}/events: Server-Sent Events of a sweep, each the JSON of
 * GET /api/sweeps/{id}, through Redis pub/sub ({queue}:sweep-events) so any API replica
 * streams changes made anywhere; the last is the final state, then the stream ends. The
 * heartbeat re-reads the state, so a stream never hangs on an event lost to a Redis restart.
 */
@Injectable()
export class SweepEventStreams implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SweepEventStreams.name);
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly closers = new Set<() => void>();
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.states.eventsChannel) return;
    const event = decodeSweepEvent(message);
    if (event) for (const notify of this.watchers.get(event.sweep_id) ?? []) notify();
  };

  constructor(
    private readonly redis: RedisConnections,
    private readonly states: SweepStateStore,
    private readonly sweeps: Sweeps,
  ) {}

  onModuleInit(): void {
    this.redis.subscriber.on('message', this.onMessage);
    this.redis.subscriber.subscribe(this.states.eventsChannel).catch(() => undefined);
  }

  onModuleDestroy(): void {
    this.redis.subscriber.off('message', this.onMessage);
    for (const close of this.closers) close();
  }

  async stream(sweepId: string, reply: FastifyReply): Promise<void> {
    let pending = false;
    let notify = (): void => void (pending = true);
    const watcher = (): void => notify();
    let watchers = this.watchers.get(sweepId);
    if (!watchers) this.watchers.set(sweepId, (watchers = new Set()));
    watchers.add(watcher);
    const unwatch = (): void => {
      watchers.delete(watcher);
      if (watchers.size === 0) this.watchers.delete(sweepId);
    };
    let first: SweepStateDto;
    try {
      first = await this.sweeps.get(sweepId); // 404 before any event
    } catch (error) {
      unwatch();
      throw error;
    }
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      ...Object.fromEntries(Object.entries(reply.getHeaders()).filter(([, v]) => v !== undefined)),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let sequence = 0;
    let closed = false;
    let lastProgress = -1;
    let lastStatus = '';
    let timer: NodeJS.Timeout | undefined;
    let sending = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(timer);
      unwatch();
      this.closers.delete(close);
      response.end();
    };
    const send = (view: SweepStateDto): void => {
      if (closed) return;
      // Progress only rises on the stream, as in the hash: a late read never goes back.
      if (view.status === lastStatus && view.progress <= lastProgress) return;
      lastStatus = view.status;
      lastProgress = Math.max(lastProgress, view.progress);
      sequence += 1;
      response.write(`id: ${sequence}\ndata: ${JSON.stringify(view)}\n\n`);
      if (FINAL_SWEEP_STATE_STATUSES.includes(view.status)) close();
    };
    const refresh = async (): Promise<void> => {
      if (sending || closed) return;
      sending = true;
      pending = false;
      try {
        send(await this.sweeps.get(sweepId));
      } catch (error) {
        this.logger.warn(
          { err: error, sweep_id: sweepId },
          'Sweep event stream could not read the sweep',
        );
      } finally {
        sending = false;
      }
      // An event came while this read ran: one more read after the gap. The timer clears itself
      // when it fires, as notify's does: notify schedules only while none is set, so a timer
      // left set would make every later event wait for the heartbeat.
      if (pending && !closed) {
        timer = setTimeout(() => {
          timer = undefined;
          void refresh();
        }, MIN_EVENT_GAP_MS);
      }
    };
    const heartbeat = setInterval(() => {
      if (closed) return;
      response.write(': keep-alive\n\n');
      void refresh();
    }, SSE_HEARTBEAT_MS);
    this.closers.add(close);
    response.once('close', close);
    send(first);
    notify = () => {
      pending = true;
      if (!sending && timer === undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          void refresh();
        }, MIN_EVENT_GAP_MS);
      }
    };
    if (pending) notify();
  }
}
