import { FieldProblem, InvalidInputError } from '@app/common';
import { ParamsOf, ParamSpec, validateParams } from './params';

/** SPEC §12: how trades are filled and whether they may overlap, declared like a strategy's. */
export const EXECUTION_PARAMS = [
  {
    name: 'fee',
    type: 'float',
    default: 0,
    min: 0,
    max: 0.05,
    description:
      'Fraction of notional per fill, charged on the entry and on the exit (0.001 = 0.1%).',
    example: 0.001,
  },
  {
    name: 'slippage',
    type: 'float',
    default: 0,
    min: 0,
    max: 0.05,
    description:
      'Fraction of price per fill: entries fill this much above the close, exits this much below it.',
    example: 0.0005,
  },
  {
    name: 'positions',
    type: 'choice',
    values: ['overlap', 'single'],
    default: 'overlap',
    description:
      'overlap: every signal is a trade, trades may overlap. single: at most one open trade per symbol; a signal while a trade is open (up to and including its exit bar) is skipped.',
  },
] as const satisfies readonly ParamSpec[];

/** The `execution` of a request, every field present: `{fee, slippage, positions}`. */
export type ExecutionSettings = ParamsOf<typeof EXECUTION_PARAMS>;

export type PositionMode = ExecutionSettings['positions'];

/** What a request that says nothing about execution gets: no costs, overlapping trades (SPEC §3). */
export const DEFAULT_EXECUTION: ExecutionSettings = Object.freeze(
  Object.fromEntries(EXECUTION_PARAMS.map((spec) => [spec.name, spec.default])),
) as ExecutionSettings;

/**
 * Validates a request's `execution` and fills in the defaults, reporting every problem at once
 * in one InvalidInputError (an unknown key, a wrong type, a value out of range), worded as a
 * strategy parameter's are. Form strings are read as SPEC §10.3 says ("0.001" is 0.001).
 * undefined or null means every default.
 */
export function resolveExecution(raw: unknown, fieldPrefix = 'execution'): ExecutionSettings {
  if (raw === undefined || raw === null) return DEFAULT_EXECUTION;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw InvalidInputError.of(
      fieldPrefix,
      raw,
      `an object with ${EXECUTION_PARAMS.map((spec) => spec.name).join(', ')}`,
    );
  }
  const problems: FieldProblem[] = [];
  const resolved = validateParams(
    EXECUTION_PARAMS,
    raw as Readonly<Record<string, unknown>>,
    fieldPrefix,
    problems,
  );
  if (problems.length > 0) throw new InvalidInputError(problems);
  // Sound: validateParams put each field of the table in, checked against its spec.
  return resolved as ExecutionSettings;
}
