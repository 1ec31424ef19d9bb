import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { parquetWriteBuffer, SchemaElement } from 'hyparquet-writer';
import { Candles, InvalidInputError, makeDirectory, PRICE_COLUMNS } from '@app/common';
import { CANDLE_COLUMNS } from './candle-order';

/** Codecs our writer produces; the reader takes every mainstream codec. */
export type CandleCompression = 'SNAPPY' | 'GZIP' | 'BROTLI' | 'UNCOMPRESSED';

export interface WriteCandleFileOptions {
  /** Default SNAPPY: fast to decode, which is what matters for a file read many times. */
  compression?: CandleCompression;
  /** Rows per row group; the loader checks for cancellation between groups. */
  rowGroupSize?: number;
}

export const DEFAULT_ROW_GROUP_SIZE = 100_000;

/**
 * The canonical candle schema: timestamp as INT64 TIMESTAMP(MILLIS, adjusted to UTC), the
 * prices and volume as DOUBLE, all required.
 */
const CANDLE_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: CANDLE_COLUMNS.length },
  {
    name: 'timestamp',
    type: 'INT64',
    repetition_type: 'REQUIRED',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  ...PRICE_COLUMNS.map((name): SchemaElement => ({
    name,
    type: 'DOUBLE',
    repetition_type: 'REQUIRED',
  })),
];

// hyparquet-writer compresses SNAPPY itself; the other codecs come from Node's zlib.
const COMPRESSORS = {
  GZIP: (input: Uint8Array) => gzipSync(input),
  BROTLI: (input: Uint8Array) => brotliCompressSync(input),
};

/**
 * Writes candles (timestamps in whole UTC epoch ms) as a Parquet file, atomically: the bytes
 * go to a temp file in the same directory, which is then renamed over the target, so a
 * reader sees the old file or the new one, never half of one. Creates missing directories.
 */
export async function writeCandleFile(
  filePath: string,
  candles: Candles,
  options: WriteCandleFileOptions = {},
): Promise<void> {
  const staged = await stageFile(filePath, encodeCandleFile(candles, options));
  await staged.commit();
}

/** The Parquet bytes of a candle file. */
export function encodeCandleFile(
  candles: Candles,
  options: WriteCandleFileOptions = {},
): Uint8Array {
  const { compression = 'SNAPPY', rowGroupSize = DEFAULT_ROW_GROUP_SIZE } = options;
  if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) {
    throw InvalidInputError.of('rowGroupSize', rowGroupSize, 'a whole number of rows >= 1');
  }
  const badTimestamp = candles.timestamp.find((value) => !Number.isSafeInteger(value));
  if (badTimestamp !== undefined) {
    throw InvalidInputError.of('timestamp', badTimestamp, 'whole UTC epoch milliseconds');
  }
  const buffer = parquetWriteBuffer({
    schema: CANDLE_SCHEMA,
    columnData: CANDLE_COLUMNS.map((name) => ({ name, data: candles[name] })),
    codec: compression,
    compressors: COMPRESSORS,
    rowGroupSize,
  });
  return new Uint8Array(buffer);
}

/** A file written under a temp name, waiting to replace its target. */
export interface StagedFile {
  /** Renames the temp file over the target: the atomic step. */
  commit(): Promise<void>;
  /** Removes the temp file, leaving the target untouched. */
  discard(): Promise<void>;
}

/**
 * Writes `bytes` to a temp file beside `filePath` (same directory, so the rename is atomic)
 * and flushes it to disk. The temp name starts with a dot and does not end in `.parquet`,
 * so no reader or inventory ever takes it for data.
 */
export async function stageFile(filePath: string, bytes: Uint8Array): Promise<StagedFile> {
  const directory = path.dirname(filePath);
  await makeDirectory(directory);
  const tempPath = path.join(directory, `.${path.basename(filePath)}.${randomUUID()}.tmp`);
  const discard = () => rm(tempPath, { force: true });
  try {
    const handle = await open(tempPath, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await discard();
    throw error;
  }
  return {
    commit: async () => {
      try {
        await rename(tempPath, filePath);
      } catch (error) {
        await discard();
        throw error;
      }
    },
    discard,
  };
}
