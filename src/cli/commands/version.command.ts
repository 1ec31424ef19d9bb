import type { CommandDefinition } from '../command';
import { packageVersion } from '../version';

export const VERSION: CommandDefinition = {
  name: 'version',
  summary: 'print the version (also: cli --version)',
  help: `Usage: cli version      (or: cli --version)

Prints the version of this package, e.g. 1.0.0.`,
  flags: {},
  load: () =>
    Promise.resolve(() => {
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }),
};
