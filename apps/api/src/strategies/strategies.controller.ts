import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { listStrategies } from '@app/strategies';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { StrategyListDto } from './strategy.dto';

@ApiTags('strategies')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/strategies')
export class StrategiesController {
  /** Built once: the tables are constants. */
  private readonly strategies = StrategyListDto.of(listStrategies());

  @Get()
  @ApiOperation({
    summary: 'List the strategies and their parameters',
    description:
      "Each parameter's type, default, inclusive range and meaning; and the execution settings every request may carry (fee, slippage, positions).",
  })
  @ApiOkResponse({ type: StrategyListDto })
  list(): StrategyListDto {
    return this.strategies;
  }
}
