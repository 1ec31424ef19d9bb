import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  makeDirectory,
  makeDirectorySync,
  mapLimit,
  MAX_OPEN_FILES,
  NotFoundError,
  TERMINAL_STATUSES,
} from '@app/common';
import { writeFileAtomic, writeFileAtomicSync } from './atomic-file';
import { Manifest, MANIFEST_FILE_NAME, RESULT_FILE_NAME, ResultFileEntry } from './manifest';
import { isRunId } from './run-id';

export type ManifestFields = Omit<Manifest, 'task_id' | 'status' | 'result_files'>;

/** A file of a completed run besides result.json (chart.json), as text to write. */
export interface RunFileContent {
  /** A plain file name inside the run folder. */
  name: string;
  content: string;
}

/** A result file ready to be sent: where it is and how big. */
/** How result files are opened for reading: never through a symbolic link (ELOOP instead). */
export const RESULT_READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

export interface StoredResultFile {
  path: string;
  size_bytes: number;
}

/**
 * The run folders under RESULTS_DIR (SPEC §7): `{id}/result.json` + `{id}/manifest.json`.
 * The result is written first and the manifest last, each atomically, so a manifest on disk
 * always describes a complete run, and a reader never sees half a file.
 */
export interface ResultStoreOptions {
  /**
   * Write with blocking calls: for a worker thread that has nothing else to do (see
   * writeFileAtomicSync). Never on an event loop that serves requests.
   */
  blockingWrites?: boolean;
}

export class ResultStore {
  /**
   * Parsed manifests, each with the version of the file it came from. A manifest can be
   * rewritten (cancelled just as it completed, a retried run, a restore from backup), and
   * another process may be the writer: a stat per read checks the version, and every atomic
   * write is a rename to a new inode. Parsing a manifest costs far more than that stat.
   */
  private readonly manifestCache = new Map<string, { manifest: Manifest; version: string }>();
  private readonly blockingWrites: boolean;

  constructor(
    readonly resultsDir: string,
    options: ResultStoreOptions = {},
  ) {
    this.blockingWrites = options.blockingWrites ?? false;
  }

  /** The run's folder. Ids that are not UUIDs are unknown by definition: no path is built. */
  runDir(id: string): string {
    if (!isRunId(id))
      throw new NotFoundError(`No run with id ${JSON.stringify(id)} (ids are UUIDs)`);
    return join(this.resultsDir, id.toLowerCase());
  }

  /**
   * Stores a completed run: its other files (`extraFiles`, e.g. chart.json), then result.json,
   * then manifest.json with the md5 and size of each (result.json first in `result_files`).
   */
  async saveCompleted(
    id: string,
    resultJson: string,
    fields: ManifestFields,
    extraFiles: readonly RunFileContent[] = [],
  ): Promise<Manifest> {
    const dir = await this.makeRunDir(id);
    const extras: ResultFileEntry[] = [];
    for (const file of extraFiles) extras.push(await this.writeRunFile(id, dir, file));
    const resultFile = await this.writeRunFile(id, dir, {
      name: RESULT_FILE_NAME,
      content: resultJson,
    });
    return this.writeManifest({
      task_id: id,
      status: 'completed',
      result_files: [resultFile, ...extras],
      ...fields,
    });
  }

  private async writeRunFile(
    id: string,
    dir: string,
    file: RunFileContent,
  ): Promise<ResultFileEntry> {
    const bytes = Buffer.from(file.content, 'utf8');
    await this.writeAtomic(join(dir, file.name), bytes);
    return {
      name: file.name,
      path: `${id.toLowerCase()}/${file.name}`,
      size_bytes: bytes.length,
      checksum: createHash('md5').update(bytes).digest('hex'),
    };
  }

  /**
   * Rewrites a completed run's result.json (a symbol switched inactive, SPEC §10.6): the new
   * file atomically, then the manifest with its new size and md5 and the given summary; every
   * other file the manifest lists stays as it is. The caller holds the run's lock.
   */
  async replaceResult(
    id: string,
    resultJson: string,
    summary: Manifest['summary'],
  ): Promise<Manifest> {
    const manifest = await this.readManifest(id);
    if (manifest?.status !== 'completed') {
      throw new NotFoundError(`Run ${id} has no result to rewrite`);
    }
    const dir = this.runDir(id);
    const resultFile = await this.writeRunFile(id, dir, {
      name: RESULT_FILE_NAME,
      content: resultJson,
    });
    return this.writeManifest({
      ...manifest,
      result_files: manifest.result_files.map((file) =>
        file.name === RESULT_FILE_NAME ? resultFile : file,
      ),
      summary,
    });
  }

