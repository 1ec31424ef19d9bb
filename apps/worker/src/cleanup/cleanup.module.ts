import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { backtestQueueRegistration } from '@app/platform';
import { CleanupScheduler } from './cleanup.scheduler';
import { ResultsCleanup } from './results-cleanup.service';

/**
 * The worker's daily cleanup of old run folders and queue leftovers (SPEC §8), at
 * CLEANUP_CRON, run by one worker at a time. Needs the app's config, Redis, task stores,
 * logger and metrics (all global) and `backtestQueueModules`.
 */
@Module({
  imports: [ScheduleModule.forRoot(), backtestQueueRegistration()],
  providers: [ResultsCleanup, CleanupScheduler],
  exports: [ResultsCleanup],
})
export class CleanupModule {}
