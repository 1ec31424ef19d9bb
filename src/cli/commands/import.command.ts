import type { CommandDefinition } from '../command';

export const IMPORT: CommandDefinition = {
  name: 'import',
  summary: 'import a CSV of candles into the Parquet layout',
  help: `Usage: cli import --csv FILE --symbol S --timeframe TF [--data-root DIR]

Imports candles from a CSV (header timestamp,open,high,low,close,volume in any order; ISO-8601
timestamps, KST when they carry no offset, or epoch milliseconds) into the Parquet layout
DATA_ROOT/{SYMBOL}/{TIMEFRAME}/{YEAR}.parquet, one file per KST year, merged with the files
already there (a candle already present is replaced by the imported one). Nothing is written
if the CSV has an error; each file is replaced atomically.

  --csv FILE        the CSV file
  --symbol S        e.g. BTC_KRW
  --timeframe TF    1M 3M 5M 10M 15M 30M 1H 4H 1D 1W
  --data-root DIR   market data (default: $DATA_ROOT or ./data)`,
  flags: {
    csv: { type: 'string', required: true, expects: 'the path of a CSV file' },
    symbol: { type: 'string', required: true, expects: 'a symbol such as BTC_KRW' },
    timeframe: { type: 'string', required: true, expects: 'a timeframe such as 1D' },
    'data-root': { type: 'string', expects: 'a directory' },
  },
  load: async () => (await import('./import.js')).importCommand,
};
