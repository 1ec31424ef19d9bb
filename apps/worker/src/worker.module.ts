import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import {
  backtestQueueRegistration,
  HealthModule,
  MetricsModule,
  platformModules,
  SweepQueueModule,
} from '@app/platform';
import { backtestConsumerFor } from './backtest/backtest.consumer';
import { BacktestJobHandler } from './backtest/backtest-job.handler';
import { BacktestThreadPool } from './backtest/backtest-thread-pool';
import { JobControl } from './backtest/job-control';
import { ProgressReporter } from './backtest/progress-reporter';
import { ResultsDiskGuard } from './backtest/results-disk-guard';
import { TaskFinisher } from './backtest/task-finisher';
import { TaskReconciler } from './backtest/task-reconciler';
import { workerOriginProvider } from './backtest/worker-origin';
import { CleanupModule } from './cleanup/cleanup.module';
import { SweepChunkPool } from './sweeps/sweep-chunk-pool';
import { SweepConsumer } from './sweeps/sweep.consumer';

/**
 * The worker: consumes the backtest queue, keeps task states honest, and serves /health and
 * /metrics on WORKER_HEALTH_PORT.
 *
 * `WorkerModule.forRoot(config)` is the whole worker process (configuration, logger, Redis,
 * BullMQ, stores and these features). `WorkerModule.features(config)` is the features alone,
 * for a process that already provides that infrastructure (the API, in the single-process
 * `npm start`).
 */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    const features = WorkerModule.features(config);
    return { ...features, imports: [...platformModules(config, 'worker'), ...features.imports!] };
  }

  static features(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        backtestQueueRegistration(),
        SweepQueueModule,
        HealthModule,
        MetricsModule,
        CleanupModule,
      ],
      providers: [
        workerOriginProvider,
        BacktestThreadPool,
        TaskFinisher,
        JobControl,
        ProgressReporter,
        ResultsDiskGuard,
        BacktestJobHandler,
        backtestConsumerFor(config),
        TaskReconciler,
        SweepChunkPool,
        SweepConsumer,
      ],
    };
  }
}
