import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The project's version, from the nearest package.json above this file: the same lookup
 * finds it from src/cli (tests) and from dist/src/cli (the build), which has no copy of it.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const version = versionIn(join(dir, 'package.json'));
    if (version !== undefined) return version;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

function versionIn(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const { version } = JSON.parse(text) as { version?: unknown };
  return typeof version === 'string' ? version : undefined;
}
