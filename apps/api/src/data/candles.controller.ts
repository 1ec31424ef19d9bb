import { Controller, Get, Header, HttpStatus, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { ApiThreads } from '../threads/api-threads.service';
import { CandleWindowDto, CandlesQueryDto } from './candles.dto';

@ApiTags('data')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/data')
export class CandlesController {
  constructor(private readonly threads: ApiThreads) {}

  @Get('candles')
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOperation({
    summary: 'A window of one symbol’s candles (for a chart zooming in)',
    description:
      'The candles with from <= time < to, the first `limit` of them (at most 20,000), as ' +
      'columns. Read on a reader thread: the Parquet files are never decoded on the event loop.',
  })
  @ApiOkResponse({ type: CandleWindowDto })
  @ApiErrors([HttpStatus.UNPROCESSABLE_ENTITY], {
    [HttpStatus.UNPROCESSABLE_ENTITY]:
      'A bad symbol, timeframe, time or limit (every failing field named), or an unreadable data file',
  })
  candles(@Query() query: CandlesQueryDto): Promise<string> {
    return this.threads.run({
      kind: 'read-candle-window',
      query: {
        symbol: query.symbol,
        timeframe: query.timeframe,
        fromMs: query.from,
        toMs: query.to,
        limit: query.limit,
      },
    });
  }
}
