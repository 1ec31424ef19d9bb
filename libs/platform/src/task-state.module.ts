import { Global, Inject, Injectable, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { ResultStore } from '@app/storage';
import { decodeTaskEvent, redisKeys, TaskEvent, TaskStateStore } from '@app/task-state';
import { APP_CONFIG } from './config.module';
import { RedisConnections } from './redis.module';

export type TaskEventListener = (event: TaskEvent) => void;

/**
 * One subscription per process to the task events channel, fanned out in memory to whoever
 * watches a task (SSE streams, synchronous runs waiting, workers watching for cancels).
 * Events come through Redis, so every API replica sees changes made anywhere.
 */
@Injectable()
export class TaskEventsBus implements OnModuleInit, OnModuleDestroy {
  private readonly byTask = new Map<string, Set<TaskEventListener>>();
  private readonly everything = new Set<TaskEventListener>();
  private readonly channel: string;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel) return;
    const event = decodeTaskEvent(message);
    if (!event) return;
    for (const listener of this.byTask.get(event.task_id) ?? []) listener(event);
    for (const listener of this.everything) listener(event);
  };

  constructor(
    private readonly redis: RedisConnections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.channel = redisKeys.taskEvents(config.queueName);
  }

  onModuleInit(): void {
    this.redis.subscriber.on('message', this.onMessage);
    // Not awaited: with Redis down at start-up the subscription waits in ioredis's offline
    // queue (and is renewed after every reconnect) while the process starts and answers its
    // probes. A failure is only possible once the connection is closed for good.
    this.redis.subscriber.subscribe(this.channel).catch(() => undefined);
  }

  onModuleDestroy(): void {
    this.redis.subscriber.off('message', this.onMessage);
  }

  /** Calls `listener` with each event of the task until the returned function is called. */
  watch(taskId: string, listener: TaskEventListener): () => void {
    let listeners = this.byTask.get(taskId);
    if (!listeners) this.byTask.set(taskId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.byTask.delete(taskId);
    };
  }

  /** Calls `listener` with every task's events until the returned function is called. */
  watchAll(listener: TaskEventListener): () => void {
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }
}

/** Task state (Redis hashes) and results (run folders), the two stores every app reads. */
@Global()
@Module({
  providers: [
    {
      provide: TaskStateStore,
      useFactory: (redis: RedisConnections, config: AppConfig) =>
        new TaskStateStore(redis.client, { queueName: config.queueName, ttlS: config.taskTtlS }),
      inject: [RedisConnections, APP_CONFIG],
    },
    {
      provide: ResultStore,
      useFactory: (config: AppConfig) => new ResultStore(config.resultsDir),
      inject: [APP_CONFIG],
    },
    TaskEventsBus,
  ],
  exports: [TaskStateStore, ResultStore, TaskEventsBus],
})
export class TaskStoresModule {}
