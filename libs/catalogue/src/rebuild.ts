import { constants, Dirent } from 'node:fs';
import { FileHandle, lstat, open, opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isRunId, MANIFEST_FILE_NAME, TEMP_FILE_PATTERN } from '@app/storage';
import { Catalogue, IndexedKind, IndexedRows, IndexWrite } from './catalogue';
import { createLimiter, Limiter } from './limiter';
import { PRESETS_DIR_NAME, SWEEPS_DIR_NAME } from './results-dir';
import {
  CataloguedManifest,
  fileFingerprint,
  presetFileKey,
  presetRowFromFile,
  runRowFromManifest,
  sweepRowFromManifest,
  UnreadableEntryError,
} from './rows';

/**
 * Heals the catalogue from RESULTS_DIR, the truth (SPEC §11): indexes what has no row, removes
 * rows whose file is gone, for runs, presets and sweeps.
 * - `quick` (at start-up, in the background): only entries without a row, and rows whose file
 *   is gone. A crash between folder and row heals here.
 * - `full` (`cli catalog rebuild`): also re-reads every file whose fingerprint differs from its
 *   row's (a manifest rewritten without its row, a restore, a catalogue from an older copy).
 *
 * It streams: directories are read entry by entry (opendir) and handled in batches, so memory
 * stays flat with 100,000 folders; at most `maxOpenFiles` descriptors are open at once (the
 * directory being listed among them); links are never followed. Its writes never undo a
 * writer's newer row (see IndexWrite), so it may run while the API and workers write.
 */
export interface RebuildOptions {
  mode?: RebuildMode;
  /** Descriptors open at once, the directory being listed included; at most and by default 64. */
  maxOpenFiles?: number;
  /** Entries looked up in the catalogue at a time (default 500). */
  batchSize?: number;
  /**
   * Rows written per transaction (default 5,000). Each commit writes every page it touched to
   * SQLite's log; rows at random keys touch pages all over each index, so fewer, larger
   * commits write far less (500 a commit: half the time of a rebuild went into commits).
   */
  writeBatchSize?: number;
  /** Stops between batches (an API shutting down); the report says what was done. */
  signal?: AbortSignal;
  /** Opens a file to read. For tests that watch the descriptors; the default never follows a link. */
  openFile?: (path: string) => Promise<FileHandle>;
}

export type RebuildMode = 'quick' | 'full';

export interface RebuildCounts {
  /** Rows written: entries the catalogue lacked, or (full) whose file changed. */
  indexed: number;
  /** Rows whose file is gone. */
  removed: number;
  /** Entries whose row was already right (or, quick, present). */
  unchanged: number;
  /** Files that cannot become a row (bad JSON, missing fields, a link); left alone, no row. */
  unreadable: number;
  /** Run and sweep folders without a manifest: not finished yet (or died before it). */
  unfinished: number;
}

export interface RebuildReport {
  mode: RebuildMode;
  runs: RebuildCounts;
  presets: RebuildCounts;
  sweeps: RebuildCounts;
  /** False when stopped by the signal before the end. */
  complete: boolean;
  /** False when RESULTS_DIR does not exist: then nothing is removed (an unmounted volume). */
  results_dir_found: boolean;
  /** The first few unreadable files and why, for the operator. */
  unreadable_files: { path: string; reason: string }[];
  duration_ms: number;
}

export const MAX_OPEN_FILES = 64;
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_WRITE_BATCH_SIZE = 5_000;
const KEYS_PER_REMOVAL_PAGE = 1_000;
const UNREADABLE_EXAMPLES = 10;
const OPTIMIZE_AFTER_CHANGES = 1_000;
/** A manifest or preset is a few KB; anything this large is not one, and is not read. */
const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;
const openNoFollow = (path: string): Promise<FileHandle> => open(path, READ_NO_FOLLOW);

/** How each kind of entry is found under RESULTS_DIR and made into a row. */
interface EntryKind<K extends IndexedKind> {
  kind: K;
  directory(resultsDir: string): string;
  entryType: 'directory' | 'file';
  /** The key an entry name stands for, or undefined when it is not an entry of this kind. */
  keyOf(name: string): string | undefined;
  /** The file the row comes from. */
  sourcePath(resultsDir: string, key: string): string;
  rowFrom(json: unknown, key: string, fingerprint: string): IndexedRows[K];
}

