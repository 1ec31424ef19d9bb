import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` that always returns and says why it failed. Node's `mkdir(path, {recursive:
 * true})` reports ENOENT when a parent is on a read-only file system (the real reason, EROFS,
 * is lost) and never returns for a path under /proc (it retries the same ENOENT forever).
 * Here each missing directory is created on its own, top down, so the error is the real one
 * for the directory that could not be made, and the loop is bounded by the path's depth.
 */
export async function makeDirectory(path: string): Promise<void> {
  for (const dir of await missingDirectories(path)) {
    try {
      await mkdir(dir);
    } catch (error) {
      if (!isAlreadyThere(error)) throw error;
    }
  }
}

/** The same, blocking (for a worker thread whose only job is the write that follows). */
export function makeDirectorySync(path: string): void {
  for (const dir of missingDirectoriesSync(path)) {
    try {
      mkdirSync(dir);
    } catch (error) {
      if (!isAlreadyThere(error)) throw error;
    }
  }
}

/** The directories to create, outermost first; throws ENOTDIR for a file in the way. */
async function missingDirectories(path: string): Promise<string[]> {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      if (!(await stat(dir)).isDirectory()) throw notADirectory(dir);
      return missing.reverse();
    } catch (error) {
      if (!isMissing(error) || dirname(dir) === dir) throw error;
      missing.push(dir);
    }
  }
}

function missingDirectoriesSync(path: string): string[] {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      if (!statSync(dir).isDirectory()) throw notADirectory(dir);
      return missing.reverse();
    } catch (error) {
      if (!isMissing(error) || dirname(dir) === dir) throw error;
      missing.push(dir);
    }
  }
}

function notADirectory(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, ${path} is a file`), {
    code: 'ENOTDIR',
    path,
  });
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function isAlreadyThere(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EEXIST';
}
