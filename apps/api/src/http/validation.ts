import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import {
  getMetadataStorage,
  registerDecorator,
  ValidationArguments,
  ValidationError,
  ValidationOptions,
} from 'class-validator';
import { FieldProblem, InvalidInputError, MAX_LISTED_PROBLEMS } from '@app/common';

/**
 * A check from the libraries: it throws InvalidInputError naming each problem (field, value,
 * what is allowed), or returns the value as the libraries normalise it (upper-case symbols,
 * parameters with their defaults filled in...), which replaces the DTO's property: the DTO
 * then holds the validated request and nothing parses it again. Returning undefined keeps
 * the value as sent. `object` is the whole DTO, for checks that look at several fields (a
 * date range, a strategy and its parameters); a property reports only its own problems.
 */
export type LibraryCheck = (value: unknown, object: Record<string, unknown>) => unknown;

/** Problems a library check found, by DTO instance and property, for the exception factory. */
const problemsFound = new WeakMap<object, Map<string, FieldProblem[]>>();

/** `params.vol_ma_window` and `symbols[2]` are problems of `params` and `symbols`. */
function isFieldOf(field: string, property: string): boolean {
  return field === property || field.startsWith(`${property}.`) || field.startsWith(`${property}[`);
}

/**
 * Validates a DTO property with a rule of the libraries (SYMBOL_PATTERN, the timeframes, a
 * strategy's parameter table...), so the API holds no second copy of any rule and reports
 * the libraries' own field names and wording; a valid value is stored as the rule normalises
 * it (see LibraryCheck).
 */
export function SatisfiesLibraryRule(
  check: LibraryCheck,
  options?: ValidationOptions,
): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'satisfiesLibraryRule',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          const object = args.object as Record<string, unknown>;
          try {
            const normalised = check(value, object);
            if (normalised !== undefined) object[args.property] = normalised;
            return true;
          } catch (error) {
            if (!(error instanceof InvalidInputError)) throw error;
            const mine = error.problems.filter(({ field }) => isFieldOf(field, args.property));
            if (mine.length === 0) return true;
            let byProperty = problemsFound.get(args.object);
            if (!byProperty)
              problemsFound.set(args.object, (byProperty = new Map<string, FieldProblem[]>()));
            byProperty.set(args.property, mine);
            return false;
          }
        },
        defaultMessage(args: ValidationArguments): string {
          const problems = problemsFound.get(args.object)?.get(args.property) ?? [];
          return problems.map((problem) => problem.allowed).join('; ');
        },
      },
    });
  };
}

/** Field problems of class-validator's errors, nested properties as `parent.child`. */
export function problemsOf(errors: ValidationError[], parentPath = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = `${parentPath}${error.property}`;
    const fromLibrary = error.target && problemsFound.get(error.target)?.get(error.property);
    if (fromLibrary) return fromLibrary;
    const constraints = error.constraints ?? {};
    const own: FieldProblem[] = [];
    if (constraints.whitelistValidation !== undefined) {
      own.push({ field, value: error.value, allowed: unknownFieldRule(error.target) });
    } else if (Object.keys(constraints).length > 0) {
      own.push({
        field,
        value: error.value,
        allowed: [...new Set(Object.values(constraints))].join('; '),
      });
    }
    return [...own, ...problemsOf(error.children ?? [], `${field}.`)];
  });
}

/** The fields each DTO class declares, as its validation rules name them (read once). */
const declaredFields = new WeakMap<object, string[]>();

function declaredFieldsOf(dto: abstract new (...args: never[]) => unknown): string[] {
  let names = declaredFields.get(dto);
  if (!names) {
    names = [
      ...new Set(
        getMetadataStorage()
          .getTargetValidationMetadatas(dto, '', true, false)
          .map((metadata) => metadata.propertyName),
      ),
    ];
    declaredFields.set(dto, names);
  }
  return names;
}

function fieldsOf(dto: abstract new (...args: never[]) => unknown): string {
  return declaredFieldsOf(dto).join(', ');
}

function unknownFieldRule(target: object | undefined): string {
  return target
    ? `no such field; the fields are ${fieldsOf(target.constructor as new () => unknown)}`
    : 'no such field';
}

/**
 * A body with more unknown top-level fields than an error lists is refused on that count
 * alone, before class-transformer copies and class-validator walks every one of them (60,000
 * keys in 1 MiB took 3 s of the event loop): the first MAX_LISTED_PROBLEMS are named, the
 * rest counted. Fewer go through the full validation, which names them along with the rest.
 */
