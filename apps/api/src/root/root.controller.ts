import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../http/error-response.dto';
import { EndpointCatalog } from './endpoint-catalog';
import { ServiceInfoDto } from './root.dto';

@ApiTags('service')
@Controller()
export class RootController {
  constructor(private readonly catalog: EndpointCatalog) {}

  @Get()
  @ApiOperation({ summary: 'The service: name, version and endpoints' })
  @ApiOkResponse({ type: ServiceInfoDto })
  @ApiErrors([500])
  info(): ServiceInfoDto {
    return this.catalog.serviceInfo;
  }
}
