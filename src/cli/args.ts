import { parseArgs, ParseArgsConfig } from 'node:util';
import { InvalidInputError } from '@app/common';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;

/** Flag values as strings/booleans; unknown flags and stray words are input errors (exit 2). */
export function parseFlags(
  args: string[],
  options: FlagSpec,
  command: string,
): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw InvalidInputError.of(
        command,
        positionals.join(' '),
        `only flags; see "cli ${command} --help"`,
      );
    }
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw InvalidInputError.of(
      command,
      args.join(' '),
      `valid flags (${message}); see "cli ${command} --help"`,
    );
  }
}

/** A required string flag, or an input error naming it. */
export function requireFlag(
  values: Record<string, string | boolean | undefined>,
  name: string,
  allowed: string,
): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '')
    throw InvalidInputError.of(`--${name}`, value, allowed);
  return value;
}
