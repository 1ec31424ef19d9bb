import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { numberFromQuery } from './validation';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

const LIMIT_RULE = `an integer from 1 to ${MAX_PAGE_LIMIT}`;
const OFFSET_RULE = `an integer from 0 to ${Number.MAX_SAFE_INTEGER}`;

/** `limit` and `offset` of a list endpoint. */
export class PageQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    default: DEFAULT_PAGE_LIMIT,
    description: 'Items per page',
  })
  @Transform(numberFromQuery)
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(MAX_PAGE_LIMIT, { message: LIMIT_RULE })
  limit: number = DEFAULT_PAGE_LIMIT;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: 'Items to skip',
  })
  @Transform(numberFromQuery)
  @IsInt({ message: OFFSET_RULE })
  @Min(0, { message: OFFSET_RULE })
  @Max(Number.MAX_SAFE_INTEGER, { message: OFFSET_RULE })
  offset: number = 0;
}

/** What every page of a list says besides its items. */
export class PageDto {
  @ApiProperty({
    type: 'integer',
    example: 42,
    description: 'Items matching the filters, over all pages',
  })
  total!: number;

  @ApiProperty({ type: 'integer', example: DEFAULT_PAGE_LIMIT })
  limit!: number;

  @ApiProperty({ type: 'integer', example: 0 })
  offset!: number;
}
