import { Module } from '@nestjs/common';
import { SweepQueueModule } from '@app/platform';
import { SweepEventStreams } from './sweep-event-streams.service';
import { SweepsController } from './sweeps.controller';
import { Sweeps } from './sweeps.service';

/** Parameter sweeps (SPEC §13): submitting, following, cancelling, reading their results. */
@Module({
  imports: [SweepQueueModule],
  controllers: [SweepsController],
  providers: [Sweeps, SweepEventStreams],
})
export class SweepsModule {}
