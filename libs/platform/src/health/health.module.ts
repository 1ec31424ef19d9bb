import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CatalogueHealthIndicator } from './catalogue.health';
import { FilesystemHealthIndicator } from './filesystem.health';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { RedisHealthIndicator } from './redis.health';

/**
 * GET /health, /health/live and /health/ready for the API and the worker. Needs the app's
 * AppConfigModule and RedisModule (both global), and checks the run catalogue when the app has
 * one (CatalogueModule, global).
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    HealthService,
    RedisHealthIndicator,
    FilesystemHealthIndicator,
    CatalogueHealthIndicator,
  ],
  exports: [HealthService],
})
export class HealthModule {}
