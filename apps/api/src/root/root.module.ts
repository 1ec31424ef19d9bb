import { Module } from '@nestjs/common';
import { EndpointCatalog } from './endpoint-catalog';
import { RootController } from './root.controller';

@Module({ controllers: [RootController], providers: [EndpointCatalog], exports: [EndpointCatalog] })
export class RootModule {}
