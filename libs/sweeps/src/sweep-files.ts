import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { SWEEPS_DIR_NAME } from '@app/catalogue';
import { getStrategy } from '@app/strategies';
import type { CombinationResult, SymbolFigures } from './evaluate-chunk';
import { summariseSweep, type SweepOutcome } from './ranking';
import { combinationParams, SweepPlan, SweepRequest } from './sweep-request';

/** RESULTS_DIR's sweeps folder: the catalogue's reserved entry of that name (SPEC §11). */
export const SWEEPS_DIR = SWEEPS_DIR_NAME;
export const SWEEP_DOCUMENT_FILE = 'sweep.json';
export const SWEEP_RESULTS_FILE = 'results.parquet';
export const SWEEP_MANIFEST_FILE = 'manifest.json';

export function sweepDir(resultsDir: string, sweepId: string): string {
  return join(resultsDir, SWEEPS_DIR, sweepId);
}

/** sweep.json: the request, best, top and validation (SPEC §13). */
export interface SweepDocument extends SweepOutcome {
  sweep_id: string;
  status: 'completed';
  combinations: number;
  done: number;
  request: SweepRequest;
  objective: string;
  created_at: string;
  started_at: string | null;
  finished_at: string;
  execution_time: number;
}

/** When a completed sweep ran, as its document reports it. */
export interface SweepTiming {
  createdAt: string;
  startedAt: string | null;
  finishedAt: string;
  /** Seconds. */
  executionTime: number;
}

/**
 * sweep.json of a completed sweep: the request, the ranking of every combination's results
 * (summariseSweep) and its timing. The worker's parent job and `cli sweep` both write it.
 */
export function completedSweepDocument(
  sweepId: string,
  plan: SweepPlan,
  results: readonly CombinationResult[],
  timing: SweepTiming,
): SweepDocument {
  return {
    sweep_id: sweepId,
    status: 'completed',
    combinations: plan.combinations,
    done: plan.combinations,
    request: plan.request,
    objective: plan.request.objective,
    created_at: timing.createdAt,
    started_at: timing.startedAt,
    finished_at: timing.finishedAt,
    execution_time: timing.executionTime,
    ...summariseSweep(plan, results),
  };
}

/**
 * The row of the catalogue and the top of the manifest (SweepRow's fields, which
 * sweepRowFromManifest reads back on a rebuild), then the files with their md5s.
 */
export interface SweepManifest {
  sweep_id: string;
  status: 'completed';
  strategy: string;
  symbols: string[];
  timeframe: string;
  start_date: string;
  end_date: string;
  combinations: number;
  done: number;
  objective: string;
  created_at: string;
  finished_at: string;
  best: SweepOutcome['best'];
  error: null;
  result_files: Array<{ name: string; path: string; size_bytes: number; checksum: string }>;
}

/**
 * results.parquet: one row per combination, window and symbol: `index`, the parameters by
 * name, `window`, `symbol`, then the figures of that run by their names (§3 metrics, §12
 * stats), in index order.
 */
