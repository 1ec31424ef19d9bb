import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FieldProblem, InvalidInputError } from '@app/common';
import { MAX_SYMBOLS_PER_RUN, parseBacktestRequest } from '@app/backtest';
import { SYMBOL_PATTERN, SYMBOL_RULE, TIMEFRAMES } from '@app/data';
import { getStrategy, listStrategies } from '@app/strategies';
import { LibraryCheck, SatisfiesLibraryRule } from '../http/validation';
import { exampleParams, requestParamsSchema } from '../strategies/strategy-schemas';

/** parseBacktestRequest's problems with a request, computed once per request object. */
const problemsByRequest = new WeakMap<object, FieldProblem[]>();

function requestProblems(request: Record<string, unknown>): FieldProblem[] {
  let problems = problemsByRequest.get(request);
  if (problems === undefined) {
    try {
      parseBacktestRequest(request);
      problems = [];
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems = error.problems;
    }
    problemsByRequest.set(request, problems);
  }
  return problems;
}

/**
 * Checks the whole request with `parseBacktestRequest`, the one validation of a backtest
 * request (CLI, worker and API alike); each field reports its own problems (`params.x`,
 * `symbols[2]`...). Unknown fields are the whitelist's job.
 */
const checkRequest: LibraryCheck = (_value, request) => {
  const problems = requestProblems(request);
  if (problems.length > 0) throw new InvalidInputError(problems);
};

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

/** The body of POST /api/backtests/run and /run-async. */
export class BacktestRequestDto {
  @ApiProperty({
    enum: listStrategies().map((strategy) => strategy.name),
    example: EXAMPLE_BACKTEST_REQUEST.strategy,
    description: 'The strategy to run (GET /api/strategies lists them with their parameters)',
  })
  @SatisfiesLibraryRule(checkRequest)
  strategy!: string;

  @ApiPropertyOptional({
    ...requestParamsSchema(),
    example: EXAMPLE_BACKTEST_REQUEST.params,
    description:
      'The chosen strategy\'s parameters; omitted ones take their defaults. Numbers must be JSON numbers ("20" is refused).',
  })
  @SatisfiesLibraryRule(checkRequest)
  params?: Record<string, unknown>;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_SYMBOLS_PER_RUN,
    items: { type: 'string', pattern: SYMBOL_PATTERN.source },
    example: EXAMPLE_BACKTEST_REQUEST.symbols,
    description: `Symbols to test, each ${SYMBOL_RULE} (lower case accepted; duplicates dropped; at most ${MAX_SYMBOLS_PER_RUN} different ones)`,
  })
  @SatisfiesLibraryRule(checkRequest)
  symbols!: string[];

  @ApiProperty({
    enum: TIMEFRAMES,
    example: EXAMPLE_BACKTEST_REQUEST.timeframe,
    description: 'Candle interval (M = minutes; lower case accepted)',
  })
  @SatisfiesLibraryRule(checkRequest)
  timeframe!: string;

  @ApiProperty({
    format: 'date',
    example: EXAMPLE_BACKTEST_REQUEST.start_date,
    description: 'First day, a KST calendar date YYYY-MM-DD (inclusive)',
  })
  @SatisfiesLibraryRule(checkRequest)
  start_date!: string;

  @ApiProperty({
    format: 'date',
    example: EXAMPLE_BACKTEST_REQUEST.end_date,
    description: 'Last day, a KST calendar date YYYY-MM-DD (inclusive); not before start_date',
  })
  @SatisfiesLibraryRule(checkRequest)
  end_date!: string;
}
