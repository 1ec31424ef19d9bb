import { ApiProperty } from '@nestjs/swagger';

/** 200 of POST /api/data/upload (SPEC §10.8). */
export class UploadResultDto {
  @ApiProperty({ example: true })
  success!: boolean;

  @ApiProperty({ example: 'Stored 8784 candles (csv) as BTC_KRW/1H/2024.parquet' })
  message!: string;

  @ApiProperty({ example: 'BTC_KRW/1H/2024.parquet', description: 'Relative to DATA_ROOT' })
  file_path!: string;
}
