import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { InvalidInputError } from '@app/common';
import { parseIsoTimestamp, parseSymbol, parseTimeframe, SYMBOL_RULE, TIMEFRAMES } from '@app/data';
import { numberFromQuery, SatisfiesLibraryRule } from '../http/validation';
import { CandleWindow, MAX_WINDOW_CANDLES } from './candle-window';

const TIME_RULE =
  'an ISO-8601 time such as 2024-01-01T00:00:00Z (without a zone the time is KST, the domain rule)';
const LIMIT_RULE = `an integer from 1 to ${MAX_WINDOW_CANDLES}`;

function isoTime(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? parseIsoTimestamp(value) : undefined;
  if (ms === undefined) throw InvalidInputError.of(field, value, TIME_RULE);
  return ms;
}

/** `to`: a time, and after `from` when `from` is one (it may be parsed already, to ms). */
function windowEnd(value: unknown, query: Record<string, unknown>): number {
  const toMs = isoTime(value, 'to');
  const from = query.from;
  const fromMs =
    typeof from === 'number'
      ? from
      : typeof from === 'string'
        ? parseIsoTimestamp(from)
        : undefined;
  if (fromMs !== undefined && toMs <= fromMs) {
    throw InvalidInputError.of(
      'to',
      value,
      `a time after from (${new Date(fromMs).toISOString()})`,
    );
  }
  return toMs;
}

/** GET /api/data/candles: a window of one symbol's candles, for a chart zooming in. */
export class CandlesQueryDto {
  @ApiProperty({ example: 'ETH_BTC', description: SYMBOL_RULE })
  @SatisfiesLibraryRule((value) => parseSymbol(value, 'symbol'))
  symbol!: string;

  @ApiProperty({ enum: TIMEFRAMES, example: '5M', description: 'Lower case accepted' })
  @SatisfiesLibraryRule((value) => parseTimeframe(value, 'timeframe'))
  timeframe!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    example: '2018-01-10T00:00:00Z',
    description: `First candle time, inclusive: ${TIME_RULE}`,
  })
  @SatisfiesLibraryRule((value) => isoTime(value, 'from'))
  from!: number;

  @ApiProperty({
    type: String,
    format: 'date-time',
    example: '2018-01-11T00:00:00Z',
    description: 'End of the window, exclusive; after `from`',
  })
  @SatisfiesLibraryRule(windowEnd)
  to!: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_WINDOW_CANDLES,
    default: MAX_WINDOW_CANDLES,
    description: 'At most this many candles, the first ones of the window',
  })
  @Transform(numberFromQuery)
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(MAX_WINDOW_CANDLES, { message: LIMIT_RULE })
  limit: number = MAX_WINDOW_CANDLES;
}

const COLUMN: ApiPropertyOptions = {
  type: [Number],
  example: [0.0859, 0.0861, 0.086],
  description: 'One value per candle, in time order',
};

export class CandleWindowDto implements CandleWindow {
  @ApiProperty({ example: 'ETH_BTC' })
  symbol!: string;

  @ApiProperty({ enum: TIMEFRAMES, example: '5M' })
  timeframe!: string;

  @ApiProperty({ example: '2018-01-10T00:00:00.000Z', description: 'The window asked for, UTC' })
  from!: string;

  @ApiProperty({ example: '2018-01-11T00:00:00.000Z' })
  to!: string;

  @ApiProperty({ example: 20000 })
  limit!: number;

  @ApiProperty({ example: 288, description: 'Candles in this answer' })
  count!: number;

  @ApiProperty({ example: false, description: 'More candles lie in the window past `limit`' })
  truncated!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    example: null,
    description: 'When truncated: the time of the first candle left out (ask again from there)',
  })
  next_from!: string | null;

  @ApiProperty({
    enum: ['delta_seconds'],
    example: 'delta_seconds',
    description: 'How `time` is written',
  })
  time_encoding!: 'delta_seconds';

  @ApiProperty({
    type: [Number],
    example: [1515542400, 300, 300],
    description:
      'Open time of each candle in UTC epoch seconds, delta-encoded as in chart.json: the first value is the time, each next one the seconds since the one before',
  })
  time!: number[];

  @ApiProperty(COLUMN)
  open!: number[];

  @ApiProperty(COLUMN)
  high!: number[];

  @ApiProperty(COLUMN)
  low!: number[];

  @ApiProperty(COLUMN)
  close!: number[];

  @ApiProperty(COLUMN)
  volume!: number[];
}
