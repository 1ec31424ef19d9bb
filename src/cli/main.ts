#!/usr/bin/env node
import { backtestCommand, BACKTEST_HELP } from './commands/backtest';
import { benchCommand, BENCH_HELP } from './commands/bench';
import { cleanupCommand, CLEANUP_HELP } from './commands/cleanup';
import { importCommand, IMPORT_HELP } from './commands/import';
import { inventoryCommand, INVENTORY_HELP } from './commands/inventory';
import { strategiesCommand, STRATEGIES_HELP } from './commands/strategies';
import { loadEnvFile } from '@app/config';
import { describeCliError, EXIT } from './cli-error';

interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  backtest: {
    summary: 'run a backtest in this process on local Parquet data',
    help: BACKTEST_HELP,
    run: backtestCommand,
  },
  import: {
    summary: 'import a CSV of candles into the Parquet layout',
    help: IMPORT_HELP,
    run: importCommand,
  },
  inventory: {
    summary: 'list the Parquet files under the data root',
    help: INVENTORY_HELP,
    run: inventoryCommand,
  },
  strategies: {
    summary: 'list strategies and their parameters',
    help: STRATEGIES_HELP,
    run: strategiesCommand,
  },
  cleanup: {
    summary: 'delete run folders past their time to live',
    help: CLEANUP_HELP,
    run: cleanupCommand,
  },
  bench: {
    summary: 'benchmark the strategies and the Parquet loader',
    help: BENCH_HELP,
    run: benchCommand,
  },
};

const GENERAL_HELP = `Coin Backtesting API command line: the same engine as the service, in-process, no Redis needed.

Usage: cli <command> [flags]      (from a checkout: npm run cli -- <command> [flags])

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(11)} ${command.summary}`)
  .join('\n')}

"cli <command> --help" shows a command's flags. Configuration comes from the environment
(DATA_ROOT, RESULTS_DIR, ... see .env.sample); flags override it.
Exit codes: 0 done, 2 invalid input, 3 no data, 1 anything else.`;

export async function main(argv: string[]): Promise<number> {
  loadEnvFile();
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${GENERAL_HELP}\n`);
    return name === undefined ? EXIT.invalidInput : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(
      `Unknown command "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')}. See "cli --help".\n`,
    );
    return EXIT.invalidInput;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(args);
  } catch (error) {
    const { code, message } = describeCliError(error);
    process.stderr.write(`${message}\n`);
    return code;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
