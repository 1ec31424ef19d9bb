import { BullModule } from '@nestjs/bullmq';
import { DynamicModule } from '@nestjs/common';
import { ConnectionOptions, DefaultJobOptions } from 'bullmq';
import { AppConfig } from '@app/config';
import { TaskRequest } from '@app/task-state';
import { APP_CONFIG } from './config.module';
import { redisClientOptions, RedisRole } from './redis.module';

/** Injection token of the backtest queue; its Redis name is QUEUE_NAME (default backtests). */
export const BACKTEST_QUEUE = 'backtest-queue';
export const BACKTEST_JOB_NAME = 'backtest';

/** A job's data: the task's request plus its id and creation time. The job id is the task id. */
export interface BacktestJobData extends TaskRequest {
  task_id: string;
  created_at: string;
}

/** What a finished job returns (BullMQ keeps it on the completed job). */
export interface BacktestJobResult {
  status: 'completed' | 'cancelled' | 'skipped';
  total_signals?: number;
}

/** Base delay of the exponential backoff between tries after a transient fault. */
export const RETRY_BACKOFF_MS = 1000;

/**
 * Job options: a bounded number of tries with exponential backoff (the processor fails bad
 * input at once with UnrecoverableError), and finished jobs trimmed so Redis stays bounded;
 * results live in RESULTS_DIR, not in Redis.
 */
export function backtestJobOptions(config: AppConfig): DefaultJobOptions {
  return {
    attempts: config.jobAttempts,
    backoff: { type: 'exponential', delay: RETRY_BACKOFF_MS },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
  };
}

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

let queueRegistration: DynamicModule | undefined;

/**
 * The backtest queue alone, for a feature module that injects it with
 * `@InjectQueue(BACKTEST_QUEUE)` (metrics, cleanup) inside an app that imports
 * `backtestQueueModules`. Nest 11 de-duplicates a dynamic module by object identity, so the
 * registration is made once and shared: every importer gets the one Queue and connection.
 */
export function backtestQueueRegistration(): DynamicModule {
  queueRegistration ??= BullModule.registerQueueAsync({
    name: BACKTEST_QUEUE,
    useFactory: (config: AppConfig) => ({
      name: config.queueName,
      defaultJobOptions: backtestJobOptions(config),
    }),
    inject: [APP_CONFIG],
  });
  return queueRegistration;
}
