import type { SchemaObject } from '@nestjs/swagger';
import {
  EXECUTION_PARAMS,
  FORM_DECIMAL_PATTERN,
  listStrategies,
  ParamSpec,
  StrategyDefinition,
} from '@app/strategies';

/**
 * OpenAPI schemas of the strategies' parameters, generated from their parameter tables (the
 * one source of every parameter's type, default and range).
 */
const OPENAPI_TYPE: Record<ParamSpec['type'], string> = {
  int: 'integer',
  float: 'number',
  bool: 'boolean',
  choice: 'string',
};

/**
 * A parameter as a request may send it: its JSON type, or (SPEC §10.3, values typed into a
 * web form) a plain decimal string for a number and "true"/"false" for a boolean.
 */
export function paramSchema(spec: ParamSpec): SchemaObject {
  const typed: SchemaObject = {
    type: OPENAPI_TYPE[spec.type],
    ...(spec.min !== undefined && { minimum: spec.min }),
    ...(spec.max !== undefined && { maximum: spec.max }),
    ...(spec.values !== undefined && { enum: [...spec.values] }),
  };
  const typedIntoAForm: SchemaObject | undefined =
    spec.type === 'bool'
      ? { type: 'string', enum: ['true', 'false'] }
      : spec.type === 'int' || spec.type === 'float'
        ? { type: 'string', pattern: FORM_DECIMAL_PATTERN.source }
        : undefined;
  return {
    ...(typedIntoAForm ? { anyOf: [typed, typedIntoAForm] } : typed),
    description: spec.description,
    default: spec.default,
    ...(spec.example !== undefined && { example: spec.example }),
  };
}

/** Component name of a strategy's parameter object, e.g. VolumeLongCandleParams. */
export function paramsSchemaName(strategy: StrategyDefinition): string {
  const pascal = strategy.name
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
  return `${pascal}Params`;
}

export function paramsSchema(strategy: StrategyDefinition): SchemaObject {
  return {
    type: 'object',
    title: `${strategy.name} parameters`,
    description: `Parameters of ${strategy.name}; omitted ones take their defaults.`,
    additionalProperties: false,
    properties: Object.fromEntries(strategy.params.map((spec) => [spec.name, paramSchema(spec)])),
  };
}

/** Every strategy's parameter schema by component name, for the document's components. */
export function strategyParamsSchemas(): Record<string, SchemaObject> {
  return Object.fromEntries(
    listStrategies().map((strategy) => [paramsSchemaName(strategy), paramsSchema(strategy)]),
  );
}

/** `params` of a request: the parameters of one of the strategies. */
export function requestParamsSchema(): { anyOf: Array<{ $ref: string }> } {
  return {
    anyOf: listStrategies().map((strategy) => ({
      $ref: `#/components/schemas/${paramsSchemaName(strategy)}`,
    })),
  };
}

/** `execution` of a request (SPEC §12), from the same kind of table as a strategy's. */
export function executionSchema(): SchemaObject {
  return {
    type: 'object',
    title: 'execution',
    additionalProperties: false,
    properties: Object.fromEntries(EXECUTION_PARAMS.map((spec) => [spec.name, paramSchema(spec)])),
  };
}

/** A request's params for the docs' example: each parameter's example value, else its default. */
export function exampleParams(strategy: StrategyDefinition): Record<string, ParamSpec['default']> {
  return Object.fromEntries(
    strategy.params.map((spec) => [spec.name, spec.example ?? spec.default]),
  );
}
