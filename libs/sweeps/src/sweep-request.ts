import { InvalidInputError, ProblemCollector } from '@app/common';
import { kstDateRange, parseTimeframe, Timeframe } from '@app/data';
import {
  describeAllowedValues,
  ExecutionSettings,
  isAllowedValue,
  ParamSpec,
  ParamValue,
  resolveExecution,
  resolveParams,
  ResolvedParams,
  StrategyDefinition,
} from '@app/strategies';
import { parseSymbols } from '@app/backtest';
import { SweepWindow, sweepWindows } from './windows';

/** SPEC §13: the objectives a sweep may rank by, all figures of §12's `portfolio`. */
export const SWEEP_OBJECTIVES = [
  'total_return_pct',
  'sharpe',
  'sortino',
  'calmar',
  'profit_factor',
  'sqn',
  'win_rate',
  'avg_return',
] as const;
export type SweepObjective = (typeof SWEEP_OBJECTIVES)[number];

/** Objectives that are figures of the account's equity: null unless `positions: single`. */
const ACCOUNT_OBJECTIVES: readonly SweepObjective[] = ['sharpe', 'sortino', 'calmar'];

export const VALIDATION_METHODS = ['none', 'holdout', 'walk_forward'] as const;
export type ValidationMethod = (typeof VALIDATION_METHODS)[number];

export const MAX_SWEEP_SYMBOLS = 20;

export const SWEEP_REQUEST_FIELDS = [
  'strategy',
  'symbols',
  'timeframe',
  'start_date',
  'end_date',
  'grid',
  'params',
  'execution',
  'objective',
  'min_trades',
  'top',
  'validation',
] as const;

export interface SweepValidation {
  method: ValidationMethod;
  test_ratio: number;
  folds: number;
}

/** A validated sweep request: every field resolved, the grid as value lists in table order. */
export interface SweepRequest {
  strategy: string;
  symbols: string[];
  timeframe: Timeframe;
  start_date: string;
  end_date: string;
  /** The request's grid as given ({from,to,step} or a list), for the reports to draw axes. */
  grid: Record<string, readonly ParamValue[] | { from: number; to: number; step: number }>;
  /** The parameters held fixed, defaults filled in (the gridded ones left out). */
  params: Record<string, ParamValue>;
  execution: ExecutionSettings;
  objective: SweepObjective;
  min_trades: number;
  top: number;
  validation: SweepValidation;
}

/** One gridded parameter: its name and the values it takes, in the order given. */
export interface GridAxis {
  name: string;
  values: readonly ParamValue[];
}

/** A sweep request with what it expands to: the axes, the count and the windows. */
export interface SweepPlan {
  request: SweepRequest;
  /** The gridded parameters in the strategy's table order (the last varies fastest). */
  axes: GridAxis[];
  combinations: number;
  windows: SweepWindow[];
}

/** Most values one axis may list: bounds the work of expanding a grid before it is counted. */
const MAX_AXIS_VALUES = 100_000;
/**
 * Result rows a sweep may produce (see parseSweepRequest): about 1.2 GB of chunk results in
 * Redis at the most, before they are ranked and written to results.parquet.
 */
export const MAX_SWEEP_RESULT_ROWS = 1_000_000;
/** A grid step's decimals: toFixed takes at most 100, and no parameter table needs more. */
const MAX_STEP_DECIMALS = 12;

/**
 * Validates a raw sweep request (HTTP body, CLI flags, job data) and expands its grid: every
 * failing field at once in one InvalidInputError (HTTP 422).
 */
