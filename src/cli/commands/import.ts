import { loadConfig } from '@app/config';
import { importCsv } from '@app/data';
import { parseFlags, requireFlag } from '../args';

export const IMPORT_HELP = `Usage: cli import --csv FILE --symbol S --timeframe TF [--data-root DIR]

Imports candles from a CSV (header timestamp,open,high,low,close,volume in any order; ISO-8601
timestamps, KST when they carry no offset, or epoch milliseconds) into the Parquet layout
DATA_ROOT/{SYMBOL}/{TIMEFRAME}/{YEAR}.parquet, one file per KST year, merged with the files
already there (a candle already present is replaced by the imported one). Nothing is written
if the CSV has an error; each file is replaced atomically.

  --csv FILE        the CSV file
  --symbol S        e.g. BTC_KRW
  --timeframe TF    1M 3M 5M 10M 15M 30M 1H 4H 1D 1W
  --data-root DIR   market data (default: $DATA_ROOT or ./data)`;

export async function importCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      csv: { type: 'string' },
      symbol: { type: 'string' },
      timeframe: { type: 'string' },
      'data-root': { type: 'string' },
    },
    'import',
  );
  const config = loadConfig({
    ...process.env,
    ...(typeof flags['data-root'] === 'string' && { DATA_ROOT: flags['data-root'] }),
  });
  const summary = await importCsv({
    csvPath: requireFlag(flags, 'csv', 'the path of a CSV file'),
    symbol: requireFlag(flags, 'symbol', 'a symbol such as BTC_KRW'),
    timeframe: requireFlag(flags, 'timeframe', 'a timeframe such as 1D'),
    dataRoot: config.dataRoot,
  });
  process.stdout.write(
    `Imported ${summary.rowsRead} rows; ${summary.rowsWritten} rows in ${summary.files.length} file(s):\n`,
  );
  for (const file of summary.files) process.stdout.write(`  ${file.path}  ${file.rows} rows\n`);
  return 0;
}
