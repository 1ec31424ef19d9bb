import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional } from 'class-validator';
import {
  InventoryEntry,
  parseSymbol,
  parseTimeframe,
  parseYear,
  SYMBOL_RULE,
  Timeframe,
  TIMEFRAMES,
} from '@app/data';
import { PageDto, PageQueryDto } from '../http/pagination.dto';
import { numberFromQuery, SatisfiesLibraryRule } from '../http/validation';

/** Filters and page of GET /api/data/inventory. */
export class InventoryQueryDto extends PageQueryDto {
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
}

export class InventoryEntryDto implements InventoryEntry {
  @ApiProperty({ example: 'ETH_BTC' })
  symbol!: string;

  @ApiProperty({ enum: TIMEFRAMES, example: '5M' })
  timeframe!: Timeframe;

  @ApiProperty({ example: 2018 })
  year!: number;

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

  @ApiProperty({ example: 151234 })
  size_bytes!: number;

  @ApiProperty({ example: 'ETH_BTC/5M/2018.parquet', description: 'Relative to DATA_ROOT' })
  path!: string;

  @ApiPropertyOptional({
    example: 'not a Parquet file',
    description: 'Only for a file that cannot be read',
  })
  error?: string;
}

export class InventoryPageDto extends PageDto {
  @ApiProperty({ type: [InventoryEntryDto], description: 'By symbol, timeframe, year' })
  items!: InventoryEntryDto[];
}
