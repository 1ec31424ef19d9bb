import { ApiExtraModels, ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { nullableRef } from '../openapi/nullable';
import {
  CHART_VERSION,
  ChartDocument,
  ChartEquity,
  ChartMarkerCounts,
  ChartOverview,
  ChartTrades,
  MAX_MARKERS_PER_SYMBOL,
  OVERVIEW_MAX_BARS,
  SymbolChart,
} from '@app/backtest';
import type { PositionMode } from '@app/strategies';

const TIMES: ApiPropertyOptions = {
  type: [Number],
  example: [1515560100, 900, 900],
  description:
    'UTC epoch seconds, delta-encoded: the first value is the time, each next one the seconds since the one before',
};
const PER_BAR: ApiPropertyOptions = {
  type: [Number],
  example: [0.0859, 0.0861],
  description: 'One value per overview bar',
};

class ChartOverviewDto implements ChartOverview {
  @ApiProperty({ ...TIMES, description: `Each bar's first candle time. ${TIMES.description}` })
  time!: number[];
  @ApiProperty(PER_BAR) open!: number[];
  @ApiProperty(PER_BAR) high!: number[];
  @ApiProperty(PER_BAR) low!: number[];
  @ApiProperty(PER_BAR) close!: number[];
  @ApiProperty({ ...PER_BAR, description: "Summed over the bar's candles" }) volume!: number[];
}

class ChartTradesDto implements ChartTrades {
  @ApiProperty({
    ...TIMES,
    description: `Each trade's entry candle, in trade order. ${TIMES.description}`,
  })
  entry_time!: number[];
  @ApiProperty({ ...TIMES, description: `Each trade's exit candle. ${TIMES.description}` })
  exit_time!: number[];
}

class ChartMarkerCountsDto implements ChartMarkerCounts {
  @ApiProperty({ ...PER_BAR, example: [0, 2], description: 'Entries in each overview bar' })
  entries!: number[];
  @ApiProperty({ ...PER_BAR, example: [1, 1], description: 'Exits in each overview bar' })
  exits!: number[];
}

class ChartEquityDto implements ChartEquity {
  @ApiProperty({
    enum: ['trade_equity', 'bar_equity'],
    example: 'trade_equity',
    description:
      'trade_equity (positions overlap): the compounded equity E after the trades exited by the bar; bar_equity (single): the account equity B at the bar’s last candle',
  })
  basis!: 'trade_equity' | 'bar_equity';
  @ApiProperty({
    ...PER_BAR,
    description: 'Equity at the end of each bar, 1 = the start (8 significant digits)',
  })
  equity!: number[];
  @ApiProperty({
    ...PER_BAR,
    example: [0, 0.4035],
    description: 'Deepest drawdown inside each bar, percent (positive)',
  })
  drawdown_pct!: number[];
}

@ApiExtraModels(ChartTradesDto, ChartMarkerCountsDto)
class SymbolChartDto implements SymbolChart {
  @ApiProperty({ example: 'ETH_BTC' }) symbol!: string;
  @ApiProperty({ example: 5760, description: 'Candles in range' }) candles!: number;
  @ApiProperty({ example: 3, description: 'Candles per overview bar (1: the candles themselves)' })
  bucket_candles!: number;
  @ApiProperty({ example: 3 }) trade_count!: number;
  @ApiProperty({ type: ChartOverviewDto }) overview!: ChartOverviewDto;
  @ApiProperty({
    ...nullableRef(ChartTradesDto),
    description: `Null past ${MAX_MARKERS_PER_SYMBOL} markers (2 per trade): see marker_counts`,
  })
  trades!: ChartTradesDto | null;
  @ApiProperty(nullableRef(ChartMarkerCountsDto))
  marker_counts!: ChartMarkerCountsDto | null;
  @ApiProperty({ type: ChartEquityDto }) equity!: ChartEquityDto;
}

export class ChartDocumentDto implements ChartDocument {
  @ApiProperty({ enum: [CHART_VERSION], example: CHART_VERSION }) version!: typeof CHART_VERSION;
  @ApiProperty({ format: 'uuid', example: '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3' }) run_id!: string;
  @ApiProperty({ example: 'volume_long_candle' }) strategy!: string;
  @ApiProperty({ example: '5M' }) timeframe!: string;
  @ApiProperty({ format: 'date', example: '2018-01-10' }) start_date!: string;
  @ApiProperty({ format: 'date', example: '2018-01-31' }) end_date!: string;
  @ApiProperty({ enum: ['overlap', 'single'], example: 'overlap' }) positions!: PositionMode;
  @ApiProperty({ enum: ['delta_seconds'], example: 'delta_seconds' })
  time_encoding!: 'delta_seconds';
  @ApiProperty({ example: OVERVIEW_MAX_BARS }) overview_max_bars!: number;
  @ApiProperty({ example: MAX_MARKERS_PER_SYMBOL }) max_markers!: number;
  @ApiProperty({ type: [SymbolChartDto], description: 'The symbols that had candles, in order' })
  symbols!: SymbolChartDto[];
}
