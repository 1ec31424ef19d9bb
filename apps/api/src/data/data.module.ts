import { Module } from '@nestjs/common';
import { CandlesController } from './candles.controller';
import { InventoryController } from './inventory.controller';
import { UploadController } from './upload.controller';

@Module({
  controllers: [InventoryController, UploadController, CandlesController],
})
export class DataModule {}
