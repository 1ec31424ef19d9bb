/**
 * Every Redis key and channel the service uses besides BullMQ's own (`bull:{QUEUE_NAME}:*`),
 * in one place. Keys of one deployment carry its queue name, so deployments sharing a Redis
 * stay apart; the task hash is `task:{id}` as SPEC §6 names it (ids are UUIDs, unique anyway).
 *
 * | key                            | type    | holds                                             |
 * | ------------------------------ | ------- | ------------------------------------------------- |
 * | task:{id}                      | hash    | a task's state (SPEC §6), TTL TASK_TTL_S          |
 * | {queue}:task-events            | channel | a JSON TaskEvent per change of any task           |
 * | {queue}:active-tasks           | zset    | queued/running task ids, score = last change (ms) |
 * | {queue}:lock:reconciler        | string  | the worker that reconciles this interval          |
 * | {queue}:lock:cleanup           | string  | the worker running the scheduled cleanup          |
 * | {queue}:lock:catalogue-rebuild | string  | the process running the start-up catalogue rebuild |
 * | {queue}:lock:run:{id}          | string  | the API replica rewriting that run's result       |
 * | {queue}:lock:preset:{sha256}   | string  | the API replica changing that preset              |
 * | {queue}:cleanup:last-run       | hash    | when, where and what the last cleanup removed     |
 * | sweep:{id}                     | hash    | a sweep's state (SPEC §13), TTL TASK_TTL_S        |
 * | sweep:{id}:chunks              | set     | indexes of the sweep's chunks counted as done     |
 * | {queue}:sweep-events           | channel | a JSON SweepEvent per change of any sweep         |
 * | {queue}:rate-limit:{budget}    | string  | a client's submissions this minute (the API's     |
 * |                                |         | limiter, @fastify/rate-limit's Redis store)       |
 *
 * The sweeps' BullMQ queue is `bull:{QUEUE_NAME}-sweeps:*` (libs/platform's sweep queue).
 */
export const redisKeys = {
  task: (taskId: string): string => `task:${taskId}`,
  taskEvents: (queueName: string): string => `${queueName}:task-events`,
  activeTasks: (queueName: string): string => `${queueName}:active-tasks`,
  reconcilerLock: (queueName: string): string => `${queueName}:lock:reconciler`,
  cleanupLock: (queueName: string): string => `${queueName}:lock:cleanup`,
  catalogueRebuildLock: (queueName: string): string => `${queueName}:lock:catalogue-rebuild`,
  runLock: (queueName: string, runId: string): string => `${queueName}:lock:run:${runId}`,
  presetLock: (queueName: string, nameKey: string): string => `${queueName}:lock:preset:${nameKey}`,
  cleanupLastRun: (queueName: string): string => `${queueName}:cleanup:last-run`,
  sweep: (sweepId: string): string => `sweep:${sweepId}`,
  sweepChunks: (sweepId: string): string => `sweep:${sweepId}:chunks`,
  sweepEvents: (queueName: string): string => `${queueName}:sweep-events`,
  /** The prefix the rate limiter puts before each budget (`ip:…` or `key:…`). */
  rateLimitPrefix: (queueName: string): string => `${queueName}:rate-limit:`,
} as const;
