import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { listStrategies } from '@app/strategies';
import { SWEEP_OBJECTIVES, VALIDATION_METHODS } from '@app/sweeps';
import { SWEEP_STATE_STATUSES, SweepStateStatus } from '@app/task-state';
import { PageDto, PageQueryDto } from '../http/pagination.dto';

const EXAMPLE_SWEEP_ID = '5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
const STRATEGY_NAMES = listStrategies().map((strategy) => strategy.name);

const EXAMPLE_PORTFOLIO = {
  total_return_pct: 4.21,
  trades: 37,
  win_rate: 0.57,
  avg_return: 0.11,
  profit_factor: 1.42,
  sqn: 1.1,
  best_trade_pct: 2.3,
  worst_trade_pct: -1.7,
  return_ann_pct: null,
  volatility_ann_pct: null,
  sharpe: null,
  sortino: null,
  max_drawdown_pct: null,
  calmar: null,
  max_drawdown_duration_s: null,
};
const EXAMPLE_COMBINATION = {
  index: 12,
  params: { vol_ma_window: 20, vol_multiplier: 2, body_pct: 0.01, hold_period_bars: 3 },
  score: 4.21,
  portfolio: EXAMPLE_PORTFOLIO,
};

/** The body of POST /api/sweeps (SPEC §13); validated by libs/sweeps from the strategies' tables. */
export class SweepRequestDto {
  @ApiProperty({ enum: STRATEGY_NAMES, example: 'volume_long_candle' })
  strategy!: string;

  @ApiProperty({ type: [String], minItems: 1, maxItems: 20, example: ['ETH_BTC', 'LTC_BTC'] })
  symbols!: string[];

  @ApiProperty({ example: '5M' })
  timeframe!: string;

  @ApiProperty({ example: '2018-01-10', description: 'KST date, inclusive' })
  start_date!: string;

  @ApiProperty({ example: '2018-01-31', description: 'KST date, inclusive' })
  end_date!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'Per parameter, a list of values or {from, to, step} (to inclusive, each value rounded to the step’s decimals); every value range-checked by the strategy’s table. Combinations: table order, the last parameter fastest.',
    example: { vol_multiplier: { from: 1, to: 3, step: 0.25 }, body_pct: [0.005, 0.01, 0.02] },
  })
  grid!: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'The parameters held fixed (defaults for the rest); none may also be in grid',
    example: { hold_period_bars: 3 },
  })
  params?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'fee, slippage, positions (SPEC §12)',
    example: { fee: 0.001, slippage: 0, positions: 'overlap' },
  })
  execution?: Record<string, unknown>;

  @ApiPropertyOptional({
    enum: SWEEP_OBJECTIVES,
    default: 'total_return_pct',
    description: 'A portfolio figure; sharpe, sortino and calmar need positions single',
  })
  objective?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, default: 1 })
  min_trades?: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 50 })
  top?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `method: ${VALIDATION_METHODS.join(' | ')}; test_ratio 0.1–0.5 (0.3); folds 2–20 (5)`,
    example: { method: 'holdout', test_ratio: 0.3 },
  })
  validation?: Record<string, unknown>;
}

/** 202 of POST /api/sweeps. */
export class SweepAcceptedDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SWEEP_ID })
  sweep_id!: string;

  @ApiProperty({ enum: SWEEP_STATE_STATUSES, example: 'queued' })
  status!: SweepStateStatus;

  @ApiProperty({ type: 'integer', example: 27 })
  combinations!: number;
}

