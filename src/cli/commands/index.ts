import type { CommandDefinition } from '../command';
import { BACKTEST } from './backtest.command';
import { BENCH } from './bench.command';
import { CATALOG } from './catalog.command';
import { CLEANUP } from './cleanup.command';
import { IMPORT } from './import.command';
import { INVENTORY } from './inventory.command';
import { STRATEGIES } from './strategies.command';
import { SWEEP } from './sweep.command';
import { VERSION } from './version.command';

/** Every command, in the order `cli --help` lists them. Definitions only: nothing heavy. */
export const COMMANDS: readonly CommandDefinition[] = [
  BACKTEST,
  SWEEP,
  IMPORT,
  INVENTORY,
  STRATEGIES,
  CLEANUP,
  CATALOG,
  BENCH,
  VERSION,
];
