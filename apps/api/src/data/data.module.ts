import { Module } from '@nestjs/common';
import { InventoryController } from './inventory.controller';
import { UploadController } from './upload.controller';

@Module({ controllers: [InventoryController, UploadController] })
export class DataModule {}
