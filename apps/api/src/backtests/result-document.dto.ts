import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FailedSymbol, RESULT_VERSION, ResultDocument } from '@app/backtest';
import {
  EquityPoint,
  ResolvedParams,
  SignalRecord,
  SymbolResult,
  SymbolStats,
} from '@app/strategies';
import { requestParamsSchema } from '../strategies/strategy-schemas';
import { EXAMPLE_BACKTEST_REQUEST } from './backtest-request.dto';

/* The result document of SPEC §4 for the OpenAPI document; `implements` keeps it in step with the engine's types. */

export class SignalDto implements SignalRecord {
  @ApiProperty({ example: 'ETH_BTC' })
  symbol!: string;

  @ApiProperty({ enum: ['buy'], example: 'buy' })
  type!: 'buy';

  @ApiProperty({ example: '2018-01-12T03:15:00.000Z', description: 'Entry bar, ISO-8601 UTC' })
  timestamp!: string;

  @ApiProperty({ example: 0.0921 })
  entry_price!: number;

  @ApiProperty({ example: 0.0925 })
  exit_price!: number;

  @ApiProperty({ example: '2018-01-12T03:20:00.000Z', description: 'Exit bar, ISO-8601 UTC' })
  exit_timestamp!: string;

  @ApiProperty({ example: 0.09214605, description: 'entry_price·(1 + slippage)' })
  entry_fill!: number;

  @ApiProperty({ example: 0.09245375, description: 'exit_price·(1 − slippage)' })
  exit_fill!: number;

  @ApiProperty({ example: 1, description: 'Bars from entry to exit' })
  hold_bars!: number;

  @ApiProperty({ example: 0.0043, description: 'Net of costs, a fraction: 0.05 = 5%' })
  return_pct!: number;

  @ApiProperty({ example: 1, minimum: 0, maximum: 1 })
  confidence!: number;
}

export class EquityPointDto implements EquityPoint {
  @ApiProperty({ example: '2018-01-12T03:15:00.000Z', description: "The trade's entry timestamp" })
  timestamp!: string;

  @ApiProperty({ example: 1.0043, description: 'Equity after the trade, starting at 1.0' })
  equity!: number;
}

export class SymbolResultDto implements SymbolResult {
  @ApiProperty({ example: 'ETH_BTC' })
  symbol!: string;

  @ApiProperty({ example: true, description: 'Whether the symbol counts in the portfolio' })
  is_active!: boolean;

  @ApiProperty({ example: 6048, description: 'Candles in the date range' })
  candles!: number;

  @ApiProperty({ example: 12, description: 'Trades (signals)' })
  samples!: number;

  @ApiProperty({ example: 0.58, description: 'Share of trades with a positive return, 0..1' })
  win_rate!: number;

  @ApiProperty({ example: 0.12, description: 'Mean trade return, percent' })
  avg_return!: number;

  @ApiProperty({
    example: 1.3,
    description: 'Largest fall of the summed returns below their peak, percent',
  })
  max_drawdown!: number;

  @ApiProperty({ example: 1 })
  avg_hold_bars!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number', nullable: true },
    description: 'SPEC §12 statistics; a figure that is undefined or not finite is null',
    example: {
      trades: 12,
      signals_skipped: 0,
      total_return_pct: 1.45,
      compounded_max_drawdown_pct: 0.8,
      best_trade_pct: 0.9,
      worst_trade_pct: -0.6,
      profit_factor: 1.9,
      sqn: 1.1,
      buy_hold_return_pct: -3.2,
      exposure_pct: 0.4,
      cagr_pct: 27.1,
      return_ann_pct: null,
      volatility_ann_pct: null,
      sharpe: null,
      sortino: null,
      max_drawdown_pct: null,
      calmar: null,
      max_drawdown_duration_s: null,
    },
  })
  stats!: SymbolStats;

  @ApiProperty({ type: [SignalDto] })
  signals!: SignalDto[];

  @ApiProperty({ type: [EquityPointDto] })
  performance_curve!: EquityPointDto[];
}

export class FailedSymbolDto implements FailedSymbol {
  @ApiProperty({ example: 'ADA_BTC' })
  symbol!: string;

  @ApiProperty({ example: 'No candles in range 2018-01-10..2018-01-31 (KST) at timeframe 1D' })
  reason!: string;
}

export class ResultMetadataDto {
  @ApiProperty({ example: '2026-01-05T10:00:00.000Z' })
  execution_date!: string;

  @ApiProperty({ example: 'production' })
  environment!: string;

  @ApiProperty({ example: 'worker-7d9f' })
  execution_host!: string;

  @ApiPropertyOptional({ example: 'worker-7d9f:4242' })
  worker_id?: string;
}

export class ResultDocumentDto implements ResultDocument {
  @ApiProperty({ enum: [RESULT_VERSION], example: RESULT_VERSION })
  version!: typeof RESULT_VERSION;

  @ApiProperty({ format: 'uuid', example: '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3' })
  run_id!: string;

  @ApiProperty({ example: 'volume_long_candle' })
  strategy!: string;

  @ApiProperty({
    ...requestParamsSchema(),
    example: EXAMPLE_BACKTEST_REQUEST.params,
    description: 'Every parameter, defaults filled in',
  })
  params!: ResolvedParams;

  @ApiProperty({ format: 'date', example: '2018-01-10' })
  start_date!: string;

  @ApiProperty({ format: 'date', example: '2018-01-31' })
  end_date!: string;

  @ApiProperty({ example: '5M' })
  timeframe!: string;

  @ApiProperty({ example: 21 })
  total_signals!: number;

  @ApiProperty({ example: 0.041, description: 'Seconds' })
  execution_time!: number;

  @ApiProperty({ type: [SymbolResultDto] })
  symbols!: SymbolResultDto[];

  @ApiProperty({ type: [FailedSymbolDto], description: 'Symbols without candles in the range' })
  symbols_failed!: FailedSymbolDto[];

  @ApiProperty({ type: ResultMetadataDto })
  metadata!: ResultMetadataDto;
}
