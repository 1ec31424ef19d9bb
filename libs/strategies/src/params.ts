import { FieldProblem } from '@app/common';

/**
 * A strategy parameter, declared as data: the single source for validation, the OpenAPI
 * schema, `GET /api/strategies` and the docs. Numeric strings are NOT accepted for numeric
 * parameters: JSON clients send numbers, and accepting "20" would hide client bugs.
 */
export type ParamType = 'int' | 'float' | 'bool';
export type ParamValue = number | boolean;

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly default: ParamValue;
  /** Inclusive bounds of a numeric parameter. */
  readonly min?: number;
  readonly max?: number;
  /** What the parameter does, for people reading the API docs. */
  readonly description: string;
  /** A value worth showing in the docs when it differs from the default. */
  readonly example?: ParamValue;
}

/** The typed parameter object a strategy receives, derived from its table. */
export type ParamsOf<Table extends readonly ParamSpec[]> = {
  readonly [Spec in Table[number] as Spec['name']]: Spec['type'] extends 'bool' ? boolean : number;
};

/** Every parameter of a strategy, defaults filled in, as `resolveParams` returns them. */
export type ResolvedParams = Readonly<Record<string, ParamValue>>;

/** Human wording of what a parameter accepts, e.g. "an integer from 1 to 500". */
export function describeAllowedValues(spec: ParamSpec): string {
  if (spec.type === 'bool') return 'true or false';
  const kind = spec.type === 'int' ? 'an integer' : 'a number';
  const { min, max } = spec;
  const format = (bound: number): string =>
    spec.type === 'float' && Number.isInteger(bound) ? bound.toFixed(1) : String(bound);
  if (min !== undefined && max !== undefined)
    return `${kind} from ${format(min)} to ${format(max)}`;
  if (min !== undefined) return `${kind} >= ${format(min)}`;
  if (max !== undefined) return `${kind} <= ${format(max)}`;
  return kind;
}

export function isAllowedValue(spec: ParamSpec, value: unknown): value is ParamValue {
  if (spec.type === 'bool') return typeof value === 'boolean';
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (spec.type === 'int' && !Number.isInteger(value)) return false;
  return (
    (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max)
  );
}

/**
 * Checks `given` against `table` and fills in defaults, collecting every problem rather than
 * stopping at the first. The result lists the parameters in table order.
 */
export function validateParams(
  table: readonly ParamSpec[],
  given: Readonly<Record<string, unknown>>,
  fieldPrefix: string,
  problems: FieldProblem[],
): ResolvedParams {
  const resolved: Record<string, ParamValue> = {};
  for (const spec of table) {
    const value = Object.hasOwn(given, spec.name) ? given[spec.name] : undefined;
    if (value === undefined) {
      resolved[spec.name] = spec.default;
    } else if (isAllowedValue(spec, value)) {
      resolved[spec.name] = value;
    } else {
      problems.push({
        field: `${fieldPrefix}.${spec.name}`,
        value,
        allowed: describeAllowedValues(spec),
      });
    }
  }
  const known = table.map((spec) => spec.name);
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) {
      problems.push({
        field: `${fieldPrefix}.${name}`,
        value: given[name],
        allowed: `no such parameter; known parameters: ${known.join(', ')}`,
      });
    }
  }
  return resolved;
}
