import { DynamicModule, Module } from '@nestjs/common';
import { BacktestTasks } from './backtest-tasks.service';
import { BacktestsController } from './backtests.controller';
import { RunResults } from './run-results.service';
import { TaskEventStreams } from './task-event-streams.service';
import { TaskStates } from './task-states.service';
import { TasksController } from './tasks.controller';

/** Submitting, following, cancelling backtests and reading their results. */
@Module({})
export class BacktestsModule {
  /** `backtestQueue`: the app's registration of the backtest queue, so that it is one Queue. */
  static register(backtestQueue: DynamicModule): DynamicModule {
    return {
      module: BacktestsModule,
      imports: [backtestQueue],
      controllers: [BacktestsController, TasksController],
      providers: [BacktestTasks, TaskStates, TaskEventStreams, RunResults],
    };
  }
}
