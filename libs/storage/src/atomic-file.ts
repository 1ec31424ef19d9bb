import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temp files are hidden and named after their target, so cleanup and readers can skip them. */
export const TEMP_FILE_PATTERN = /^\..+\.tmp$/;

/**
 * Writes a file so that readers see either the old content or the whole new content, never
 * a part: write a temp file in the same directory, flush it to disk, then rename over the
 * target (rename is atomic within one file system). A crash leaves at most a hidden temp file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    // Without the flush, a power cut after the rename could leave an empty "complete" file.
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
