import { DynamicModule, Type } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { CatalogueModule } from './catalogue.module';
import { AppConfigModule } from './config.module';
import { loggerModule } from './logger';
import { backtestQueueModules } from './queue';
import { RedisModule, RedisRole } from './redis.module';
import { TaskStoresModule } from './task-state.module';

/**
 * What every process of the service stands on, the API and the worker alike: the validated
 * configuration, JSON logs named after the role, its Redis connections, the backtest queue,
 * the task state and result stores, the run catalogue. Each app adds its own features on top.
 */
export function platformModules(config: AppConfig, role: RedisRole): Array<Type | DynamicModule> {
  return [
    AppConfigModule.forRoot(config),
    loggerModule(config, role),
    RedisModule.forRoot(role),
    ...backtestQueueModules(role),
    TaskStoresModule,
    CatalogueModule,
  ];
}
