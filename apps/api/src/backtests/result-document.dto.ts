import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FailedSymbol, RESULT_VERSION, ResultDocument } from '@app/backtest';
import {
  EquityPoint,
  PortfolioStats,
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

/** A SPEC §12 figure: a number, or null where it is undefined or not finite. */
function Figure(description: string, example: number | null): PropertyDecorator {
  return ApiProperty({ type: 'number', nullable: true, example, description });
}

const NULL_WITH_OVERLAP = ' Only with positions single (null with overlap).';

/** The figures a symbol and the portfolio share, described once (units in the descriptions). */
class TradeFiguresDto {
  @Figure('(E_k − 1)·100: the trades compounded, percent', 1.45)
  total_return_pct!: number | null;

  @Figure('Largest trade return, percent (null without trades)', 0.9)
  best_trade_pct!: number | null;

  @Figure('Smallest trade return, percent (null without trades)', -0.6)
  worst_trade_pct!: number | null;

  @Figure('Σ positive r / |Σ negative r| (null without a losing trade)', 1.9)
  profit_factor!: number | null;

  @Figure('System quality number √k·mean(r)/stdev(r) (null below 2 trades or equal returns)', 1.1)
  sqn!: number | null;

  @Figure(
    `Annualised return of the account's daily equity (365 a year), percent.${NULL_WITH_OVERLAP}`,
    null,
  )
  return_ann_pct!: number | null;

  @Figure(`Annualised volatility of daily returns, percent.${NULL_WITH_OVERLAP}`, null)
  volatility_ann_pct!: number | null;

  @Figure(`mean(d)/stdev(d)·√365 of daily returns, risk-free 0.${NULL_WITH_OVERLAP}`, null)
  sharpe!: number | null;

  @Figure(`mean(d)/downside deviation·√365.${NULL_WITH_OVERLAP}`, null)
  sortino!: number | null;

  @Figure(
    `Largest fall of the account's equity below its peak, over every bar, percent.${NULL_WITH_OVERLAP}`,
    null,
  )
  max_drawdown_pct!: number | null;

  @Figure(`return_ann / max_drawdown.${NULL_WITH_OVERLAP}`, null)
  calmar!: number | null;

  @Figure(
    `Longest drawdown stretch, seconds (backtesting.py's definition).${NULL_WITH_OVERLAP}`,
    null,
  )
  max_drawdown_duration_s!: number | null;
}

export class SymbolStatsDto extends TradeFiguresDto implements SymbolStats {
  @ApiProperty({ example: 12, description: 'Trades taken' })
  trades!: number;

  @ApiProperty({
    example: 0,
    description: 'Signals not taken because a trade was open (positions single; 0 with overlap)',
  })
  signals_skipped!: number;

  @Figure('max over trades of (1 − E_m / max E)·100: the compounded drawdown, percent', 0.8)
  compounded_max_drawdown_pct!: number | null;

  @Figure('(close[n−1] − close[0]) / close[0]·100: buying and holding, percent', -3.2)
  buy_hold_return_pct!: number | null;

  @Figure('Share of bars inside a trade, percent', 0.4)
  exposure_pct!: number | null;

  @Figure('Compounded annual growth over the candles’ span (365.25 days a year), percent', 27.1)
  cagr_pct!: number | null;
}

export class PortfolioDto extends TradeFiguresDto implements PortfolioStats {
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 21,
    description: 'Trades of the active symbols (null when no symbol is active)',
  })
  trades!: number | null;

  @Figure('Share of those trades with r > 0, 0..1', 0.55)
  win_rate!: number | null;

  @Figure('Mean trade return, percent', 0.07)
  avg_return!: number | null;
}

export class ExecutionDto {
  @ApiProperty({ example: 0.001, description: 'Fraction of notional per fill (0.001 = 0.1%)' })
  fee!: number;

  @ApiProperty({ example: 0.0005, description: 'Fraction of price per fill' })
  slippage!: number;

  @ApiProperty({ enum: ['overlap', 'single'], example: 'overlap' })
  positions!: 'overlap' | 'single';
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

  @ApiProperty({ type: SymbolStatsDto, description: 'SPEC §12 statistics of this symbol' })
  stats!: SymbolStatsDto;

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

  @ApiProperty({ type: ExecutionDto, description: 'How trades were filled (SPEC §12)' })
  execution!: ExecutionDto;

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

  @ApiProperty({
    type: PortfolioDto,
    description:
      'SPEC §12: the active symbols with equal capital each (every figure null when none is active)',
  })
  portfolio!: PortfolioDto;

  @ApiProperty({ type: ResultMetadataDto })
  metadata!: ResultMetadataDto;
}
