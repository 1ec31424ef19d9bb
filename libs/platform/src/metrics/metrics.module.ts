import { Global, Module } from '@nestjs/common';
import { backtestQueueRegistration } from '../queue';
import { CatalogueMetrics } from './catalogue.metrics';
import { HttpMetricsHook } from './http-metrics.hook';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { QueueDepthMetrics } from './queue-depth.metrics';

/**
 * GET /metrics for the API and the worker, and the process's one MetricsService (global, so
 * the worker's processor and the cleanup count into the registry that is served). Needs the
 * app to import `backtestQueueModules` (the queue gauges read its counts).
 */
@Global()
@Module({
  imports: [backtestQueueRegistration()],
  controllers: [MetricsController],
  providers: [MetricsService, HttpMetricsHook, QueueDepthMetrics, CatalogueMetrics],
  exports: [MetricsService],
})
export class MetricsModule {}
