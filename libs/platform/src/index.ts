export * from './config.module';
export * from './logger';
export * from './queue';
export * from './redis.module';
export * from './task-state.module';
export * from './health';
export * from './metrics';
export * from './startup';
