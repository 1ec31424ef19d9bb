import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirectory, makeDirectorySync } from './directories';

describe('makeDirectory', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'coin-dirs-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates every missing level, and is happy when they exist', async () => {
    const deep = join(root, 'a', 'b', 'c');
    await makeDirectory(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    await makeDirectory(deep);
    makeDirectorySync(join(deep, 'd'));
    expect(statSync(join(deep, 'd')).isDirectory()).toBe(true);
  });

  it('names a file in the way', async () => {
    writeFileSync(join(root, 'file'), 'x');
    await expect(makeDirectory(join(root, 'file', 'sub'))).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
    expect(() => makeDirectorySync(join(root, 'file', 'sub'))).toThrow(/ENOTDIR/);
  });

  // Node's recursive mkdir never returns here (it retries ENOENT forever): this one must.
  it('returns with the error for a path under /proc', async () => {
    await expect(makeDirectory('/proc/coin-nope/x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => makeDirectorySync('/proc/coin-nope/x')).toThrow(/ENOENT/);
  });

  it('reports EROFS for a read-only file system, where Node says ENOENT', async () => {
    const readOnly = join(root, 'ro');
    makeDirectorySync(readOnly);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly], {
        stdio: 'ignore',
      });
    } catch {
      // Mounting needs root (CI and the dev machines have it); elsewhere there is nothing to show.
      return;
    }
    try {
      await expect(makeDirectory(join(readOnly, 'a', 'b'))).rejects.toMatchObject({
        code: 'EROFS',
      });
      expect(() => makeDirectorySync(join(readOnly, 'a'))).toThrow(/EROFS/);
    } finally {
      execFileSync('umount', [readOnly]);
    }
  });
});
