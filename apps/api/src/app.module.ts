import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '@app/config';
import {
  AppConfigModule,
  backtestQueueModules,
  HealthModule,
  loggerModule,
  MetricsModule,
  RedisModule,
  TaskStoresModule,
} from '@app/platform';
import { BacktestsModule } from './backtests/backtests.module';
import { DataModule } from './data/data.module';
import { HttpModule } from './http/http.module';
import { RootModule } from './root/root.module';
import { StrategiesModule } from './strategies/strategies.module';

/** The HTTP API (SPEC §5): enqueues backtests, serves their state and results. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const [bullMq, backtestQueue] = backtestQueueModules('api');
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        loggerModule(config, 'api'),
        RedisModule.forRoot('api'),
        bullMq,
        TaskStoresModule,
        HttpModule,
        RootModule,
        StrategiesModule,
        BacktestsModule.register(backtestQueue),
        DataModule,
        HealthModule,
        MetricsModule,
      ],
    };
  }
}
