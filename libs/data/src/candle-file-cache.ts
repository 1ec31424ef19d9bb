import { Candles } from '@app/common';
import { CANDLE_COLUMNS } from './candle-order';

/**
 * One version of a file on disk. Replacing a file by rename gives it a new inode, and any
 * rewrite changes its mtime or size, so a changed file never matches an old version.
 */
export interface FileVersion {
  absolutePath: string;
  mtimeMs: number;
  size: number;
  ino: number;
}

export interface CandleFileCacheOptions {
  /** Upper bound of the parsed candles held, in bytes (8 per value, 6 values per candle). */
  maxBytes?: number;
}

/** Enough for about ten years of one-minute candles (25 MB each). */
export const DEFAULT_CANDLE_CACHE_BYTES = 256 * 1024 * 1024;

interface CacheEntry {
  version: FileVersion;
  candles: Candles;
  bytes: number;
}

/**
 * Parsed year files kept in memory, least recently used evicted first, so a worker that runs
 * many small tasks over the same files parses each file once. Entries are keyed by the
 * file's version: after a file changes its old entry is never served again. The candles
 * held must not be modified: readers copy out of them.
 */
export class CandleFileCache {
  readonly maxBytes: number;
  // A Map iterates in insertion order; re-inserting on every hit keeps the least recent first.
  private readonly entries = new Map<string, CacheEntry>();
  private heldBytes = 0;

  constructor(options: CandleFileCacheOptions = {}) {
    const { maxBytes = DEFAULT_CANDLE_CACHE_BYTES } = options;
    if (!Number.isFinite(maxBytes) || maxBytes < 0) {
      throw new RangeError(`CandleFileCache maxBytes must be a number >= 0, got ${maxBytes}`);
    }
    this.maxBytes = maxBytes;
  }

  /** Bytes of candles held now. */
  get sizeBytes(): number {
    return this.heldBytes;
  }

  get entryCount(): number {
    return this.entries.size;
  }

  /** The candles parsed from exactly this version of the file, if held. */
  get(version: FileVersion): Candles | undefined {
    const entry = this.entries.get(version.absolutePath);
    if (!entry) return undefined;
    this.remove(version.absolutePath);
    if (!isSameVersion(entry.version, version)) return undefined;
    this.entries.set(version.absolutePath, entry);
    this.heldBytes += entry.bytes;
    return entry.candles;
  }

  /** Holds the candles of this file version; one larger than the whole cache is not held. */
  set(version: FileVersion, candles: Candles): void {
    this.remove(version.absolutePath);
    const bytes = candles.length * CANDLE_COLUMNS.length * Float64Array.BYTES_PER_ELEMENT;
    if (bytes > this.maxBytes) return;
    this.entries.set(version.absolutePath, { version, candles, bytes });
    this.heldBytes += bytes;
    for (const [absolutePath] of this.entries) {
      if (this.heldBytes <= this.maxBytes) break;
      this.remove(absolutePath);
    }
  }

  clear(): void {
    this.entries.clear();
    this.heldBytes = 0;
  }

  private remove(absolutePath: string): void {
    const entry = this.entries.get(absolutePath);
    if (!entry) return;
    this.entries.delete(absolutePath);
    this.heldBytes -= entry.bytes;
  }
}

function isSameVersion(a: FileVersion, b: FileVersion): boolean {
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}
