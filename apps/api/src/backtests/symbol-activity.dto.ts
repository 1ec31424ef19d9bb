import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

/** The body of PATCH /api/backtests/{run_id}/symbols/{symbol} (SPEC §10.6). */
export class SymbolActivityDto {
  @ApiProperty({
    example: false,
    description: 'Whether the symbol counts in the run’s portfolio',
  })
  @IsBoolean({ message: 'true or false' })
  is_active!: boolean;
}

/** Its answer: the symbol and how it stands now. */
export class SymbolActivityResultDto {
  @ApiProperty({ example: 'ETH_BTC' })
  symbol!: string;

  @ApiProperty({ example: false })
  is_active!: boolean;
}