/** GET /api/sweeps/{id} and each of its SSE events. */
export class SweepStateDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SWEEP_ID })
  sweep_id!: string;

  @ApiProperty({ enum: SWEEP_STATE_STATUSES, example: 'running' })
  status!: SweepStateStatus;

  @ApiProperty({
    minimum: 0,
    maximum: 1,
    example: 0.4,
    description: 'done / combinations, only rising',
  })
  progress!: number;

  @ApiProperty({ type: 'integer', example: 27 })
  combinations!: number;

  @ApiProperty({ type: 'integer', example: 11, description: 'Combinations of the chunks finished' })
  done!: number;

  @ApiProperty({ type: 'integer', example: 3, description: 'Chunks the sweep is split into' })
  chunks!: number;

  @ApiProperty({ enum: SWEEP_OBJECTIVES, example: 'total_return_pct' })
  objective!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'The top-ranked combination (null until the sweep completes)',
    example: EXAMPLE_COMBINATION,
  })
  best!: Record<string, unknown> | null;

  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'The `top` best combinations, ranked; under holdout each with in_sample and out_of_sample',
    example: [EXAMPLE_COMBINATION],
  })
  top!: Record<string, unknown>[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'holdout: the windows and the best’s scores; walk_forward: folds[], oos_total_return_pct, efficiency',
    example: { method: 'walk_forward', folds: [], oos_total_return_pct: 1.8, efficiency: 0.42 },
  })
  validation!: Record<string, unknown> | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The validated request (grid as given, defaults filled in)',
    example: {
      strategy: 'volume_long_candle',
      symbols: ['ETH_BTC'],
      timeframe: '5M',
      start_date: '2018-01-10',
      end_date: '2018-01-31',
      grid: { vol_multiplier: [1, 2] },
    },
  })
  request!: Record<string, unknown>;

  @ApiProperty({ example: '2026-01-05T10:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ type: 'string', nullable: true, example: '2026-01-05T10:00:00.200Z' })
  started_at!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: null })
  finished_at!: string | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Why it failed; null otherwise',
  })
  error!: string | null;
}

/** A sweep of the catalogue's list. */
export class SweepSummaryDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_SWEEP_ID })
  sweep_id!: string;

  @ApiProperty({ enum: SWEEP_STATE_STATUSES, example: 'completed' })
  status!: SweepStateStatus;

  @ApiProperty({ example: 'volume_long_candle' })
  strategy!: string;

  @ApiProperty({ type: [String], example: ['ETH_BTC'] })
  symbols!: string[];

  @ApiProperty({ example: '5M' })
  timeframe!: string;

  @ApiProperty({ example: '2018-01-10' })
  start_date!: string;

  @ApiProperty({ example: '2018-01-31' })
  end_date!: string;

  @ApiProperty({ type: 'integer', example: 27 })
  combinations!: number;

  @ApiProperty({ type: 'integer', example: 27 })
  done!: number;

  @ApiProperty({
    minimum: 0,
    maximum: 1,
    example: 1,
    description:
      'done / combinations as the catalogue last recorded it (at submission and at the end)',
  })
  progress!: number;

  @ApiProperty({ example: 'total_return_pct' })
  objective!: string;

  @ApiProperty({ example: '2026-01-05T10:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ type: 'string', nullable: true, example: '2026-01-05T10:00:03.000Z' })
  finished_at!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: EXAMPLE_COMBINATION,
  })
  best!: Record<string, unknown> | null;

  @ApiProperty({ type: 'string', nullable: true, example: null })
  error!: string | null;
}

export class SweepListDto extends PageDto {
  @ApiProperty({ type: [SweepSummaryDto] })
  items!: SweepSummaryDto[];
}

export class SweepListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: STRATEGY_NAMES, description: 'Only this strategy’s sweeps' })
  @IsOptional()
  @IsIn(STRATEGY_NAMES, { message: `one of ${STRATEGY_NAMES.join(', ')}` })
  strategy?: string;

  @ApiPropertyOptional({ enum: SWEEP_STATE_STATUSES, description: 'Only sweeps in this status' })
  @IsOptional()
  @IsIn(SWEEP_STATE_STATUSES, { message: `one of ${SWEEP_STATE_STATUSES.join(', ')}` })
  status?: SweepStateStatus;
}
