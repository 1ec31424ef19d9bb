/**
 * The entries of RESULTS_DIR that are not run folders (SPEC §11). Scanners, cleanup and
 * backups skip them; backups also leave the catalogue file out (a restore rebuilds it).
 */
export const PRESETS_DIR_NAME = 'presets';
export const SWEEPS_DIR_NAME = 'sweeps';
/** The default CATALOG_PATH's file name; SQLite adds `-wal`, `-shm` (and `-journal`) beside it. */
export const CATALOG_FILE_NAME = 'catalog.sqlite';

export function isReservedResultsEntry(name: string): boolean {
  return (
    name === PRESETS_DIR_NAME || name === SWEEPS_DIR_NAME || name.startsWith(CATALOG_FILE_NAME)
  );
}
