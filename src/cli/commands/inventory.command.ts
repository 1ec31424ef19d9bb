import type { CommandDefinition } from '../command';

export const INVENTORY: CommandDefinition = {
  name: 'inventory',
  summary: 'list the Parquet files under the data root',
  help: `Usage: cli inventory [--symbol S] [--timeframe TF] [--year YYYY] [--data-root DIR] [--json]

Lists the Parquet files under the data root: symbol, timeframe, year, rows, first and last
candle (UTC) and size. Unreadable files are listed with their error.`,
  flags: {
    symbol: { type: 'string', expects: 'a symbol such as BTC_KRW' },
    timeframe: { type: 'string', expects: 'a timeframe such as 1D' },
    year: { type: 'string', expects: 'a year such as 2024' },
    'data-root': { type: 'string', expects: 'a directory' },
    json: { type: 'boolean', default: false },
  },
  load: async () => (await import('./inventory.js')).inventoryCommand,
};