/** Folders are named by lower-case UUID (what ResultStore.runDir builds): anything else is not a run. */
const uuidFolder = (name: string): string | undefined =>
  isRunId(name) && name === name.toLowerCase() ? name : undefined;

const PRESET_FILE = /^([0-9a-f]{64})\.json$/;

const ENTRY_KINDS: { [K in IndexedKind]: EntryKind<K> } = {
  runs: {
    kind: 'runs',
    directory: (resultsDir) => resultsDir,
    entryType: 'directory',
    // Skips presets/, sweeps/, catalog.sqlite* and temp files: none is named by a UUID.
    keyOf: uuidFolder,
    sourcePath: (resultsDir, key) => join(resultsDir, key, MANIFEST_FILE_NAME),
    rowFrom: (json, key, fingerprint) => {
      const row = runRowFromManifest(json as CataloguedManifest, fingerprint);
      if (row.id !== key) throw new UnreadableEntryError(`manifest: task_id ${row.id} ≠ folder`);
      return row;
    },
  },
  presets: {
    kind: 'presets',
    directory: (resultsDir) => join(resultsDir, PRESETS_DIR_NAME),
    entryType: 'file',
    keyOf: (name) => (TEMP_FILE_PATTERN.test(name) ? undefined : PRESET_FILE.exec(name)?.[1]),
    sourcePath: (resultsDir, key) => join(resultsDir, PRESETS_DIR_NAME, `${key}.json`),
    rowFrom: (json, key, fingerprint) => {
      const row = presetRowFromFile(json, fingerprint);
      if (presetFileKey(row.name) !== key)
        throw new UnreadableEntryError(`preset: file name is not the sha256 of "${row.name}"`);
      return row;
    },
  },
  sweeps: {
    kind: 'sweeps',
    directory: (resultsDir) => join(resultsDir, SWEEPS_DIR_NAME),
    entryType: 'directory',
    keyOf: uuidFolder,
    sourcePath: (resultsDir, key) => join(resultsDir, SWEEPS_DIR_NAME, key, MANIFEST_FILE_NAME),
    rowFrom: (json, key, fingerprint) => {
      const row = sweepRowFromManifest(json, fingerprint);
      if (row.sweep_id !== key)
        throw new UnreadableEntryError(`sweep manifest: sweep_id ${row.sweep_id} ≠ folder`);
      return row;
    },
  },
};

export async function rebuildCatalogue(
  catalogue: Catalogue,
  resultsDir: string,
  options: RebuildOptions = {},
): Promise<RebuildReport> {
  const started = performance.now();
  const maxOpenFiles = options.maxOpenFiles ?? MAX_OPEN_FILES;
  if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 2 || maxOpenFiles > MAX_OPEN_FILES)
    throw new RangeError(`maxOpenFiles must be from 2 to ${MAX_OPEN_FILES}`);
  const run = new Rebuild(catalogue, resultsDir, {
    mode: options.mode ?? 'full',
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    writeBatchSize: options.writeBatchSize ?? DEFAULT_WRITE_BATCH_SIZE,
    signal: options.signal,
    openFile: options.openFile ?? openNoFollow,
    // One descriptor is the directory being listed; the files share the rest.
    limit: createLimiter(maxOpenFiles - 1),
  });
  const report = await run.all();
  return { ...report, duration_ms: Math.round(performance.now() - started) };
}

/** Re-reads one entry's file and writes its row as a writer does (or removes it: file gone). */
export async function reindexEntry(
  catalogue: Catalogue,
  resultsDir: string,
  kind: IndexedKind,
  key: string,
): Promise<'indexed' | 'removed'> {
  const entryKind: EntryKind<IndexedKind> = ENTRY_KINDS[kind];
  const source = await readSource(entryKind.sourcePath(resultsDir, key), openNoFollow);
  if (source === undefined) {
    await catalogue.removeIndexed(kind, [key]);
    return 'removed';
  }
  const row = entryKind.rowFrom(source.json, key, source.fingerprint);
  if (kind === 'runs') await catalogue.upsertRun(row as IndexedRows['runs']);
  else if (kind === 'presets') await catalogue.savePreset(row as IndexedRows['presets']);
  else await catalogue.upsertSweep(row as IndexedRows['sweeps']);
  return 'indexed';
}

/** The writer's call after a run folder is complete (or deleted): its row follows the folder. */
export function indexRunFolder(
  catalogue: Catalogue,
  resultsDir: string,
  runId: string,
): Promise<'indexed' | 'removed'> {
  return reindexEntry(catalogue, resultsDir, 'runs', runId.toLowerCase());
}

