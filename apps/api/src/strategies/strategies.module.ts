import { Module } from '@nestjs/common';
import { PresetsController } from './presets.controller';
import { Presets } from './presets.service';
import { StrategiesController } from './strategies.controller';

@Module({
  controllers: [StrategiesController, PresetsController],
  providers: [Presets],
  exports: [Presets],
})
export class StrategiesModule {}
