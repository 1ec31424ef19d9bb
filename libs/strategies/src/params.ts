import { FieldProblem } from '@app/common';

/**
 * A parameter, declared as data: the single source for validation, the OpenAPI schema,
 * `GET /api/strategies` and the docs. Strategy parameters and the `execution` settings are
 * declared this way alike.
 */
export type ParamType = 'int' | 'float' | 'bool' | 'choice';
export type ParamValue = number | boolean | string;

interface ParamSpecBase {
  readonly name: string;
  /** What the parameter does, for people reading the API docs. */
  readonly description: string;
}

/** An integer or a finite number, within inclusive bounds when they are given. */
interface NumericParamSpec extends ParamSpecBase {
  readonly type: 'int' | 'float';
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  /** A value worth showing in the docs when it differs from the default. */
  readonly example?: number;
  readonly values?: undefined;
}

interface BoolParamSpec extends ParamSpecBase {
  readonly type: 'bool';
  readonly default: boolean;
  readonly example?: boolean;
  readonly min?: undefined;
  readonly max?: undefined;
  readonly values?: undefined;
}

/** One of a fixed list of words, e.g. `positions`: `overlap` or `single`. */
interface ChoiceParamSpec extends ParamSpecBase {
  readonly type: 'choice';
  readonly values: readonly string[];
  readonly default: string;
  readonly example?: string;
  readonly min?: undefined;
  readonly max?: undefined;
}

export type ParamSpec = NumericParamSpec | BoolParamSpec | ChoiceParamSpec;

/** The typed parameter object a strategy receives, derived from its table. */
export type ParamsOf<Table extends readonly ParamSpec[]> = {
  readonly [Spec in Table[number] as Spec['name']]: Spec extends { readonly type: 'bool' }
    ? boolean
    : Spec extends { readonly values: readonly (infer Choice)[] }
      ? Choice
      : number;
};

/** Every parameter of a table, defaults filled in, as `validateParams` returns them. */
export type ResolvedParams = Readonly<Record<string, ParamValue>>;

/** Human wording of what a parameter accepts, e.g. "an integer from 1 to 500". */
export function describeAllowedValues(spec: ParamSpec): string {
  if (spec.type === 'bool') return 'true or false';
  if (spec.type === 'choice') return `one of ${spec.values.join(', ')}`;
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

/** Whether `value`, as it is (no string is read as a number here), is one `spec` accepts. */
export function isAllowedValue(spec: ParamSpec, value: unknown): value is ParamValue {
  if (spec.type === 'bool') return typeof value === 'boolean';
  if (spec.type === 'choice') return typeof value === 'string' && spec.values.includes(value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (spec.type === 'int' && !Number.isInteger(value)) return false;
  return (
    (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max)
  );
}

/**
 * SPEC §10.3: a decimal written the plain way. Exponents, hex, blanks, a leading "+" or
 * leading zeros are not numbers a person types into a form field, so they stay strings
 * (and get their 422).
 */
export const FORM_DECIMAL_PATTERN = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/**
 * A form field's text read as the value it stands for (SPEC §10.3: web forms send every
 * field as a string): a plain decimal for a numeric parameter, "true"/"false" for a boolean.
 * Anything else, strings included, is returned as it is, for `isAllowedValue` to judge.
 */
export function coerceFormValue(spec: ParamSpec, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (spec.type === 'bool') return value === 'true' ? true : value === 'false' ? false : value;
  if (spec.type === 'int' || spec.type === 'float') {
    return FORM_DECIMAL_PATTERN.test(value) ? Number(value) : value;
  }
  return value;
}

/**
 * Checks `given` against `table` and fills in defaults, collecting every problem rather than
 * stopping at the first. Strings standing for a number or a boolean are read as one first
 * (`coerceFormValue`), so the result holds real numbers and booleans; a problem reports the
 * value as it was given. The result lists the parameters in table order.
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
    const coerced = coerceFormValue(spec, value);
    if (value === undefined) {
      resolved[spec.name] = spec.default;
    } else if (isAllowedValue(spec, coerced)) {
      resolved[spec.name] = coerced;
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
