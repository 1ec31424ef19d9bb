import { importCsv } from '@app/data';
import { cliConfig } from '../cli-config';
import { FlagValues, requireFlags, stringFlag } from '../args';
import { IMPORT } from './import.command';

export async function importCommand(flags: FlagValues): Promise<number> {
  requireFlags(flags, IMPORT.flags);
  const config = cliConfig(flags);
  const summary = await importCsv({
    csvPath: stringFlag(flags, 'csv'),
    symbol: stringFlag(flags, 'symbol'),
    timeframe: stringFlag(flags, 'timeframe'),
    dataRoot: config.dataRoot,
  });
  process.stdout.write(
    `Imported ${summary.rowsRead} rows; ${summary.rowsWritten} rows in ${summary.files.length} file(s):\n`,
  );
  for (const file of summary.files) process.stdout.write(`  ${file.path}  ${file.rows} rows\n`);
  return 0;
}
