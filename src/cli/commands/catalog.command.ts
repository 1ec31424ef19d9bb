import type { CommandDefinition } from '../command';

export const CATALOG: CommandDefinition = {
  name: 'catalog',
  summary: 'rebuild the run catalogue from RESULTS_DIR, or show what it holds',
  help: `Usage: cli catalog rebuild [--quick] [--data-root DIR] [--results-dir DIR] [--json]
       cli catalog status [--data-root DIR] [--results-dir DIR] [--json]

The run catalogue (SPEC §11) is an index of the run folders, presets and sweeps under
RESULTS_DIR: the SQLite file CATALOG_PATH (default RESULTS_DIR/catalog.sqlite), or PostgreSQL
when DATABASE_URL is set. The folders are the truth; the catalogue can always be rebuilt.

  rebuild   index every folder the catalogue lacks, re-read every manifest that changed
            since its row was written, remove rows whose folder is gone (at most 64 files
            open at once). Safe while the API and workers run. After a restore, run this.
  status    the catalogue's backend, schema version and counts of runs, presets, sweeps

  --quick            rebuild: only folders without a row and rows without a folder (what
                     every process does at start-up)
  --data-root DIR    market data root (RESULTS_DIR defaults to DATA_ROOT/tasks)
  --results-dir DIR  the results folder itself
  --json             print the report as JSON`,
  subcommands: ['rebuild', 'status'],
  flags: {
    quick: { type: 'boolean', default: false },
    'data-root': { type: 'string', expects: 'a directory' },
    'results-dir': { type: 'string', expects: 'a directory' },
    json: { type: 'boolean', default: false },
  },
  load: async () => (await import('./catalog.js')).catalogCommand,
};
