import { randomBytes } from 'node:crypto';
import { constants, StatsFs } from 'node:fs';
import { access, opendir, statfs, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { makeDirectory } from '@app/common';
import { errorMessage, withTimeout } from './with-timeout';

/** Longest a file-system check may take (a hung network mount must not hang the probe). */
export const FILESYSTEM_CHECK_TIMEOUT_MS = 2000;

const BYTES_PER_MB = 1024 * 1024;

/**
 * The directories the service needs: market data it reads, results it writes, and room on
 * the results disk. Each check actually touches the file system (a permission or a mount
 * can change under a running process), within a time limit.
 */
@Injectable()
export class FilesystemHealthIndicator {
  constructor(private readonly indicators: HealthIndicatorService) {}

  /** DATA_ROOT exists, is a directory, and its entries can be listed. */
  async readable(key: string, path: string) {
    const check = this.indicators.check(key);
    try {
      await withTimeout(listOneEntry(path), FILESYSTEM_CHECK_TIMEOUT_MS, `reading ${path}`);
      return check.up({ path });
    } catch (error) {
      return check.down({ path, message: errorMessage(error) });
    }
  }

  /**
   * RESULTS_DIR can take a new file: created if missing, then a probe file written and
   * removed. The probe's name is not a run id, so nothing else ever mistakes it for a run.
   */
  async writable(key: string, path: string) {
    const check = this.indicators.check(key);
    try {
      await withTimeout(writeAndRemoveProbe(path), FILESYSTEM_CHECK_TIMEOUT_MS, `writing ${path}`);
      return check.up({ path });
    } catch (error) {
      return check.down({ path, message: errorMessage(error) });
    }
  }

  /** The disk holding `path` has at least `minFreeMb` MB available to this process. */
  async freeSpace(key: string, path: string, minFreeMb: number) {
    const check = this.indicators.check(key);
    try {
      const stats = await withTimeout(
        statfsNearest(path),
        FILESYSTEM_CHECK_TIMEOUT_MS,
        `statfs ${path}`,
      );
      const freeMb = Math.floor((stats.bavail * stats.bsize) / BYTES_PER_MB);
      const details = { path, free_mb: freeMb, min_free_mb: minFreeMb };
      return freeMb >= minFreeMb
        ? check.up(details)
        : check.down({ ...details, message: `only ${freeMb} MB free, below ${minFreeMb} MB` });
    } catch (error) {
      return check.down({ path, message: errorMessage(error) });
    }
  }
}

/**
 * The file system that holds `path`, or will once it is created: the checks run side by side,
 * so on a first probe RESULTS_DIR may not exist yet (the writable check creates it), and that
 * is no reason to call the disk down.
 */
async function statfsNearest(path: string): Promise<StatsFs> {
  for (let current = path; ; current = dirname(current)) {
    try {
      return await statfs(current);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      if (!missing || dirname(current) === current) throw error;
    }
  }
}

async function listOneEntry(path: string): Promise<void> {
  await access(path, constants.R_OK | constants.X_OK);
  const dir = await opendir(path);
  try {
    await dir.read();
  } finally {
    await dir.close();
  }
}

async function writeAndRemoveProbe(path: string): Promise<void> {
  await makeDirectory(path);
  const probe = join(path, `.health-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(probe, 'ok');
  await unlink(probe);
}