function refuseManyUnknownFields(
  body: Record<string, unknown>,
  dto: abstract new (...args: never[]) => unknown,
): void {
  const known = new Set(declaredFieldsOf(dto));
  const problems: FieldProblem[] = [];
  let unlisted = 0;
  for (const key in body) {
    if (!Object.hasOwn(body, key) || known.has(key)) continue;
    if (problems.length < MAX_LISTED_PROBLEMS) {
      problems.push({
        field: key,
        value: body[key],
        allowed: `no such field; the fields are ${fieldsOf(dto)}`,
      });
    } else {
      unlisted += 1;
    }
  }
  if (unlisted > 0) throw new InvalidInputError(problems, unlisted);
}

/**
 * Most keys of one JSON object, or items of one array, in a request body. The largest a real
 * request holds is 100 symbols; class-transformer's copy of a 60,000-key `params` took 2 s of
 * the event loop (and the full pipe 4 s), so bigger containers are refused before it runs.
 */
export const MAX_BODY_CONTAINER_SIZE = 1000;

/** Objects and arrays of the body over MAX_BODY_CONTAINER_SIZE, by path (the first 50). */
function oversizedContainers(value: unknown, path: string, found: FieldProblem[]): void {
  if (typeof value !== 'object' || value === null || found.length >= MAX_LISTED_PROBLEMS) return;
  const isArray = Array.isArray(value);
  const entries = isArray ? value.length : Object.keys(value).length;
  if (entries > MAX_BODY_CONTAINER_SIZE) {
    found.push({
      field: path === '' ? 'body' : path,
      value,
      allowed: `at most ${MAX_BODY_CONTAINER_SIZE} ${isArray ? 'items' : 'fields'} (got ${entries})`,
    });
    return;
  }
  if (isArray) {
    value.forEach((item: unknown, index) => oversizedContainers(item, `${path}[${index}]`, found));
  } else {
    for (const [key, item] of Object.entries(value)) {
      oversizedContainers(item, path === '' ? key : `${path}.${key}`, found);
    }
  }
}

/**
 * The global pipe: DTOs validated with every failing field reported at once as a 422
 * (through InvalidInputError, so the exception filter has one mapping), unknown fields
 * refused rather than silently dropped. A body that is valid JSON but not an object (an
 * array, a string) is refused as a whole.
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Library checks look at the whole object (`target`); the value is what the client sent.
      validationError: { target: true, value: true },
      exceptionFactory: (errors) => new InvalidInputError(problemsOf(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (metadata.type === 'body' && value !== undefined && !isObject && this.toValidate(metadata)) {
      throw InvalidInputError.of(
        'body',
        value,
        `a JSON object with ${fieldsOf(metadata.metatype!)}`,
      );
    }
    if (isObject && metadata.type === 'body' && metadata.metatype && this.toValidate(metadata)) {
      refuseManyUnknownFields(value as Record<string, unknown>, metadata.metatype);
      const oversized: FieldProblem[] = [];
      oversizedContainers(value, '', oversized);
      if (oversized.length > 0) throw new InvalidInputError(oversized);
    }
    const shadowed = isObject && metadata.type === 'body' ? prototypeNamedFields(value) : [];
    if (shadowed.length === 0) return super.transform(value, metadata);
    try {
      await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof InvalidInputError) {
        throw new InvalidInputError([...error.problems, ...shadowed]);
      }
      throw error;
    }
    throw new InvalidInputError(shadowed);
  }
}

/** `toString`, `constructor`, `valueOf`...: names every plain object already answers to. */
const OBJECT_PROPERTY_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Fields of a JSON body named like a built-in object property, at any depth. class-transformer
 * skips such keys when it builds the DTO, so neither the whitelist nor a library check would
 * ever see them: the request would run as if they were not there. No field of this API has
 * such a name, so each one is refused by name.
 */
function prototypeNamedFields(value: unknown, path = ''): FieldProblem[] {
  if (Array.isArray(value)) {
    return value.flatMap((item: unknown, index) => prototypeNamedFields(item, `${path}[${index}]`));
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => {
    const field = path === '' ? key : `${path}.${key}`;
    if (OBJECT_PROPERTY_NAMES.has(key)) {
      return [{ field, value: item, allowed: 'no such field (a built-in object property name)' }];
    }
    return prototypeNamedFields(item, field);
  });
}

/**
 * Query strings arrive as text: a numeric one becomes a number, anything else stays as sent
 * so that the error shows the client's own value.
 */
export function numberFromQuery({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string' || !/^\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value)) {
    return value;
  }
  return Number(value);
}
