import { parseArgs } from 'node:util';
import { FieldProblem, InvalidInputError } from '@app/common';
import { closestMatch } from './suggest';

/** One flag a command takes (`--name value` or `--name=value`; a boolean is a bare switch). */
export interface FlagDefinition {
  type: 'string' | 'boolean';
  default?: string | boolean;
  /** What a value looks like, for messages: "a KST date YYYY-MM-DD". */
  expects?: string;
  /** The command cannot run without it (reported with every other missing flag at once). */
  required?: boolean;
}

export type FlagSpec = Readonly<Record<string, FlagDefinition>>;

export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * The command line of `cli <command>` as flag values, defaults filled in. Every problem is
 * reported at once, in one input error (exit 2): an unknown flag (with the flag it most likely
 * meant), a flag without its value, a value given to a switch, a stray word, and then also
 * every required flag missing. With no such problem, the values are returned and the command
 * checks the required flags itself (`missingFlags`), beside its own checks of the values.
 */
export function parseFlags(args: string[], flags: FlagSpec, command: string): FlagValues {
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, { type, default: value }]) => [
      name,
      value === undefined ? { type } : { type, default: value },
    ]),
  );
  // Not strict: Node's strict mode stops at the first problem, and we want them all.
  const { values, tokens } = parseArgs({
    args,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const problems: FieldProblem[] = [];
  const stray: string[] = [];
  let unknownAt = -1;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      // "--colour red": "red" is the unknown flag's value, not a word of its own.
      if (token.index !== unknownAt + 1) stray.push(token.value);
      continue;
    }
    if (token.kind !== 'option') continue;
    const flag = Object.hasOwn(flags, token.name) ? flags[token.name] : undefined;
    if (!flag) {
      problems.push(unknownFlag(token.rawName, flags, command));
      if (token.value === undefined) unknownAt = token.index;
    } else if (flag.type === 'string' && lacksValue(token)) {
      problems.push({
        field: `--${token.name}`,
        value: undefined,
        allowed:
          token.value === undefined
            ? (flag.expects ?? 'a value')
            : `${flag.expects ?? 'a value'} (a value starting with "-" is written --${token.name}=${token.value})`,
      });
    } else if (flag.type === 'boolean' && token.value !== undefined) {
      problems.push({
        field: `--${token.name}`,
        value: token.value,
        allowed: `no value: --${token.name} is a switch`,
      });
    }
  }
  if (stray.length > 0) {
    problems.push({
      field: command,
      value: stray.join(' '),
      allowed: `only flags; see "cli ${command} --help"`,
    });
  }
  // A plain object: parseArgs gives one without a prototype.
  const parsed: FlagValues = { ...values };
  if (problems.length === 0) return parsed;
  const reported = new Set(problems.map((problem) => problem.field));
  for (const missing of missingFlags(parsed, flags)) {
    if (!reported.has(missing.field)) problems.push(missing);
  }
  throw new InvalidInputError(problems);
}

/**
 * The required flags absent or empty, each as a problem saying what it expects: a command
 * reports them together with its other input problems, as the API lists every failing field.
 */
export function missingFlags(values: FlagValues, flags: FlagSpec): FieldProblem[] {
  return Object.entries(flags)
    .filter(([name, flag]) => flag.required && (values[name] === undefined || values[name] === ''))
    .map(([name, flag]) => ({
      field: `--${name}`,
      value: values[name],
      allowed: flag.expects ?? 'a value',
    }));
}

/** Throws one input error listing every missing required flag, if any is. */
export function requireFlags(values: FlagValues, flags: FlagSpec): void {
  const missing = missingFlags(values, flags);
  if (missing.length > 0) throw new InvalidInputError(missing);
}

/** A string flag's value (after `requireFlags` or with a default), typed. */
export function stringFlag(values: FlagValues, name: string): string {
  const value = values[name];
  if (typeof value !== 'string') throw new Error(`--${name} was not parsed as a string`);
  return value;
}

type OptionToken = { kind: 'option'; name: string; value?: string; inlineValue?: boolean };

/**
 * `--strategy` last, or followed by another flag: not a value. Like Node's strict mode, a
 * separate word starting with "-" is taken for the next flag, not for this one's value.
 */
function lacksValue(token: OptionToken): boolean {
  return token.value === undefined || (!token.inlineValue && token.value.startsWith('-'));
}

function unknownFlag(rawName: string, flags: FlagSpec, command: string): FieldProblem {
  const names = Object.keys(flags);
  const meant = closestMatch(rawName.replace(/^-+/, ''), names);
  return {
    field: 'flag',
    value: rawName,
    allowed: meant
      ? `a flag of "cli ${command}": did you mean --${meant}?`
      : `a flag of "cli ${command}" (${names.map((name) => `--${name}`).join(', ')})`,
  };
}
