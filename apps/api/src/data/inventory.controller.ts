import { Controller, Get, HttpStatus, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { listCandleFiles } from '@app/data';
import { InjectConfig } from '@app/platform';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { ApiThreads } from '../threads/api-threads.service';
import { InventoryPageDto, InventoryQueryDto } from './inventory.dto';

@ApiTags('data')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/data')
export class InventoryController {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly threads: ApiThreads,
  ) {}

  @Get('inventory')
  @ApiOperation({
    summary: 'The Parquet files under DATA_ROOT',
    description:
      'Each file of the layout {SYMBOL}/{TIMEFRAME}/{YEAR}.parquet with its rows, first and last timestamp, size and modification time, newest change first (ties by path). An unreadable file is listed with null figures and an `error`.',
  })
  @ApiOkResponse({ type: InventoryPageDto })
  @ApiErrors([HttpStatus.UNPROCESSABLE_ENTITY])
  async inventory(@Query() query: InventoryQueryDto): Promise<InventoryPageDto> {
    const { symbol, timeframe, year, limit, offset } = query;
    // Listing is stats only; the page's files alone are opened, on a thread.
    const files = await listCandleFiles(this.config.dataRoot, { symbol, timeframe, year });
    const page = files.slice(offset, offset + limit);
    return {
      files:
        page.length === 0
          ? []
          : await this.threads.run({ kind: 'describe-candle-files', files: page }),
      total_count: files.length,
      limit,
      offset,
    };
  }
}
