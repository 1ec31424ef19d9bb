import { describeProblem, InvalidInputError, NoDataError } from '@app/common';
import { ConfigError } from '@app/config';
import { EXIT } from './exit-codes';

/** The exit code and the message a user sees for an error; never a stack trace. */
export function describeCliError(error: unknown): { code: number; message: string } {
  if (error instanceof InvalidInputError) {
    return {
      code: EXIT.invalidInput,
      message: `Invalid input:\n${error.problems.map((p) => `  - ${describeProblem(p)}`).join('\n')}`,
    };
  }
  if (error instanceof ConfigError) return { code: EXIT.invalidInput, message: error.message };
  if (error instanceof NoDataError) return { code: EXIT.noData, message: error.message };
  if (error instanceof Error) return { code: EXIT.failure, message: `Error: ${error.message}` };
  return { code: EXIT.failure, message: `Error: ${String(error)}` };
}
