import { Module } from '@nestjs/common';
import { StrategiesModule } from '../strategies/strategies.module';
import { backtestQueueRegistration } from '@app/platform';
import { BacktestTasks } from './backtest-tasks.service';
import { BacktestsController } from './backtests.controller';
import { RunResults } from './run-results.service';
import { RunSymbols } from './run-symbols.service';
import { TaskEventStreams } from './task-event-streams.service';
import { TaskStates } from './task-states.service';
import { TasksController } from './tasks.controller';

/** Submitting, following, cancelling backtests and reading their results. */
@Module({
  imports: [backtestQueueRegistration(), StrategiesModule],
  controllers: [BacktestsController, TasksController],
  providers: [BacktestTasks, TaskStates, TaskEventStreams, RunResults, RunSymbols],
  // The reports read completed runs the same way (ReportsModule).
  exports: [RunResults],
})
export class BacktestsModule {}
