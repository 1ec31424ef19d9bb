import { createWriteStream } from 'node:fs';
import { link, readFile, rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dirname } from 'node:path';
import { ConflictError, makeDirectory, toThreadError } from '@app/common';
import { ResultDocument, setSymbolActive, tradesCsvLines } from '@app/backtest';
import {
  CandleFileCache,
  candleFileLocation,
  checkUploadedCandles,
  describeCandleFile,
  encodeCandleFile,
} from '@app/data';
import { ResultStore, writeFileAtomic } from '@app/storage';
import { workerData } from 'node:worker_threads';
import { readCandleWindowJson } from '../data/candle-window';
import type {
  ApiThreadReply,
  ApiThreadResults,
  ApiThreadSettings,
  ApiThreadTask,
  InstalledUpload,
} from './api-thread-protocol';

const settings = workerData as ApiThreadSettings;
/** Parsed year files stay in the thread between requests (zooms, a run's PATCHes). */
const cache = new CandleFileCache({ maxBytes: settings.candleCacheBytes });

/**
 * A thread of the API's pool (ApiThreads): plain libraries only, no Nest. Each task is one
 * request's file work; what it throws comes back as data (ApiThreadReply).
 */
export default async function runApiThreadTask(
  task: ApiThreadTask,
): Promise<ApiThreadReply<ApiThreadTask['kind']>> {
  try {
    return { ok: true, value: await run(task) };
  } catch (error) {
    return { ok: false, error: toThreadError(error) };
  }
}

async function run(task: ApiThreadTask): Promise<ApiThreadResults[ApiThreadTask['kind']]> {
  switch (task.kind) {
    case 'describe-candle-files': {
      const entries = [];
      for (const file of task.files) entries.push(await describeCandleFile(file));
      return entries;
    }
    case 'read-candle-window':
      return readCandleWindowJson(settings.dataRoot, task.query, cache);
    case 'install-upload':
      return installUpload(task);
    case 'write-trades-csv':
      return writeTradesCsv(task.resultPath, task.csvPath);
    case 'set-symbol-active':
      return setSymbolActive({
        store: new ResultStore(task.resultsDir),
        dataRoot: task.dataRoot,
        runId: task.runId,
        symbol: task.symbol,
        isActive: task.isActive,
      });
  }
}

/**
 * SPEC §10.8: the staged upload checked in full, then put in the layout as the year file: a
 * Parquet upload is moved there as it is, a CSV converted (as `cli import` converts, without
 * merging). Without `overwrite` the file is linked in (atomic: it fails if one appeared
 * meanwhile, so nothing good is ever replaced); with it, renamed over the old one. Either way
 * readers see the old file or the new one, never a part.
 */
async function installUpload(
  task: Extract<ApiThreadTask, { kind: 'install-upload' }>,
): Promise<InstalledUpload> {
  const { stagedPath, dataRoot, symbol, timeframe, year, overwrite, fileName } = task;
  const checked = await checkUploadedCandles({
    path: stagedPath,
    displayName: fileName,
    timeframe,
    year,
  });
  const location = candleFileLocation(dataRoot, symbol, timeframe, year);
  await makeDirectory(dirname(location.absolutePath));
  let ready = stagedPath;
  if (checked.format === 'csv') {
    ready = `${stagedPath}.parquet`;
    await writeFileAtomic(ready, encodeCandleFile(checked.candles));
  }
  try {
    if (overwrite) {
      await rename(ready, location.absolutePath);
    } else {
      try {
        await link(ready, location.absolutePath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        throw new ConflictError(
          `${location.relativePath} exists: send overwrite=true to replace it`,
        );
      }
    }
  } finally {
    if (ready !== stagedPath) await rm(ready, { force: true });
  }
  return {
    relative_path: location.relativePath,
    rows: checked.candles.length,
    format: checked.format,
  };
}

/** SPEC §12's trades CSV of a stored result, streamed into `csvPath` as it is made. */
async function writeTradesCsv(resultPath: string, csvPath: string): Promise<{ bytes: number }> {
  const result = JSON.parse(await readFile(resultPath, 'utf8')) as ResultDocument;
  const out = createWriteStream(csvPath, { flags: 'wx', mode: 0o600 });
  await pipeline(Readable.from(tradesCsvLines(result)), out);
  return { bytes: out.bytesWritten };
}