interface RebuildSettings {
  mode: RebuildMode;
  batchSize: number;
  writeBatchSize: number;
  signal: AbortSignal | undefined;
  openFile: (path: string) => Promise<FileHandle>;
  limit: Limiter;
}

type Report = Omit<RebuildReport, 'duration_ms'>;

class Rebuild {
  private readonly report: Report;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly resultsDir: string,
    private readonly settings: RebuildSettings,
  ) {
    const counts = (): RebuildCounts => ({
      indexed: 0,
      removed: 0,
      unchanged: 0,
      unreadable: 0,
      unfinished: 0,
    });
    this.report = {
      mode: settings.mode,
      runs: counts(),
      presets: counts(),
      sweeps: counts(),
      complete: true,
      results_dir_found: true,
      unreadable_files: [],
    };
  }

  async all(): Promise<Report> {
    if (!(await isDirectory(this.resultsDir))) {
      // Nothing to compare with: removing every row would empty the index of a volume that
      // is merely not mounted yet.
      return { ...this.report, results_dir_found: false };
    }
    for (const kind of ['runs', 'presets', 'sweeps'] as const) {
      if (this.stopped()) break;
      await this.scan(ENTRY_KINDS[kind]);
      if (this.stopped()) break;
      await this.removeGone(ENTRY_KINDS[kind]);
    }
    const { runs } = this.report;
    // After many writes the planner's statistics are stale: it may pick a poor index.
    if (runs.indexed + runs.removed > OPTIMIZE_AFTER_CHANGES) await this.catalogue.optimize();
    return this.report;
  }

  private stopped(): boolean {
    if (this.settings.signal?.aborted) this.report.complete = false;
    return !this.report.complete;
  }

  /** Lists the kind's directory, entry by entry, handling a batch of keys at a time. */
  private async scan<K extends IndexedKind>(kind: EntryKind<K>): Promise<void> {
    const directory = kind.directory(this.resultsDir);
    let entries;
    try {
      entries = await opendir(directory, { bufferSize: 256 });
    } catch (error) {
      if (isGone(error)) return; // no presets/ or sweeps/ yet: nothing to index
      throw error;
    }
    let batch: string[] = [];
    // Batches are read (files, JSON) while the writes gathered before are written (by the
    // catalogue's thread, or the database server): the two halves of the work overlap.
    let writing: Promise<void> = Promise.resolve();
    let gathered: IndexWrite<IndexedRows[K]>[] = [];
    const flush = async () => {
      const writes = gathered;
      gathered = [];
      await writing;
      writing = this.writeBatch(kind, writes);
      writing.catch(() => undefined); // its failure is awaited below, not unhandled meanwhile
    };
    const next = async (keys: string[]) => {
      gathered.push(...(await this.readBatch(kind, keys)));
      if (gathered.length >= this.settings.writeBatchSize) await flush();
    };
    // Leaving the loop early (break, throw) closes the directory.
    for await (const entry of entries) {
      const key = kind.keyOf(entry.name);
      if (key === undefined || !(await this.isEntryType(entry, directory, kind.entryType)))
        continue;
      batch.push(key);
      if (batch.length < this.settings.batchSize) continue;
      await next(batch);
      batch = [];
      if (this.stopped()) break;
    }
    if (batch.length > 0 && !this.stopped()) await next(batch);
    await flush();
    await writing;
  }

  /** By the entry's own type: a link to a folder is a link, never followed. */
  private async isEntryType(
    entry: Dirent,
    directory: string,
    type: 'directory' | 'file',
  ): Promise<boolean> {
    const known = entry.isDirectory() || entry.isFile() || entry.isSymbolicLink();
    if (known) return type === 'directory' ? entry.isDirectory() : entry.isFile();
    // Some file systems do not say the type while listing: ask the entry itself.
    const stats = await lstat(join(directory, entry.name)).catch(() => undefined);
    return type === 'directory' ? stats?.isDirectory() === true : stats?.isFile() === true;
  }

  /** The writes a batch of keys needs: reads the files of the entries that have no row or a stale one. */
  private async readBatch<K extends IndexedKind>(
    kind: EntryKind<K>,
    keys: string[],
  ): Promise<IndexWrite<IndexedRows[K]>[]> {
    const counts = this.report[kind.kind];
    const stored = await this.catalogue.fingerprints(kind.kind, keys);
    const writes: IndexWrite<IndexedRows[K]>[] = [];
    await Promise.all(
      keys.map((key) =>
        this.settings.limit(async () => {
          const hasRow = stored.has(key);
          if (hasRow && this.settings.mode === 'quick') {
            counts.unchanged++;
            return;
          }
          const path = kind.sourcePath(this.resultsDir, key);
          const storedFingerprint = stored.get(key) ?? null;
          if (hasRow) {
            // Full mode: the file's metadata says whether the row is stale, without opening it.
            const stats = await lstat(path).catch(() => undefined);
            if (stats && fileFingerprint(stats) === storedFingerprint) {
              counts.unchanged++;
              return;
            }
          }
          let source;
          try {
            source = await readSource(path, this.settings.openFile);
          } catch (error) {
            this.unreadable(kind.kind, path, error);
            return;
          }
          if (source === undefined) {
            // No manifest: a run still going. A row whose file is gone goes in removeGone.
            if (!hasRow && kind.entryType === 'directory') counts.unfinished++;
            return;
          }
          let row: IndexedRows[K];
          try {
            row = kind.rowFrom(source.json, key, source.fingerprint);
          } catch (error) {
            this.unreadable(kind.kind, path, error);
            return;
          }
          writes.push(
            hasRow
              ? { row, when: 'unchanged', fingerprint: storedFingerprint }
              : { row, when: 'absent' },
          );
        }),
      ),
    );
    return writes;
  }

  private async writeBatch<K extends IndexedKind>(
    kind: EntryKind<K>,
    writes: IndexWrite<IndexedRows[K]>[],
  ): Promise<void> {
    const counts = this.report[kind.kind];
    const written = await this.catalogue.index(kind.kind, writes);
    counts.indexed += written;
    // A write that found a writer's row already there (or newer) leaves that row: unchanged.
    counts.unchanged += writes.length - written;
  }

  /** Rows whose file is gone, found by walking the catalogue's keys a page at a time. */
  private async removeGone<K extends IndexedKind>(kind: EntryKind<K>): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const keys = await this.catalogue.indexedKeys(kind.kind, after, KEYS_PER_REMOVAL_PAGE);
      if (keys.length === 0) return;
      after = keys[keys.length - 1];
      const gone: string[] = [];
      await Promise.all(
        keys.map((key) =>
          this.settings.limit(async () => {
            // lstat opens nothing; a link where the file should be still counts as there.
            await lstat(kind.sourcePath(this.resultsDir, key)).catch((error: unknown) => {
              if (isGone(error)) gone.push(key);
            });
          }),
        ),
      );
      this.report[kind.kind].removed += await this.catalogue.removeIndexed(kind.kind, gone);
      if (this.stopped()) return;
    }
  }

  private unreadable(kind: IndexedKind, path: string, error: unknown): void {
    this.report[kind].unreadable++;
    if (this.report.unreadable_files.length < UNREADABLE_EXAMPLES) {
      const reason = error instanceof Error ? error.message : String(error);
      this.report.unreadable_files.push({ path, reason });
    }
  }
}

