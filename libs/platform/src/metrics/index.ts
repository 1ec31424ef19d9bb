export * from './metrics.module';
export * from './metrics.service';
export * from './queue-depth.metrics';
