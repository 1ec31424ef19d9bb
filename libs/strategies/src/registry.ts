import { Candles, FieldProblem, InvalidInputError } from '@app/common';
import { ParamsOf, ParamSpec, ResolvedParams, validateParams } from './params';
import { StrategyRunOptions, StrategySignals } from './signals';
import {
  VOLUME_LONG_CANDLE_PARAMS,
  volumeLongCandle,
  VolumeLongCandleGrid,
} from './volume-long-candle';
import { VOLUME_ZONE_BREAKOUT_PARAMS, volumeZoneBreakout } from './volume-zone-breakout';

export interface StrategyDefinition {
  readonly name: string;
  /** What the strategy looks for, for people reading the API docs. */
  readonly description: string;
  /** The parameter table: validation, OpenAPI schema and `GET /api/strategies` all read it. */
  readonly params: readonly ParamSpec[];
  /** Runs over one symbol's candles; `params` must come from {@link resolveParams}. */
  run(candles: Candles, params: ResolvedParams, options?: StrategyRunOptions): StrategySignals;
  /**
   * For a parameter sweep over one series: a runner that shares work between the
   * combinations and gives exactly `run`'s signals. Without one, a sweep calls `run`.
   */
  grid?(candles: Candles): StrategyGrid;
}

/** Runs of one strategy over one series that share work (see StrategyDefinition.grid). */
export interface StrategyGrid {
  run(params: ResolvedParams, options?: StrategyRunOptions): StrategySignals;
}

/** Ties a strategy function to its table; resolveParams is what makes the cast sound. */
function defineStrategy<const Table extends readonly ParamSpec[]>(definition: {
  name: string;
  description: string;
  params: Table;
  run: (candles: Candles, params: ParamsOf<Table>, options?: StrategyRunOptions) => StrategySignals;
  grid?: (candles: Candles) => {
    run(params: ParamsOf<Table>, options?: StrategyRunOptions): StrategySignals;
  };
}): StrategyDefinition {
  const { name, description, params, run, grid } = definition;
  return {
    name,
    description,
    params,
    run: (candles, resolved, options) => run(candles, resolved as ParamsOf<Table>, options),
    ...(grid && {
      grid: (candles: Candles): StrategyGrid => {
        const shared = grid(candles);
        return { run: (resolved, options) => shared.run(resolved as ParamsOf<Table>, options) };
      },
    }),
  };
}

const STRATEGIES: readonly StrategyDefinition[] = [
  defineStrategy({
    name: 'volume_long_candle',
    description:
      'Buys at the close of a long bullish candle (a large body, small wicks) traded on a volume surge above the recent average.',
    params: VOLUME_LONG_CANDLE_PARAMS,
    run: volumeLongCandle,
    grid: (candles) => new VolumeLongCandleGrid(candles),
  }),
  defineStrategy({
    name: 'volume_zone_breakout',
    description:
      'Builds a volume-by-price profile of the preceding bars and buys at the close of a bar that breaks above the high-volume resistance zone.',
    params: VOLUME_ZONE_BREAKOUT_PARAMS,
    run: volumeZoneBreakout,
  }),
];

export function listStrategies(): readonly StrategyDefinition[] {
  return STRATEGIES;
}

export function getStrategy(name: string): StrategyDefinition | undefined {
  return STRATEGIES.find((strategy) => strategy.name === name);
}

/**
 * Validates a request's strategy name and parameters and fills in the defaults. Every problem
 * is collected into one InvalidInputError: an unknown strategy (listing the known ones), an
 * unknown parameter (listing the strategy's), a value of the wrong type or out of range.
 * An int must be an integer, a float a finite number, a bool a boolean. As SPEC §10.3 asks
 * (web forms send text), a string that is a plain decimal ("20", "20.0", "-0.5") counts as that
 * number and "true"/"false" as that boolean, then is checked as usual; any other string
 * ("1e3", " 5", "0x10", "") is refused, as is null for a parameter. params undefined or null
 * means every default.
 */
export function resolveParams(
  strategyName: unknown,
  params: unknown,
  fieldPrefix = 'params',
): { strategy: StrategyDefinition; params: ResolvedParams } {
  const problems: FieldProblem[] = [];
  const strategy = typeof strategyName === 'string' ? getStrategy(strategyName) : undefined;
  if (!strategy) {
    problems.push({
      field: 'strategy',
      value: strategyName,
      allowed: `one of ${STRATEGIES.map((known) => known.name).join(', ')}`,
    });
  }
  const given = params ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) {
    problems.push({ field: fieldPrefix, value: params, allowed: 'an object of parameter values' });
  }
  if (!strategy || problems.length > 0) throw new InvalidInputError(problems);
  const resolved = validateParams(
    strategy.params,
    given as Readonly<Record<string, unknown>>,
    fieldPrefix,
    problems,
  );
  if (problems.length > 0) throw new InvalidInputError(problems);
  return { strategy, params: resolved };
}
