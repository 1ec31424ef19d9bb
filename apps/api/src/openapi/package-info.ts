import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageInfo {
  name: string;
  version: string;
  description: string;
}

/**
 * The service's package.json, found by walking up from this file: the same code runs from
 * `apps/api/src` (tests) and from `dist/apps/api/src` (the build), at different depths.
 */
export function readPackageInfo(from = __dirname): PackageInfo {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const { name, version, description } = JSON.parse(
        readFileSync(file, 'utf8'),
      ) as Partial<PackageInfo>;
      return {
        name: name ?? 'unknown',
        version: version ?? '0.0.0',
        description: description ?? '',
      };
    }
    if (dirname(dir) === dir) return { name: 'unknown', version: '0.0.0', description: '' };
  }
}