export function encodeSweepResults(
  plan: SweepPlan,
  results: readonly CombinationResult[],
): Uint8Array {
  const strategy = getStrategy(plan.request.strategy)!;
  const rows: Array<{
    index: number;
    params: Record<string, unknown>;
    window: string;
    figures: SymbolFigures;
  }> = [];
  for (const result of results) {
    const params = combinationParams(plan, strategy, result.index);
    for (const window of plan.windows) {
      for (const figures of result.windows[window.name].symbols) {
        rows.push({ index: result.index, params, window: window.name, figures });
      }
    }
  }
  const columns: ColumnSource[] = [
    {
      name: 'index',
      data: Int32Array.from(rows, (row) => row.index),
      type: 'INT32',
      nullable: false,
    },
  ];
  for (const spec of strategy.params) {
    const values = rows.map((row) => row.params[spec.name]);
    if (spec.type === 'int')
      columns.push({
        name: spec.name,
        data: Int32Array.from(values as number[]),
        type: 'INT32',
        nullable: false,
      });
    else if (spec.type === 'float')
      columns.push({
        name: spec.name,
        data: Float64Array.from(values as number[]),
        type: 'DOUBLE',
        nullable: false,
      });
    else if (spec.type === 'bool')
      columns.push({
        name: spec.name,
        data: values as boolean[],
        type: 'BOOLEAN',
        nullable: false,
      });
    else
      columns.push({ name: spec.name, data: values as string[], type: 'STRING', nullable: false });
  }
  columns.push({
    name: 'window',
    data: rows.map((row) => row.window),
    type: 'STRING',
    nullable: false,
  });
  columns.push({
    name: 'symbol',
    data: rows.map((row) => row.figures.symbol),
    type: 'STRING',
    nullable: false,
  });
  // The figures' names are the engine's own (the first row's keys): one definition of them.
  const sample = rows[0]?.figures;
  const figureNames = sample ? Object.keys(sample).filter((name) => name !== 'symbol') : [];
  const integerFigures = new Set(['candles', 'samples', 'trades', 'signals_skipped']);
  for (const name of figureNames) {
    const values = rows.map(
      (row) => (row.figures as unknown as Record<string, number | null>)[name],
    );
    if (integerFigures.has(name)) {
      columns.push({
        name,
        data: Int32Array.from(values as number[]),
        type: 'INT32',
        nullable: false,
      });
    } else {
      columns.push({ name, data: values, type: 'DOUBLE', nullable: true });
    }
  }
  return new Uint8Array(parquetWriteBuffer({ columnData: columns }));
}

function md5(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/**
 * Writes `sweeps/{id}/` whole or not at all: the three files go into a hidden temp folder
 * (`.{id}.….tmp`, which no reader or rebuild takes for a sweep), then one rename puts the
 * folder in place. The manifest, written last, lists the other two with their md5s.
 */
export async function writeSweepFolder(
  resultsDir: string,
  document: SweepDocument,
  parquet: Uint8Array,
): Promise<SweepManifest> {
  return writeSweepFolderAt(sweepDir(resultsDir, document.sweep_id), document, parquet);
}

/** The same into any folder (`cli sweep --out DIR`), replacing what is there. */
export async function writeSweepFolderAt(
  target: string,
  document: SweepDocument,
  parquet: Uint8Array,
): Promise<SweepManifest> {
  const root = dirname(target);
  await mkdir(root, { recursive: true });
  const temp = join(
    root,
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  await mkdir(temp);
  try {
    const json = JSON.stringify(document, null, 2);
    await writeFile(join(temp, SWEEP_DOCUMENT_FILE), json);
    await writeFile(join(temp, SWEEP_RESULTS_FILE), parquet);
    const { request } = document;
    const manifest: SweepManifest = {
      sweep_id: document.sweep_id,
      status: 'completed',
      strategy: request.strategy,
      symbols: request.symbols,
      timeframe: request.timeframe,
      start_date: request.start_date,
      end_date: request.end_date,
      combinations: document.combinations,
      done: document.done,
      objective: document.objective,
      created_at: document.created_at,
      finished_at: document.finished_at,
      best: document.best,
      error: null,
      result_files: [
        {
          name: SWEEP_DOCUMENT_FILE,
          path: SWEEP_DOCUMENT_FILE,
          size_bytes: Buffer.byteLength(json),
          checksum: md5(json),
        },
        {
          name: SWEEP_RESULTS_FILE,
          path: SWEEP_RESULTS_FILE,
          size_bytes: parquet.byteLength,
          checksum: md5(parquet),
        },
      ],
    };
    await writeFile(join(temp, SWEEP_MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    // A second writer of the same sweep (a parent job run again) replaces the first's folder.
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
    return manifest;
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** sweep.json of a finished sweep, or undefined when it has none. */
export async function readSweepDocument(
  resultsDir: string,
  sweepId: string,
): Promise<SweepDocument | undefined> {
  try {
    return JSON.parse(
      await readFile(join(sweepDir(resultsDir, sweepId), SWEEP_DOCUMENT_FILE), 'utf8'),
    ) as SweepDocument;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
