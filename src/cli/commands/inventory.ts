import { InvalidInputError } from '@app/common';
import { listInventory } from '@app/data';
import { cliConfig } from '../cli-config';
import { FlagValues } from '../args';

export async function inventoryCommand(flags: FlagValues): Promise<number> {
  const config = cliConfig(flags);
  const year = typeof flags.year === 'string' ? Number(flags.year) : undefined;
  if (year !== undefined && !Number.isInteger(year))
    throw InvalidInputError.of('--year', flags.year, 'a year such as 2024');
  const entries = await listInventory(config.dataRoot, {
    ...(typeof flags.symbol === 'string' && { symbol: flags.symbol }),
    ...(typeof flags.timeframe === 'string' && { timeframe: flags.timeframe }),
    ...(year !== undefined && { year }),
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) process.stdout.write(`No candle files under ${config.dataRoot}\n`);
  // A terminal reads best in path order (the API lists newest changes first).
  entries.sort((a, b) => (a.relative_path < b.relative_path ? -1 : 1));
  for (const entry of entries) {
    const span = entry.error ?? `${entry.first_timestamp ?? '-'} .. ${entry.last_timestamp ?? '-'}`;
    process.stdout.write(
      `${entry.relative_path.padEnd(32)} ${String(entry.rows ?? '?').padStart(9)} rows ${(entry.size_bytes / 1024).toFixed(0).padStart(8)} KiB  ${span}\n`,
    );
  }
  return 0;
}
