import { Controller, Get, HttpStatus, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { listInventory } from '@app/data';
import { InjectConfig } from '@app/platform';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { paginate } from '../http/pagination.dto';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { InventoryPageDto, InventoryQueryDto } from './inventory.dto';

@ApiTags('data')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/data')
export class InventoryController {
  constructor(@InjectConfig() private readonly config: AppConfig) {}

  @Get('inventory')
  @ApiOperation({
    summary: 'The Parquet files under DATA_ROOT',
    description:
      'Each file of the layout {SYMBOL}/{TIMEFRAME}/{YEAR}.parquet with its rows, first and last timestamp and size.',
  })
  @ApiOkResponse({ type: InventoryPageDto })
  @ApiErrors([HttpStatus.UNPROCESSABLE_ENTITY])
  async inventory(@Query() query: InventoryQueryDto): Promise<InventoryPageDto> {
    const { symbol, timeframe, year } = query;
    const entries = await listInventory(this.config.dataRoot, { symbol, timeframe, year });
    return paginate(entries, query);
  }
}
