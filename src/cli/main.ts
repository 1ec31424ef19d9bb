#!/usr/bin/env node
import { InvalidInputError } from '@app/common';
import { parseFlags } from './args';
import type { CommandDefinition } from './command';
import { EXIT } from './exit-codes';
import { COMMANDS } from './commands';
import { closestMatch } from './suggest';
import { packageVersion } from './version';

/*
 * The command line: plain TypeScript, no Nest. This file and the command definitions are all
 * that `--help`, `--version` or a mistyped flag load; a command's implementation (and the
 * engine, and a Redis client where one is needed) is loaded when that command runs.
 */

const GENERAL_HELP = `Coin Backtesting API command line: the same engine as the service, in-process, no Redis needed.

Usage: cli <command> [flags]      (from a checkout: npm run cli -- <command> [flags])

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(11)} ${command.summary}`).join('\n')}

"cli <command> --help" shows a command's flags; "cli --version" the version. Configuration
comes from the environment (DATA_ROOT, RESULTS_DIR, ... see .env.sample); flags override it.
Exit codes: 0 done, 2 invalid input, 3 no data, 1 anything else.`;

const HELP_FLAGS = ['--help', '-h'];
const VERSION_FLAGS = ['--version', '-v'];

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || HELP_FLAGS.includes(name)) {
    process.stdout.write(`${GENERAL_HELP}\n`);
    return name === undefined ? EXIT.invalidInput : EXIT.ok;
  }
  if (VERSION_FLAGS.includes(name)) {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    const names = COMMANDS.map((candidate) => candidate.name);
    const meant = closestMatch(name, names);
    process.stderr.write(
      `Unknown command "${name}"${meant ? `; did you mean "${meant}"?` : ''} The commands are ${names.join(', ')}. See "cli --help".\n`,
    );
    return EXIT.invalidInput;
  }
  if (args.some((arg) => HELP_FLAGS.includes(arg))) {
    process.stdout.write(`${command.help}\n`);
    return EXIT.ok;
  }
  try {
    const { subcommand, rest } = splitSubcommand(command, args);
    const flags = parseFlags(rest, command.flags, command.name);
    if (subcommand !== undefined) flags.subcommand = subcommand;
    const run = await command.load(flags);
    return await run(flags);
  } catch (error) {
    // Loaded only when something went wrong: it knows every error type, the config's among them.
    const { describeCliError } = await import('./cli-error.js');
    const { code, message } = describeCliError(error);
    process.stderr.write(`${message}\n`);
    return code;
  }
}

/** The subcommand word of a command that takes one (`catalog rebuild`), and the flags after it. */
function splitSubcommand(
  command: CommandDefinition,
  args: string[],
): { subcommand?: string; rest: string[] } {
  if (!command.subcommands) return { rest: args };
  const [word, ...rest] = args;
  if (word !== undefined && command.subcommands.includes(word)) return { subcommand: word, rest };
  const meant = word === undefined ? undefined : closestMatch(word, [...command.subcommands]);
  throw InvalidInputError.of(
    command.name,
    word,
    `one of ${command.subcommands.join(', ')}${meant ? ` (did you mean "${meant}"?)` : ''}: cli ${command.name} <${command.subcommands.join('|')}>`,
  );
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
