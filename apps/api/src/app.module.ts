import { DynamicModule, Module, Type } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { HealthModule, MetricsModule, platformModules } from '@app/platform';
import { BacktestsModule } from './backtests/backtests.module';
import { DataModule } from './data/data.module';
import { HttpModule } from './http/http.module';
import { ReportsModule } from './reports/reports.module';
import { RootModule } from './root/root.module';
import { StrategiesModule } from './strategies/strategies.module';
import { SweepsModule } from './sweeps/sweeps.module';
import { ApiThreadsModule } from './threads/api-threads.service';

/** The HTTP API (SPEC §5): enqueues backtests, serves their state and results. */
@Module({})
export class AppModule {
  /**
   * `features`: more modules to run in the same process on the API's infrastructure, e.g.
   * the worker's consumer for the single-process `npm start`.
   */
  static forRoot(config: AppConfig, features: Array<Type | DynamicModule> = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...platformModules(config, 'api'),
        HttpModule,
        ApiThreadsModule,
        RootModule,
        StrategiesModule,
        BacktestsModule,
        SweepsModule,
        DataModule,
        ReportsModule,
        HealthModule,
        MetricsModule,
        ...features,
      ],
    };
  }
}
