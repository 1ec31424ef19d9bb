import { Module } from '@nestjs/common';
import { BacktestsModule } from '../backtests/backtests.module';
import { ChartController } from './chart.controller';
import { UiController } from './ui.controller';

/** SPEC §14: the chart data of runs and the report pages that draw it. */
@Module({
  imports: [BacktestsModule],
  controllers: [ChartController, UiController],
})
export class ReportsModule {}
