import type { FlagSpec, FlagValues } from './args';

/** What a command does with its parsed flags: the exit code (README "CLI"). */
export type CommandRun = (flags: FlagValues) => Promise<number> | number;

/**
 * A command as `cli --help` and the flag parser know it. The implementation is loaded only
 * when the command runs, so that `--help`, `--version` and a mistyped flag load none of the
 * engine, and each command loads only what it uses (Redis clients only where Redis is needed).
 */
export interface CommandDefinition {
  name: string;
  /** One line for `cli --help`. */
  summary: string;
  /** `cli <name> --help`. */
  help: string;
  flags: FlagSpec;
  /**
   * `cli <name> <subcommand> [flags]` (`cli catalog rebuild`): the words it takes first; the
   * one given reaches the command as the flag value `subcommand`.
   */
  subcommands?: readonly string[];
  /**
   * Loads the implementation. Given the parsed flags, it may start what need not wait for
   * the implementation (`backtest` starts its worker threads, which load the engine meanwhile).
   */
  load(flags: FlagValues): Promise<CommandRun>;
}