export function parseSweepRequest(raw: unknown, maxCombinations: number): SweepPlan {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw InvalidInputError.of('body', raw, `an object with ${SWEEP_REQUEST_FIELDS.join(', ')}`);
  }
  const body = raw as Record<string, unknown>;
  const problems = new ProblemCollector();
  for (const field of Object.keys(body)) {
    if (!(SWEEP_REQUEST_FIELDS as readonly string[]).includes(field)) {
      problems.add({
        field,
        value: body[field],
        allowed: `no such field; the fields are ${SWEEP_REQUEST_FIELDS.join(', ')}`,
      });
    }
  }
  const grid = isPlainObject(body.grid) ? body.grid : undefined;
  if (!grid || Object.keys(grid).length === 0) {
    problems.add({
      field: 'grid',
      value: body.grid,
      allowed:
        'an object of at least one parameter, each a list of values or {from, to, step}, e.g. {"vol_multiplier": {"from": 1, "to": 3, "step": 0.25}}',
    });
  }
  const fixed = isPlainObject(body.params) ? body.params : body.params == null ? {} : undefined;
  if (fixed === undefined) {
    problems.add({ field: 'params', value: body.params, allowed: 'an object of parameter values' });
  }
  // The fixed parameters are checked by the run contract itself (resolveParams), so a value a
  // single run refuses is refused here with the same words.
  const resolved = problems.check(() => resolveParams(body.strategy, fixed ?? {}));
  const strategy = resolved?.strategy;
  const axes: GridAxis[] = [];
  if (strategy && grid) {
    for (const name of Object.keys(grid)) {
      if (!strategy.params.some((spec) => spec.name === name)) {
        problems.add({
          field: `grid.${name}`,
          value: grid[name],
          allowed: `no such parameter; known parameters: ${strategy.params.map((s) => s.name).join(', ')}`,
        });
      } else if (fixed && Object.hasOwn(fixed, name)) {
        problems.add({
          field: `grid.${name}`,
          value: grid[name],
          allowed: `a parameter either in grid or in params, not both (params.${name} is ${JSON.stringify(fixed[name])})`,
        });
      }
    }
    for (const spec of strategy.params) {
      if (!Object.hasOwn(grid, spec.name)) continue;
      const values = problems.check(() => axisValues(spec, grid[spec.name]));
      if (values) axes.push({ name: spec.name, values });
    }
  }
  const execution = problems.check(() => resolveExecution(body.execution));
  const symbols = problems.check(() => parseSweepSymbols(body.symbols));
  const timeframe = problems.check(() => parseTimeframe(body.timeframe));
  problems.check(() => kstDateRange(body.start_date, body.end_date));
  const objective = problems.check(() =>
    oneOf('objective', body.objective, SWEEP_OBJECTIVES, 'total_return_pct'),
  );
  if (objective && execution && ACCOUNT_OBJECTIVES.includes(objective)) {
    if (execution.positions !== 'single') {
      problems.add({
        field: 'objective',
        value: objective,
        allowed: `${objective} is a figure of the account's equity: set execution.positions to "single", or pick total_return_pct, profit_factor, sqn, win_rate or avg_return`,
      });
    }
  }
  const minTrades = problems.check(() => integerIn('min_trades', body.min_trades, 0, 1e9, 1));
  const top = problems.check(() => integerIn('top', body.top, 1, 1000, 50));
  const validation = problems.check(() => parseValidation(body.validation));
  problems.throwIfAny();

  const combinations = axes.reduce((count, axis) => count * axis.values.length, 1);
  if (combinations > maxCombinations) {
    throw InvalidInputError.of(
      'grid',
      Object.fromEntries(axes.map((axis) => [axis.name, axis.values.length])),
      `at most ${maxCombinations} combinations (MAX_SWEEP_COMBINATIONS); this grid gives ${combinations} (${axes.map((a) => `${a.values.length} ${a.name}`).join(' × ')}): use fewer values or a larger step`,
    );
  }
  const windows = sweepWindows(body.start_date as string, body.end_date as string, validation!);
  // Every result row (combination × window × symbol, ~1.2 KB) waits in Redis, as its chunk's
  // return value, until the sweep is ranked: bound the product, not only the combinations.
  const symbolCount = symbols!.length;
  const resultRows = combinations * windows.length * symbolCount;
  if (resultRows > MAX_SWEEP_RESULT_ROWS) {
    throw InvalidInputError.of(
      'grid',
      Object.fromEntries(axes.map((axis) => [axis.name, axis.values.length])),
      `at most ${MAX_SWEEP_RESULT_ROWS} result rows (combinations × windows × symbols); this sweep gives ${combinations} × ${windows.length} × ${symbolCount} = ${resultRows}: use fewer values, symbols or walk-forward folds`,
    );
  }
  const fixedParams: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(resolved!.params)) {
    if (!axes.some((axis) => axis.name === name)) fixedParams[name] = value;
  }
  return {
    request: {
      strategy: strategy!.name,
      symbols: symbols!,
      timeframe: timeframe!,
      start_date: body.start_date as string,
      end_date: body.end_date as string,
      grid: grid as SweepRequest['grid'],
      params: fixedParams,
      execution: execution!,
      objective: objective!,
      min_trades: minTrades!,
      top: top!,
      validation: validation!,
    },
    axes,
    combinations,
    windows,
  };
}

/** The plan of a request already validated (the job's copy): the same expansion, no limit. */
export function planOf(request: SweepRequest): SweepPlan {
  return parseSweepRequest(request, Number.POSITIVE_INFINITY);
}

/**
 * The parameters of combination `index`: mixed radix over the axes, the last axis fastest
 * (SPEC §13), merged with the fixed parameters in the strategy's table order.
 */
export function combinationParams(
  plan: Pick<SweepPlan, 'axes' | 'request'>,
  strategy: StrategyDefinition,
  index: number,
): ResolvedParams {
  const chosen: Record<string, ParamValue> = {};
  let rest = index;
  for (let a = plan.axes.length - 1; a >= 0; a--) {
    const axis = plan.axes[a];
    chosen[axis.name] = axis.values[rest % axis.values.length];
    rest = Math.floor(rest / axis.values.length);
  }
  const params: Record<string, ParamValue> = {};
  for (const spec of strategy.params) {
    params[spec.name] = Object.hasOwn(chosen, spec.name)
      ? chosen[spec.name]
      : plan.request.params[spec.name];
  }
  return params;
}