  /**
   * Stores a run that ended without a result (failed or cancelled): a manifest only. Result
   * files left by a race (cancelled just after the run was written: result.json and whatever
   * else that manifest lists) are removed first.
   */
  async saveUnfinished(
    id: string,
    status: 'failed' | 'cancelled',
    fields: ManifestFields,
  ): Promise<Manifest> {
    const dir = await this.makeRunDir(id);
    const listed = (await this.readManifest(id))?.result_files.map((file) => file.name) ?? [];
    for (const name of new Set([RESULT_FILE_NAME, ...listed])) {
      if (/^[\w.-]+$/.test(name)) await rm(join(dir, name), { force: true });
    }
    return this.writeManifest({ task_id: id, status, result_files: [], ...fields });
  }

  private async makeRunDir(id: string): Promise<string> {
    const dir = this.runDir(id);
    if (this.blockingWrites) makeDirectorySync(dir);
    else await makeDirectory(dir);
    return dir;
  }

  private async writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
    if (this.blockingWrites) writeFileAtomicSync(path, data);
    else await writeFileAtomic(path, data);
  }

  private async writeManifest(manifest: Manifest): Promise<Manifest> {
    await this.writeAtomic(
      join(this.runDir(manifest.task_id), MANIFEST_FILE_NAME),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    return manifest;
  }

  /** The run's manifest, or undefined when the run is unknown or not finished. */
  async readManifest(id: string): Promise<Manifest | undefined> {
    if (!isRunId(id)) return undefined;
    const key = id.toLowerCase();
    const path = join(this.runDir(key), MANIFEST_FILE_NAME);
    let version: string;
    try {
      const { ino, size, mtimeMs } = await stat(path);
      version = `${ino}:${size}:${mtimeMs}`;
    } catch (error) {
      if (isMissing(error)) {
        this.manifestCache.delete(key);
        return undefined;
      }
      throw error;
    }
    const cached = this.manifestCache.get(key);
    if (cached?.version === version) return cached.manifest;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const manifest = parseManifest(text);
    if (manifest) this.manifestCache.set(key, { manifest, version });
    else this.manifestCache.delete(key);
    return manifest;
  }

  /**
   * Where the completed run's result.json is; NotFoundError when there is none, or when it
   * is not a regular file: a symbolic link put in a run folder would have the API serve
   * whatever it points at (issue 10, item 9), so links are refused, not followed. Readers
   * open it with RESULT_READ_FLAGS, which refuse a link swapped in after this check.
   */
  async resultFile(id: string): Promise<StoredResultFile> {
    const path = join(this.runDir(id), RESULT_FILE_NAME);
    let stats;
    try {
      stats = await lstat(path);
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`No result for run "${id}"`);
      throw error;
    }
    if (!stats.isFile()) {
      throw new NotFoundError(
        `No result for run "${id}": its result.json is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}, which is never served`,
      );
    }
    return { path, size_bytes: stats.size };
  }

  /** The completed run's result.json as text; NotFoundError when there is none. */
  async readResultText(id: string): Promise<string> {
    const { path } = await this.resultFile(id);
    const handle = await open(path, RESULT_READ_FLAGS);
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  }

  /** Ids of every run folder (finished or not), in no particular order. */
  async listRunIds(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.resultsDir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
    return entries.filter((entry) => entry.isDirectory() && isRunId(entry.name)).map((e) => e.name);
  }

  /** Every finished run's manifest, newest finished first. Unreadable manifests are skipped. */
  async listManifests(): Promise<Manifest[]> {
    const ids = await this.listRunIds();
    const present = new Set(ids);
    for (const id of this.manifestCache.keys()) if (!present.has(id)) this.manifestCache.delete(id);
    const manifests = await mapLimit(ids, MAX_OPEN_FILES, (id) => this.readManifest(id));
    return manifests
      .filter((manifest): manifest is Manifest => manifest !== undefined)
      .sort((a, b) => b.metadata.finished_at.localeCompare(a.metadata.finished_at));
  }

  /** Deletes a run folder and forgets its manifest. */
  async removeRun(id: string): Promise<void> {
    await rm(this.runDir(id), { recursive: true, force: true });
    this.manifestCache.delete(id.toLowerCase());
  }
}

function parseManifest(text: string): Manifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<Manifest>;
    const valid =
      typeof value.task_id === 'string' &&
      (TERMINAL_STATUSES as readonly string[]).includes(value.status as string) &&
      typeof value.metadata?.finished_at === 'string';
    if (!valid) return undefined;
    // Written before SPEC §12: no costs, overlapping trades (every default).
    value.execution ??= {};
    return value as Manifest;
  } catch {
    return undefined;
  }
}

export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
