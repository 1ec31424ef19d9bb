import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
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
  description:
    'UTC epoch seconds, delta-encoded: the first value is the time, each next one the seconds since the one before',
};
const PER_BAR: ApiPropertyOptions = { type: [Number], description: 'One value per overview bar' };

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
  @ApiProperty({ ...PER_BAR, description: 'Entries in each overview bar' }) entries!: number[];
  @ApiProperty({ ...PER_BAR, description: 'Exits in each overview bar' }) exits!: number[];
}

class ChartEquityDto implements ChartEquity {
  @ApiProperty({
    enum: ['trade_equity', 'bar_equity'],
    description:
      'trade_equity (positions overlap): the compounded equity E after the trades exited by the bar; bar_equity (single): the account equity B at the bar’s last candle',
  })
  basis!: 'trade_equity' | 'bar_equity';
  @ApiProperty({
    ...PER_BAR,
    description: 'Equity at the end of each bar, 1 = the start (8 significant digits)',
  })
  equity!: number[];
  @ApiProperty({ ...PER_BAR, description: 'Deepest drawdown inside each bar, percent (positive)' })
  drawdown_pct!: number[];
}

class SymbolChartDto implements SymbolChart {
  @ApiProperty({ example: 'ETH_BTC' }) symbol!: string;
  @ApiProperty({ description: 'Candles in range' }) candles!: number;
  @ApiProperty({ description: 'Candles per overview bar (1: the candles themselves)' })
  bucket_candles!: number;
  @ApiProperty() trade_count!: number;
  @ApiProperty({ type: ChartOverviewDto }) overview!: ChartOverviewDto;
  @ApiProperty({
    type: ChartTradesDto,
    nullable: true,
    description: `Null past ${MAX_MARKERS_PER_SYMBOL} markers (2 per trade): see marker_counts`,
  })
  trades!: ChartTradesDto | null;
  @ApiProperty({ type: ChartMarkerCountsDto, nullable: true })
  marker_counts!: ChartMarkerCountsDto | null;
  @ApiProperty({ type: ChartEquityDto }) equity!: ChartEquityDto;
}

export class ChartDocumentDto implements ChartDocument {
  @ApiProperty({ enum: [CHART_VERSION] }) version!: typeof CHART_VERSION;
  @ApiProperty({ format: 'uuid' }) run_id!: string;
  @ApiProperty({ example: 'volume_long_candle' }) strategy!: string;
  @ApiProperty({ example: '5M' }) timeframe!: string;
  @ApiProperty({ format: 'date' }) start_date!: string;
  @ApiProperty({ format: 'date' }) end_date!: string;
  @ApiProperty({ enum: ['overlap', 'single'] }) positions!: PositionMode;
  @ApiProperty({ enum: ['delta_seconds'] }) time_encoding!: 'delta_seconds';
  @ApiProperty({ example: OVERVIEW_MAX_BARS }) overview_max_bars!: number;
  @ApiProperty({ example: MAX_MARKERS_PER_SYMBOL }) max_markers!: number;
  @ApiProperty({ type: [SymbolChartDto], description: 'The symbols that had candles, in order' })
  symbols!: SymbolChartDto[];
}