/**
 * An axis's values: a list as given, or {from, to, step} as from + k·step up to `to`
 * inclusive, each rounded to the step's decimal places. Each value range-checked by the
 * strategy's table (the one definition of what a parameter accepts).
 */
function axisValues(spec: ParamSpec, raw: unknown): ParamValue[] {
  const field = `grid.${spec.name}`;
  const rangeRule = `{from, to, step} with step > 0 and from <= to, or a list of values, each ${describeAllowedValues(spec)}`;
  let values: unknown[];
  if (Array.isArray(raw)) {
    if (raw.length === 0) throw InvalidInputError.of(field, raw, rangeRule);
    values = raw;
  } else if (isPlainObject(raw)) {
    const { from, to, step } = raw;
    const numeric = spec.type === 'int' || spec.type === 'float';
    if (
      !numeric ||
      typeof from !== 'number' ||
      typeof to !== 'number' ||
      typeof step !== 'number' ||
      !Number.isFinite(from) ||
      !Number.isFinite(to) ||
      !(step > 0) ||
      from > to ||
      Object.keys(raw).some((key) => !['from', 'to', 'step'].includes(key))
    ) {
      throw InvalidInputError.of(
        field,
        raw,
        numeric ? rangeRule : `a list of values, each ${describeAllowedValues(spec)}`,
      );
    }
    const count = Math.floor((to - from) / step + 1e-9) + 1;
    if (count > MAX_AXIS_VALUES) {
      throw InvalidInputError.of(
        field,
        raw,
        `at most ${MAX_AXIS_VALUES} values per parameter (${count} given)`,
      );
    }
    const decimals = decimalPlaces(step);
    if (decimals > MAX_STEP_DECIMALS) {
      throw InvalidInputError.of(
        field,
        raw,
        `a step with at most ${MAX_STEP_DECIMALS} decimal places (this one has ${decimals})`,
      );
    }
    values = [];
    for (let k = 0; k < count; k++) {
      const value = Number((from + k * step).toFixed(decimals));
      // The rounding can nudge the last value past `to` only by less than half a step.
      if (value <= to + step / 2) values.push(value);
    }
  } else {
    throw InvalidInputError.of(field, raw, rangeRule);
  }
  const problems = new ProblemCollector();
  const seen = new Set<ParamValue>();
  values.forEach((value, k) => {
    if (!isAllowedValue(spec, value)) {
      problems.add({ field: `${field}[${k}]`, value, allowed: describeAllowedValues(spec) });
    } else if (seen.has(value)) {
      problems.add({ field: `${field}[${k}]`, value, allowed: 'each value once' });
    } else seen.add(value);
  });
  problems.throwIfAny();
  return values as ParamValue[];
}

function decimalPlaces(step: number): number {
  const text = String(step);
  const exponent = /e-(\d+)$/.exec(text);
  if (exponent) return Number(exponent[1]) + (text.split('e')[0].split('.')[1]?.length ?? 0);
  return text.split('.')[1]?.length ?? 0;
}

function parseSweepSymbols(value: unknown): string[] {
  const symbols = parseSymbols(value);
  if (symbols.length > MAX_SWEEP_SYMBOLS) {
    throw InvalidInputError.of(
      'symbols',
      value,
      `a list of 1 to ${MAX_SWEEP_SYMBOLS} different symbols (${symbols.length} given)`,
    );
  }
  return symbols;
}

function parseValidation(raw: unknown): SweepValidation {
  if (raw === undefined || raw === null) return { method: 'none', test_ratio: 0.3, folds: 5 };
  if (!isPlainObject(raw)) {
    throw InvalidInputError.of(
      'validation',
      raw,
      '{method: none | holdout | walk_forward, test_ratio, folds}',
    );
  }
  const problems = new ProblemCollector();
  for (const key of Object.keys(raw)) {
    if (!['method', 'test_ratio', 'folds'].includes(key)) {
      problems.add({
        field: `validation.${key}`,
        value: raw[key],
        allowed: 'no such field; the fields are method, test_ratio, folds',
      });
    }
  }
  const method = problems.check(() =>
    oneOf('validation.method', raw.method, VALIDATION_METHODS, 'none'),
  );
  const testRatio = problems.check(() =>
    numberIn('validation.test_ratio', raw.test_ratio, 0.1, 0.5, 0.3),
  );
  const folds = problems.check(() => integerIn('validation.folds', raw.folds, 2, 20, 5));
  problems.throwIfAny();
  return { method: method!, test_ratio: testRatio!, folds: folds! };
}

function oneOf<const T extends readonly string[]>(
  field: string,
  value: unknown,
  choices: T,
  fallback: T[number],
): T[number] {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !choices.includes(value)) {
    throw InvalidInputError.of(field, value, `one of ${choices.join(', ')}`);
  }
  return value;
}

function integerIn(
  field: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw InvalidInputError.of(field, value, `an integer from ${min} to ${max}`);
  }
  return value;
}

function numberIn(
  field: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw InvalidInputError.of(field, value, `a number from ${min} to ${max}`);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
