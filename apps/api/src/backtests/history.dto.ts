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
import { HistoryStatus, RunRow } from '@app/catalogue';
import { TERMINAL_STATUSES, TerminalStatus } from '@app/common';
import { listStrategies } from '@app/strategies';
import { PageDto, PageQueryDto } from '../http/pagination.dto';
import { LibraryCheck, numberFromQuery, SatisfiesLibraryRule } from '../http/validation';

const STRATEGY_NAMES = listStrategies().map((strategy) => strategy.name);
const STRATEGY_RULE = `one of ${STRATEGY_NAMES.join(', ')}`;
/** SPEC §10.4: completed by default, `all` for every final status. */
const HISTORY_STATUSES: readonly HistoryStatus[] = [...TERMINAL_STATUSES, 'all'];
const STATUS_RULE = `one of ${HISTORY_STATUSES.join(', ')}`;
const NUMBER_RULE = 'a number';
const COUNT_RULE = 'an integer >= 0';

/**
 * One bound of a pair of date filters (`start_date`/`end_date`, or `date_from`/`date_to`): a
 * KST date, and with both bounds given, the first on or before the second (a 422 on both).
 */
function dateBound(
  field: 'start_date' | 'end_date' | 'date_from' | 'date_to',
  pair: { start: 'start_date' | 'date_from'; end: 'end_date' | 'date_to' },
): LibraryCheck {
  return (value, query) => {
    if (query[pair.start] !== undefined && query[pair.end] !== undefined) {
      kstDateRange(query[pair.start], query[pair.end], pair);
    } else {
      parseKstDate(value, field);
    }
  };
}
const OVERLAP = { start: 'start_date', end: 'end_date' } as const;
const CONTAINMENT = { start: 'date_from', end: 'date_to' } as const;

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
    enum: HISTORY_STATUSES,
    default: 'completed',
    description: 'Runs that ended this way; `all` for every one (SPEC §10.4)',
  })
  @IsOptional()
  @IsIn(HISTORY_STATUSES, { message: STATUS_RULE })
  status: HistoryStatus = 'completed';

  @ApiPropertyOptional({
    format: 'date',
    example: '2018-01-01',
    description:
      "Runs whose date range overlaps [start_date, end_date]: the run's end_date is on or after this KST date",
  })
  @IsOptional()
  @SatisfiesLibraryRule(dateBound('start_date', OVERLAP))
  start_date?: string;

  @ApiPropertyOptional({
    format: 'date',
    example: '2018-01-31',
    description:
      "Runs whose date range overlaps [start_date, end_date]: the run's start_date is on or before this KST date",
  })
  @IsOptional()
  @SatisfiesLibraryRule(dateBound('end_date', OVERLAP))
  end_date?: string;

  @ApiPropertyOptional({
    format: 'date',
    example: '2018-01-01',
    description:
      "Runs inside [date_from, date_to]: the run's start_date is on or after this KST date",
  })
  @IsOptional()
  @SatisfiesLibraryRule(dateBound('date_from', CONTAINMENT))
  date_from?: string;

  @ApiPropertyOptional({
    format: 'date',
    example: '2018-01-31',
    description:
      "Runs inside [date_from, date_to]: the run's end_date is on or before this KST date",
  })
  @IsOptional()
  @SatisfiesLibraryRule(dateBound('date_to', CONTAINMENT))
  date_to?: string;

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

  @ApiProperty({
    format: 'uuid',
    example: '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
    description: 'The same as task_id (SPEC §10.4: what the clients of the replaced system read)',
  })
  run_id!: string;

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

  @ApiProperty({
    example: '2026-01-05T10:00:01.200Z',
    description: 'The finish time again (SPEC §10.4)',
  })
  timestamp!: string;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 1.2,
    description:
      "Seconds: the result document's execution_time for a completed run, duration_ms / 1000 otherwise",
  })
  execution_time!: number | null;

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

  /** A catalogue row as the history lists it (no file is opened for a page). */
  static of(row: RunRow): RunSummaryDto {
    return {
      task_id: row.id,
      run_id: row.id,
      status: row.status,
      strategy: row.strategy,
      params: { ...row.params },
      symbols: [...row.symbols],
      timeframe: row.timeframe,
      start_date: row.start_date,
      end_date: row.end_date,
      created_at: row.created_at,
      finished_at: row.finished_at,
      timestamp: row.finished_at,
      duration_ms: row.duration_ms,
      execution_time: row.execution_time,
      total_signals: row.total_signals,
      symbols_processed: row.symbols_processed,
      symbols_failed: row.symbols_failed,
      avg_return: row.avg_return,
      error: row.error,
    };
  }
}

export class HistoryPageDto extends PageDto {
  @ApiProperty({ type: [RunSummaryDto], description: 'Newest finished first' })
  items!: RunSummaryDto[];
}