interface Source {
  json: unknown;
  fingerprint: string;
}

/**
 * A source file's JSON and its fingerprint, both from one open descriptor (so they describe
 * the same version, even while a writer renames a new one into place); undefined when the
 * file does not exist. A link (O_NOFOLLOW: ELOOP), a non-file, a huge file or bad JSON throw.
 */
async function readSource(
  path: string,
  openFile: (path: string) => Promise<FileHandle>,
): Promise<Source | undefined> {
  let handle: FileHandle;
  try {
    handle = await openFile(path);
  } catch (error) {
    if (isGone(error)) return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new UnreadableEntryError(`${path} is a symbolic link (links are not followed)`);
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UnreadableEntryError(`${path} is not a file`);
    if (stats.size > MAX_SOURCE_BYTES)
      throw new UnreadableEntryError(`${path} is ${stats.size} bytes: too large to be one`);
    const text = await handle.readFile('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UnreadableEntryError(`${path} is not valid JSON`);
    }
    return { json, fingerprint: fileFingerprint(stats) };
  } finally {
    await handle.close();
  }
}

/** RESULTS_DIR itself may well be a link (a mounted volume); only what is inside it is not followed. */
async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** ENOENT, or ENOTDIR: a file where a folder should be. Either way the entry is not there. */
function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
