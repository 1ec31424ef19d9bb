import { ApiProperty } from '@nestjs/swagger';

export class EndpointDto {
  @ApiProperty({ example: 'POST' })
  method!: string;

  @ApiProperty({ example: '/api/backtests/run-async' })
  path!: string;

  @ApiProperty({ example: 'Queue a backtest' })
  summary!: string;
}

export class ServiceInfoDto {
  @ApiProperty({ example: 'Coin Backtesting API' })
  name!: string;

  @ApiProperty({ example: '1.0.0' })
  version!: string;

  @ApiProperty({ example: 'Trading-strategy backtests over crypto candle data…' })
  description!: string;

  @ApiProperty({ example: '/docs', description: 'Swagger UI' })
  docs!: string;

  @ApiProperty({ type: [EndpointDto], description: 'Every route, from the OpenAPI document' })
  endpoints!: EndpointDto[];
}
