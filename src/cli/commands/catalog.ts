import { rebuildCatalogue } from '@app/catalogue';
import { InvalidInputError } from '@app/common';
import { FlagValues } from '../args';
import { catalogueLocation, openCliCatalogue } from '../cli-catalogue';
import { cliConfig } from '../cli-config';

/** `cli catalog rebuild [--quick]` and `cli catalog status` (plain libraries, no Nest). */
export async function catalogCommand(flags: FlagValues): Promise<number> {
  const config = cliConfig(flags);
  if (flags.quick === true && flags.subcommand !== 'rebuild')
    throw InvalidInputError.of('--quick', true, 'only with "cli catalog rebuild"');
  const catalogue = await openCliCatalogue(config);
  try {
    const where = catalogueLocation(config);
    if (flags.subcommand === 'status') {
      const counts = await catalogue.counts();
      const status = {
        backend: catalogue.backend,
        location: where,
        schema_version: catalogue.schemaVersion,
        results_dir: config.resultsDir,
        ...counts,
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return 0;
      }
      const runs = Object.entries(counts.runs)
        .map(([state, n]) => `${n} ${state}`)
        .join(', ');
      process.stdout.write(
        `Catalogue: ${catalogue.backend} at ${where} (schema version ${catalogue.schemaVersion})\n` +
          `Runs: ${runs}\nPresets: ${counts.presets}\n` +
          `Sweeps: ${Object.entries(counts.sweeps)
            .map(([state, n]) => `${n} ${state}`)
            .join(', ')}\n`,
      );
      return 0;
    }
    const mode = flags.quick === true ? 'quick' : 'full';
    const report = await rebuildCatalogue(catalogue, config.resultsDir, { mode });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const kind of ['runs', 'presets', 'sweeps'] as const) {
        const c = report[kind];
        process.stdout.write(
          `${kind}: ${c.indexed} indexed, ${c.removed} removed, ${c.unchanged} unchanged, ${c.unreadable} unreadable, ${c.unfinished} unfinished\n`,
        );
      }
      for (const { path, reason } of report.unreadable_files)
        process.stdout.write(`unreadable: ${path}: ${reason}\n`);
      if (!report.results_dir_found)
        process.stdout.write(`${config.resultsDir} does not exist: nothing indexed or removed\n`);
      process.stdout.write(
        `Rebuilt (${mode}) the catalogue at ${where} from ${config.resultsDir} in ${(report.duration_ms / 1000).toFixed(1)} s\n`,
      );
    }
    // An unreadable file is the operator's to look at; the rest of the index is right.
    return report.results_dir_found ? 0 : 1;
  } finally {
    await catalogue.close();
  }
}
