import { BullModule, InjectQueue } from '@nestjs/bullmq';
import { DynamicModule, Injectable, OnModuleInit } from '@nestjs/common';
import { ConnectionOptions, Queue } from 'bullmq';
import { AppConfig } from '@app/config';
import { taskJobOptions } from '@app/task-state';
import { APP_CONFIG } from './config.module';
import { REDIS_STARTUP_WAIT_MS, redisClientOptions, RedisRole, waitAtMost } from './redis.module';

/** Injection token of the backtest queue; its Redis name is QUEUE_NAME (default backtests). */
export const BACKTEST_QUEUE = 'backtest-queue';

/**
 * BullMQ on the configured Redis, with the backtest queue registered under BACKTEST_QUEUE.
 * The connection behaves as the role's other connections do (fail fast in the API).
 */
export function backtestQueueModules(role: RedisRole): DynamicModule[] {
  return [
    BullModule.forRootAsync({
      useFactory: (config: AppConfig) => ({
        // ioredis options; BullMQ's own type for them is looser and does not match exactly.
        connection: redisClientOptions(config, role) as ConnectionOptions,
      }),
      inject: [APP_CONFIG],
    }),
    backtestQueueRegistration(),
  ];
}

/** How long shutdown waits for the queue to close before dropping its connection. */
const QUEUE_CLOSE_TIMEOUT_MS = 3000;

/**
 * What @nestjs/bullmq leaves out for a queue that must live through Redis outages: without an
 * `error` listener BullMQ prints every failed reconnect as a raw stack trace (the outage is
 * reported by /health/ready and 503s instead), and its shutdown hook waits for a connection
 * that, while Redis is away, never comes (or throws: a fail-fast connection refuses QUIT).
 * So SIGTERM gives the close a few seconds, then drops the connection.
 */
@Injectable()
export class BacktestQueueHousekeeping implements OnModuleInit {
  constructor(@InjectQueue(BACKTEST_QUEUE) private readonly queue: Queue) {
    queue.on('error', () => undefined);
    const withHook = queue as Queue & { onApplicationShutdown?: () => Promise<unknown> };
    const closeQueue = withHook.onApplicationShutdown?.bind(queue) ?? (() => queue.close());
    withHook.onApplicationShutdown = async () => {
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        closeQueue().then(
          () => true,
          () => false,
        ),
        new Promise<false>(
          (resolve) => (timer = setTimeout(() => resolve(false), QUEUE_CLOSE_TIMEOUT_MS)),
        ),
      ]);
      clearTimeout(timer);
      // Not awaited: BullMQ's disconnect, too, first waits for the connection to be ready.
      if (!closed) queue.disconnect().catch(() => undefined);
    };
  }

  /** Like the process's other connections, the queue's gets a moment to open at start-up. */
  async onModuleInit(): Promise<void> {
    await waitAtMost(this.queue.waitUntilReady(), REDIS_STARTUP_WAIT_MS);
  }
}

let queueRegistration: DynamicModule | undefined;

/**
 * The backtest queue alone, for a feature module that injects it with
 * `@InjectQueue(BACKTEST_QUEUE)` inside an app that imports `backtestQueueModules`. Nest 11
 * de-duplicates a dynamic module by object identity, so the registration is made once and
 * shared: every importer gets the one Queue and connection.
 */
export function backtestQueueRegistration(): DynamicModule {
  if (!queueRegistration) {
    const registration = BullModule.registerQueueAsync({
      name: BACKTEST_QUEUE,
      useFactory: (config: AppConfig) => ({
        name: config.queueName,
        defaultJobOptions: taskJobOptions(config.jobAttempts),
      }),
      inject: [APP_CONFIG],
    });
    queueRegistration = {
      ...registration,
      providers: [...(registration.providers ?? []), BacktestQueueHousekeeping],
    };
  }
  return queueRegistration;
}
