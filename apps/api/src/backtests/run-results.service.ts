import { Injectable } from '@nestjs/common';
import { NotFoundError } from '@app/common';
import { Manifest, ResultStore, StoredResultFile } from '@app/storage';
import { TaskStateStore } from '@app/task-state';
import { paginate } from '../http/pagination.dto';
import { HistoryPageDto, HistoryQueryDto, RunSummaryDto } from './history.dto';

/** A completed run's result file and the manifest that vouches for it (size, md5). */
export interface CompletedRun {
  manifest: Manifest;
  file: StoredResultFile;
}

/** Does a run match the history filters? Date filters select runs whose range overlaps theirs. */
function matches(manifest: Manifest, query: HistoryQueryDto): boolean {
  const { summary } = manifest;
  const avgReturn = summary.avg_return;
  const symbol = query.symbol?.toUpperCase();
  return (
    (query.strategy === undefined || manifest.strategy === query.strategy) &&
    (symbol === undefined || manifest.symbols.includes(symbol)) &&
    (query.status === undefined || manifest.status === query.status) &&
    // KST dates YYYY-MM-DD compare as text.
    (query.start_date === undefined || manifest.end_date >= query.start_date) &&
    (query.end_date === undefined || manifest.start_date <= query.end_date) &&
    (query.min_return === undefined || (avgReturn !== null && avgReturn >= query.min_return)) &&
    (query.max_return === undefined || (avgReturn !== null && avgReturn <= query.max_return)) &&
    (query.min_signals === undefined || summary.total_signals >= query.min_signals) &&
    (query.max_signals === undefined || summary.total_signals <= query.max_signals)
  );
}

/** Finished runs, read from their folders under RESULTS_DIR (SPEC §7). */
@Injectable()
export class RunResults {
  constructor(
    private readonly store: ResultStore,
    private readonly tasks: TaskStateStore,
  ) {}

  async history(query: HistoryQueryDto): Promise<HistoryPageDto> {
    const manifests = await this.store.listManifests();
    const page = paginate(
      manifests.filter((manifest) => matches(manifest, query)),
      query,
    );
    return { ...page, items: page.items.map((manifest) => RunSummaryDto.of(manifest)) };
  }

  /** The newest completed run (by finish time); failed and cancelled runs have no result. */
  async latest(): Promise<CompletedRun> {
    const manifests = await this.store.listManifests();
    const newest = manifests.find((manifest) => manifest.status === 'completed');
    if (!newest) throw new NotFoundError('No backtest has completed yet');
    return { manifest: newest, file: await this.store.resultFile(newest.task_id) };
  }

  /** A completed run; a 404 says why there is no result (unknown, not finished, failed...). */
  async completed(id: string): Promise<CompletedRun> {
    const manifest = await this.store.readManifest(id);
    if (!manifest) throw new NotFoundError(await this.whyNoRun(id));
    if (manifest.status !== 'completed') {
      const verb = manifest.status === 'failed' ? 'failed' : 'was cancelled';
      throw new NotFoundError(
        `Run ${id} has no result: it ${verb}${manifest.error.message ? `: ${manifest.error.message}` : ''}`,
      );
    }
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
