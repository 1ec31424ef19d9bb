import { Module } from '@nestjs/common';
import { CandlesController } from './candles.controller';
import { CandleWindowPool } from './candle-window-pool';
import { InventoryController } from './inventory.controller';

@Module({ controllers: [InventoryController, CandlesController], providers: [CandleWindowPool] })
export class DataModule {}
