import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConnectionOptions, FlowProducer, Queue } from 'bullmq';
import { AppConfig } from '@app/config';
import { SweepStateStore } from '@app/task-state';
import { APP_CONFIG } from './config.module';
import { REDIS_ROLE, redisClientOptions, RedisConnections, RedisRole } from './redis.module';

/**
 * The sweeps' own BullMQ queue, `{QUEUE_NAME}-sweeps`: a sweep is a flow, its parent job
 * (the id is the sweep id) waiting for its chunk jobs. Kept apart from the backtest queue so
 * that a sweep of thousands of chunks never sits in front of single runs, and so each queue's
 * depth means one thing.
 */
export function sweepQueueName(config: Pick<AppConfig, 'queueName'>): string {
  return `${config.queueName}-sweeps`;
}

/** The flow producer and the queue (for removing a cancelled sweep's jobs) of this process. */
@Injectable()
export class SweepQueue implements OnApplicationShutdown {
  readonly name: string;
  readonly flows: FlowProducer;
  readonly queue: Queue;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(REDIS_ROLE) role: RedisRole) {
    this.name = sweepQueueName(config);
    // ioredis options; BullMQ's own type for them is looser and does not match exactly.
    const connection = redisClientOptions(config, role) as ConnectionOptions;
    this.flows = new FlowProducer({ connection });
    this.queue = new Queue(this.name, { connection });
    // Outages surface through /health/ready and failing requests, not raw stack traces.
    this.flows.on('error', () => undefined);
    this.queue.on('error', () => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.flows.close(), this.queue.close()]);
  }
}

/** The sweep hashes and the sweep queue, for the API and the worker alike. */
@Global()
@Module({
  providers: [
    {
      provide: SweepStateStore,
      useFactory: (redis: RedisConnections, config: AppConfig) =>
        new SweepStateStore(redis.client, { queueName: config.queueName, ttlS: config.taskTtlS }),
      inject: [RedisConnections, APP_CONFIG],
    },
    SweepQueue,
  ],
  exports: [SweepStateStore, SweepQueue],
})
export class SweepQueueModule {}
