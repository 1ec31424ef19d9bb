import { readdirSync } from 'node:fs';
import { isReservedResultsEntry } from '@app/catalogue';

/**
 * The run folders under RESULTS_DIR, sorted: every entry but the catalogue's file and the
 * presets/sweeps folders (SPEC §11), which every process may create beside the runs.
 */
export function runFolderNames(resultsDir: string): string[] {
  return readdirSync(resultsDir)
    .filter((name) => !isReservedResultsEntry(name))
    .sort();
}
