import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import {
  backtestQueueRegistration,
  HealthModule,
  MetricsModule,
  platformModules,
} from '@app/platform';
import { BacktestProcessor } from './backtest/backtest.processor';
import { BacktestThreadPool } from './backtest/backtest-thread-pool';
import { TaskFinisher } from './backtest/task-finisher';
import { TaskReconciler } from './backtest/task-reconciler';
import { CleanupModule } from './cleanup/cleanup.module';

/**
 * The worker: consumes the backtest queue, keeps task states honest, and serves /health and
 * /metrics on WORKER_HEALTH_PORT.
 *
 * `WorkerModule.forRoot(config)` is the whole worker process (configuration, logger, Redis,
 * BullMQ, stores and these features). The bare `WorkerModule` is the features alone, for a
 * process that already provides that infrastructure (the API, in the single-process
 * `npm start`).
 */
@Module({
  imports: [backtestQueueRegistration(), HealthModule, MetricsModule, CleanupModule],
  providers: [BacktestThreadPool, TaskFinisher, BacktestProcessor, TaskReconciler],
})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: platformModules(config, 'worker'),
    };
  }
}
