import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  Min,
  registerDecorator,
  ValidationArguments,
} from 'class-validator';
import { kstDateRange, parseKstDate, parseSymbol, SYMBOL_RULE } from '@app/data';
import { TERMINAL_STATUSES, TerminalStatus } from '@app/common';
import { Manifest } from '@app/storage';
import { listStrategies } from '@app/strategies';
import { PageDto, PageQueryDto } from '../http/pagination.dto';
import { LibraryCheck, numberFromQuery, SatisfiesLibraryRule } from '../http/validation';

const STRATEGY_NAMES = listStrategies().map((strategy) => strategy.name);
const STRATEGY_RULE = `one of ${STRATEGY_NAMES.join(', ')}`;
const STATUS_RULE = `one of ${TERMINAL_STATUSES.join(', ')}`;
const NUMBER_RULE = 'a number';
const COUNT_RULE = 'an integer >= 0';

/** One bound of a date filter: a KST date, and with both bounds given, start on or before end. */
function dateBound(field: 'start_date' | 'end_date'): LibraryCheck {
  return (value, query) => {
    if (query.start_date !== undefined && query.end_date !== undefined) {
      kstDateRange(query.start_date, query.end_date);
    } else {
      parseKstDate(value, field);
    }
  };
}

/**
 * A lower bound (`min_x`) must not exceed its upper bound (`max_x`): a reversed range is
 * reported on both fields. Only compared when both are numbers (the type rules say the rest).
 */
function OrderedRange(minField: string, maxField: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'orderedRange',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(_value: unknown, { object }: ValidationArguments): boolean {
          const { [minField]: min, [maxField]: max } = object as Record<string, unknown>;
          return !(typeof min === 'number' && typeof max === 'number' && min > max);
        },
        defaultMessage({ property, object }: ValidationArguments): string {
          const query = object as Record<string, unknown>;
          return property === minField
            ? `a value not above ${maxField} (${String(query[maxField])})`
            : `a value not below ${minField} (${String(query[minField])})`;
        },
      },
    });
  };
}

/** Filters and page of GET /api/backtests/history. */
export class HistoryQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: STRATEGY_NAMES, description: 'Runs of this strategy' })
  @IsOptional()
  @IsIn(STRATEGY_NAMES, { message: STRATEGY_RULE })
  strategy?: string;

  @ApiPropertyOptional({
    example: 'ETH_BTC',
    description: `Runs including this symbol (${SYMBOL_RULE})`,
  })
  @IsOptional()
  @SatisfiesLibraryRule((value) => parseSymbol(value, 'symbol'))
  symbol?: string;

  @ApiPropertyOptional({
    enum: TERMINAL_STATUSES,
    description: 'Runs that ended this way (default: all)',
  })
  @IsOptional()
  @IsIn(TERMINAL_STATUSES, { message: STATUS_RULE })
  status?: TerminalStatus;

  @ApiPropertyOptional({
    format: 'date',
    example: '2018-01-01',
    description:
      "Runs whose date range overlaps [start_date, end_date]: the run's end_date is on or after this KST date",
  })
  @IsOptional()
  @SatisfiesLibraryRule(dateBound('start_date'))
  start_date?: string;

  @ApiPropertyOptional({
    format: 'date',
    example: '2018-01-31',
    description:
      "Runs whose date range overlaps [start_date, end_date]: the run's start_date is on or before this KST date",
  })
  @IsOptional()
  @SatisfiesLibraryRule(dateBound('end_date'))
  end_date?: string;

  @ApiPropertyOptional({
    description: 'Runs whose average trade return (percent) is at least this',
  })
  @IsOptional()
  @Transform(numberFromQuery)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: NUMBER_RULE })
  @OrderedRange('min_return', 'max_return')
  min_return?: number;

  @ApiPropertyOptional({ description: 'Runs whose average trade return (percent) is at most this' })
  @IsOptional()
  @Transform(numberFromQuery)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: NUMBER_RULE })
  @OrderedRange('min_return', 'max_return')
  max_return?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'Runs with at least this many signals' })
  @IsOptional()
  @Transform(numberFromQuery)
  @IsInt({ message: COUNT_RULE })
  @Min(0, { message: COUNT_RULE })
  @OrderedRange('min_signals', 'max_signals')
  min_signals?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'Runs with at most this many signals' })
  @IsOptional()
  @Transform(numberFromQuery)
  @IsInt({ message: COUNT_RULE })
  @Min(0, { message: COUNT_RULE })
  @OrderedRange('min_signals', 'max_signals')
  max_signals?: number;
}

/** One run of the history: what it asked for and how it went, without its signals. */
export class RunSummaryDto {
  @ApiProperty({ format: 'uuid', example: '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3' })
  task_id!: string;

  @ApiProperty({ enum: TERMINAL_STATUSES, example: 'completed' })
  status!: TerminalStatus;

  @ApiProperty({ example: 'volume_long_candle' })
  strategy!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { vol_ma_window: 20 } })
  params!: Record<string, unknown>;

  @ApiProperty({ type: [String], example: ['ETH_BTC', 'LTC_BTC'] })
  symbols!: string[];

  @ApiProperty({ example: '5M' })
  timeframe!: string;

  @ApiProperty({ format: 'date', example: '2018-01-10' })
  start_date!: string;

  @ApiProperty({ format: 'date', example: '2018-01-31' })
  end_date!: string;

  @ApiProperty({ type: 'string', nullable: true, example: '2026-01-05T10:00:00.000Z' })
  created_at!: string | null;

  @ApiProperty({ example: '2026-01-05T10:00:01.200Z' })
  finished_at!: string;

  @ApiProperty({ type: 'number', nullable: true, example: 1200 })
  duration_ms!: number | null;

  @ApiProperty({ example: 21 })
  total_signals!: number;

  @ApiProperty({ example: 2 })
  symbols_processed!: number;

  @ApiProperty({ example: 0 })
  symbols_failed!: number;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 0.12,
    description: 'Mean return over every trade of the run, percent; null without trades',
  })
  avg_return!: number | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Why it failed or was cancelled',
  })
  error!: string | null;

  static of(manifest: Manifest): RunSummaryDto {
    return {
      task_id: manifest.task_id,
      status: manifest.status,
      strategy: manifest.strategy,
      params: manifest.params,
      symbols: [...manifest.symbols],
      timeframe: manifest.timeframe,
      start_date: manifest.start_date,
      end_date: manifest.end_date,
      created_at: manifest.metadata.created_at,
      finished_at: manifest.metadata.finished_at,
      duration_ms: manifest.metadata.duration_ms,
      total_signals: manifest.summary.total_signals,
      symbols_processed: manifest.summary.symbols_processed,
      symbols_failed: manifest.summary.symbols_failed,
      avg_return: manifest.summary.avg_return,
      error: manifest.error.message,
    };
  }
}

export class HistoryPageDto extends PageDto {
  @ApiProperty({ type: [RunSummaryDto], description: 'Newest finished first' })
  items!: RunSummaryDto[];
}
