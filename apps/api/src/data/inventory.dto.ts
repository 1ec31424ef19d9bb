import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import {
  InventoryEntry,
  parseSymbol,
  parseTimeframe,
  parseYear,
  SYMBOL_RULE,
  Timeframe,
  TIMEFRAMES,
} from '@app/data';
import { numberFromQuery, SatisfiesLibraryRule } from '../http/validation';

export const INVENTORY_DEFAULT_LIMIT = 50;
export const INVENTORY_MAX_LIMIT = 200;
const LIMIT_RULE = `an integer from 1 to ${INVENTORY_MAX_LIMIT}`;
const OFFSET_RULE = `an integer from 0 to ${Number.MAX_SAFE_INTEGER}`;

/** Filters and page of GET /api/data/inventory (SPEC §10.5). */
export class InventoryQueryDto {
  @ApiPropertyOptional({ example: 'ETH_BTC', description: SYMBOL_RULE })
  @IsOptional()
  @SatisfiesLibraryRule((value) => parseSymbol(value, 'symbol'))
  symbol?: string;

  @ApiPropertyOptional({ enum: TIMEFRAMES, example: '5M', description: 'Lower case accepted' })
  @IsOptional()
  @SatisfiesLibraryRule((value) => parseTimeframe(value, 'timeframe'))
  timeframe?: string;

  @ApiPropertyOptional({ example: 2018, description: 'Calendar year of the file' })
  @IsOptional()
  @Transform(numberFromQuery)
  @SatisfiesLibraryRule((value) => parseYear(value, 'year'))
  year?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: INVENTORY_MAX_LIMIT,
    default: INVENTORY_DEFAULT_LIMIT,
    description: 'Files per page',
  })
  @Transform(numberFromQuery)
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(INVENTORY_MAX_LIMIT, { message: LIMIT_RULE })
  limit: number = INVENTORY_DEFAULT_LIMIT;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: 'Files to skip',
  })
  @Transform(numberFromQuery)
  @IsInt({ message: OFFSET_RULE })
  @Min(0, { message: OFFSET_RULE })
  @Max(Number.MAX_SAFE_INTEGER, { message: OFFSET_RULE })
  offset: number = 0;
}

export class InventoryFileDto implements InventoryEntry {
  @ApiProperty({ example: 'ETH_BTC' })
  symbol!: string;

  @ApiProperty({ enum: TIMEFRAMES, example: '5M' })
  timeframe!: Timeframe;

  @ApiProperty({ example: 2018 })
  year!: number;

  @ApiProperty({ example: 'ETH_BTC/5M/2018.parquet', description: 'Relative to DATA_ROOT' })
  relative_path!: string;

  @ApiProperty({ example: 151234 })
  size_bytes!: number;

  @ApiProperty({ example: '2026-11-30T08:12:44.120Z', description: 'When the file last changed' })
  modified_at!: string;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 6048,
    description: 'Null when unreadable',
  })
  rows!: number | null;

  @ApiProperty({ type: 'string', nullable: true, example: '2018-01-10T04:55:00.000Z' })
  first_timestamp!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: '2018-01-31T14:55:00.000Z' })
  last_timestamp!: string | null;

  @ApiPropertyOptional({
    example: 'not a Parquet file',
    description: 'Only for a file that cannot be read',
  })
  error?: string;
}

/** SPEC §10.5: what the client of the system this replaces reads. */
export class InventoryPageDto {
  @ApiProperty({ type: [InventoryFileDto], description: 'Newest modified_at first, ties by path' })
  files!: InventoryFileDto[];

  @ApiProperty({ type: 'integer', example: 12, description: 'Files matching the filters' })
  total_count!: number;

  @ApiProperty({ type: 'integer', example: INVENTORY_DEFAULT_LIMIT })
  limit!: number;

  @ApiProperty({ type: 'integer', example: 0 })
  offset!: number;
}
