import { Injectable } from '@nestjs/common';
import { Catalogue, HistoryQuery, RunRow } from '@app/catalogue';
import { NotFoundError, TerminalStatus } from '@app/common';
import { InjectCatalogue } from '@app/platform';
import { Manifest, ResultStore, StoredResultFile } from '@app/storage';
import { TaskStateStore } from '@app/task-state';
import { HistoryPageDto, HistoryQueryDto, RunSummaryDto } from './history.dto';

/** A completed run's result file and the manifest that vouches for it (size, md5). */
export interface CompletedRun {
  manifest: Manifest;
  file: StoredResultFile;
}

/** How a run ended, as a lookup by id needs it: from its catalogue row or its manifest. */
interface RunEnding {
  status: TerminalStatus;
  error: string | null;
}

/**
 * Finished runs (SPEC §7, §11): lists and lookups read the run catalogue, never a scan of
 * RESULTS_DIR; then only the files of the one run asked for are opened (its manifest for the
 * md5, its result). A run whose row is missing (a crash between folder and row, healed by
 * the next rebuild) is still found by id from its own folder.
 */
@Injectable()
export class RunResults {
  constructor(
    private readonly store: ResultStore,
    private readonly tasks: TaskStateStore,
    @InjectCatalogue() private readonly catalogue: Catalogue,
  ) {}

  async history(query: HistoryQueryDto): Promise<HistoryPageDto> {
    const { limit, offset } = query;
    const filters: HistoryQuery = {
      limit,
      offset,
      status: query.status,
      ...(query.strategy !== undefined && { strategy: query.strategy }),
      ...(query.symbol !== undefined && { symbol: query.symbol.toUpperCase() }),
      ...(query.start_date !== undefined && { start_date: query.start_date }),
      ...(query.end_date !== undefined && { end_date: query.end_date }),
      ...(query.date_from !== undefined && { date_from: query.date_from }),
      ...(query.date_to !== undefined && { date_to: query.date_to }),
      ...(query.min_return !== undefined && { min_return: query.min_return }),
      ...(query.max_return !== undefined && { max_return: query.max_return }),
      ...(query.min_signals !== undefined && { min_signals: query.min_signals }),
      ...(query.max_signals !== undefined && { max_signals: query.max_signals }),
    };
    const page = await this.catalogue.history(filters);
    return {
      items: page.items.map((row) => RunSummaryDto.of(row)),
      total: page.total,
      limit,
      offset,
    };
  }

  /** The newest completed run (by finish time); failed and cancelled runs have no result. */
  async latest(): Promise<CompletedRun> {
    const row = await this.catalogue.latestCompletedRun();
    if (!row) throw new NotFoundError('No backtest has completed yet');
    return this.completedFiles(row.id);
  }

  /** A completed run; a 404 says why there is no result (unknown, not finished, failed...). */
  async completed(id: string): Promise<CompletedRun> {
    const ending = await this.ending(id);
    if (!ending) throw new NotFoundError(await this.whyNoRun(id));
    if (ending.status !== 'completed') {
      const verb = ending.status === 'failed' ? 'failed' : 'was cancelled';
      throw new NotFoundError(
        `Run ${id} has no result: it ${verb}${ending.error ? `: ${ending.error}` : ''}`,
      );
    }
    return this.completedFiles(id);
  }

  /**
   * How a finished run ended: its catalogue row, or (no row yet) its own manifest; undefined
   * for a run that has not finished or is unknown. For the status of a task whose hash expired.
   */
  async ending(id: string): Promise<RunEnding | undefined> {
    const row: RunRow | undefined = await this.catalogue.getRun(id.toLowerCase());
    if (row) return { status: row.status, error: row.error };
    const manifest = await this.store.readManifest(id);
    return manifest && { status: manifest.status, error: manifest.error.message };
  }

  /** The run's manifest (its md5) and result file: the one run's files, nothing else. */
  private async completedFiles(id: string): Promise<CompletedRun> {
    const manifest = await this.store.readManifest(id);
    // A row whose folder was deleted meanwhile (cleanup) is a run that is gone.
    if (manifest?.status !== 'completed') throw new NotFoundError(`No run ${id}`);
    return { manifest, file: await this.store.resultFile(id) };
  }

  /** A task still queued or running has no folder yet; say so rather than "unknown". */
  private async whyNoRun(id: string): Promise<string> {
    // The folder is the truth here; Redis only makes the message kinder, so its absence is no error.
    const record = await this.tasks.get(id).catch(() => undefined);
    if (record && (record.status === 'queued' || record.status === 'running')) {
      return `Run ${id} has no result yet: the task is ${record.status}; follow it at GET /api/backtests/status/${id}`;
    }
    if (record && record.status !== 'cancelled') {
      // A worker finished it, yet its folder is not here: the API and that worker write to
      // different RESULTS_DIRs (issue 10, item 10: this was a bare "No run").
      return `Task ${id} ${record.status}, but its run folder is not in this API's RESULTS_DIR (${this.store.resultsDir}): the API and every worker must use the same RESULTS_DIR (one shared volume)`;
    }
    return `No run ${id}`;
  }
}
