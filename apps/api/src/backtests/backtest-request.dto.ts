import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { BacktestRequest, MAX_SYMBOLS_PER_RUN, parsePresetName, parseSymbols } from '@app/backtest';
import { IsOptional } from 'class-validator';
import { kstDateRange, parseKstDate, SYMBOL_PATTERN, SYMBOL_RULE, TIMEFRAMES } from '@app/data';
import { parseTimeframe, Timeframe } from '@app/data';
import {
  EXECUTION_PARAMS,
  ExecutionSettings,
  getStrategy,
  listStrategies,
  resolveExecution,
  resolveParams,
  ResolvedParams,
} from '@app/strategies';
import { LibraryCheck, SatisfiesLibraryRule } from '../http/validation';
import {
  exampleParams,
  executionSchema,
  requestParamsSchema,
} from '../strategies/strategy-schemas';

/**
 * The strategy's parameters checked against its table (type, range, unknown names), with
 * the defaults filled in. An unknown strategy is the `strategy` field's problem alone.
 */
const checkParams: LibraryCheck = (value, request) => resolveParams(request.strategy, value).params;

/** A date bound: a KST date, and with both bounds given, start on or before end. */
function dateBound(field: 'start_date' | 'end_date'): LibraryCheck {
  return (value, request) => {
    if (typeof request.start_date === 'string' && typeof request.end_date === 'string') {
      kstDateRange(request.start_date, request.end_date);
    } else {
      parseKstDate(value, field);
    }
    return undefined;
  };
}

const EXAMPLE_STRATEGY = getStrategy('volume_long_candle') ?? listStrategies()[0];

/**
 * The docs' example, runnable as it is on the bundled sample data (Swagger UI's "Try it out"
 * must give a task that completes).
 */
export const EXAMPLE_BACKTEST_REQUEST = {
  strategy: EXAMPLE_STRATEGY.name,
  params: exampleParams(EXAMPLE_STRATEGY),
  symbols: ['ETH_BTC', 'LTC_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

/**
 * The body of POST /api/backtests/run and /run-async. Each field is checked by the libraries'
 * rule for it (the same rules parseBacktestRequest applies for the CLI), and a valid DTO holds
 * the normalised request: `toBacktestRequest` only reads it.
 */
export class BacktestRequestDto {
  @ApiPropertyOptional({
    example: 'Breakout 5m',
    description:
      "A saved preset (GET /api/strategies/presets) instead of `strategy`: its strategy and parameters, under this request's own `params`, which override them. Naming both a preset and a different strategy is a 422.",
  })
  @IsOptional()
  @SatisfiesLibraryRule((value) => parsePresetName(value, 'preset'))
  preset?: string;

  @ApiProperty({
    enum: listStrategies().map((strategy) => strategy.name),
    example: EXAMPLE_BACKTEST_REQUEST.strategy,
    description: 'The strategy to run (GET /api/strategies lists them with their parameters)',
  })
  @SatisfiesLibraryRule((value) => resolveParams(value, undefined).strategy.name)
  strategy!: string;

  @ApiPropertyOptional({
    ...requestParamsSchema(),
    example: EXAMPLE_BACKTEST_REQUEST.params,
    description:
      'The chosen strategy\'s parameters; omitted ones take their defaults (GET /api/strategies lists each one\'s type and range). A number typed into a form may come as a plain decimal string ("20", "0.5"), a boolean as "true"/"false".',
  })
  @SatisfiesLibraryRule(checkParams)
  params?: Record<string, unknown>;

  @ApiPropertyOptional({
    ...(executionSchema() as ApiPropertyOptions),
    example: Object.fromEntries(
      EXECUTION_PARAMS.map((spec) => [spec.name, 'example' in spec ? spec.example : spec.default]),
    ),
    description:
      'How trades are filled (SPEC §12): fee and slippage as fractions per fill, positions overlap (every signal a trade) or single (one open trade per symbol). Omitted fields take their defaults: no costs, overlapping trades.',
  })
  @SatisfiesLibraryRule((value) => resolveExecution(value))
  execution?: Record<string, unknown>;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_SYMBOLS_PER_RUN,
    items: { type: 'string', pattern: SYMBOL_PATTERN.source },
    example: EXAMPLE_BACKTEST_REQUEST.symbols,
    description: `Symbols to test, each ${SYMBOL_RULE} (lower case accepted; duplicates dropped; at most ${MAX_SYMBOLS_PER_RUN} different ones)`,
  })
  @SatisfiesLibraryRule((value) => parseSymbols(value))
  symbols!: string[];

  @ApiProperty({
    enum: TIMEFRAMES,
    example: EXAMPLE_BACKTEST_REQUEST.timeframe,
    description: 'Candle interval (M = minutes; lower case accepted)',
  })
  @SatisfiesLibraryRule((value) => parseTimeframe(value))
  timeframe!: string;

  @ApiProperty({
    format: 'date',
    example: EXAMPLE_BACKTEST_REQUEST.start_date,
    description: 'First day, a KST calendar date YYYY-MM-DD (inclusive)',
  })
  @SatisfiesLibraryRule(dateBound('start_date'))
  start_date!: string;

  @ApiProperty({
    format: 'date',
    example: EXAMPLE_BACKTEST_REQUEST.end_date,
    description: 'Last day, a KST calendar date YYYY-MM-DD (inclusive); not before start_date',
  })
  @SatisfiesLibraryRule(dateBound('end_date'))
  end_date!: string;

  /** The validated request this DTO holds once the validation pipe has passed it. */
  toBacktestRequest(): BacktestRequest {
    return {
      strategy: this.strategy,
      params: this.params as ResolvedParams,
      execution: this.execution as ExecutionSettings,
      symbols: this.symbols,
      timeframe: this.timeframe as Timeframe,
      start_date: this.start_date,
      end_date: this.end_date,
    };
  }
}
