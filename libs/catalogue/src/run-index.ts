import { Catalogue } from './catalogue';
import { indexRunFolder } from './rebuild';

/**
 * What the writer of run folders (RunFolders) calls once a folder is complete, or gone: the
 * folder's catalogue row follows it (SPEC §11, "the folder, then the row").
 *
 * It never fails: the folder is the truth and already on disk, so a row that cannot be
 * written (the database busy past its timeout, PostgreSQL away) must not fail the task that
 * wrote it. It is reported through `onError`, and the next start-up rebuild (or
 * `cli catalog rebuild`) indexes the folder; meanwhile lookups by id read the folder itself.
 */
export interface RunIndex {
  runFolderWritten(runId: string): Promise<void>;
}

export type RunIndexErrorHandler = (runId: string, error: unknown) => void;

/**
 * The RunIndex of a catalogue. `catalogue` may be a function that opens it on first use (a
 * backtest thread opens its own connection only when it has a folder to index).
 */
export function catalogueRunIndex(
  catalogue: Catalogue | (() => Promise<Catalogue>),
  resultsDir: string,
  onError: RunIndexErrorHandler,
): RunIndex {
  let opened: Promise<Catalogue> | undefined;
  const get = (): Promise<Catalogue> => {
    if (typeof catalogue !== 'function') return Promise.resolve(catalogue);
    opened ??= catalogue().catch((error: unknown) => {
      opened = undefined; // try again with the next folder
      throw error;
    });
    return opened;
  };
  return {
    async runFolderWritten(runId: string): Promise<void> {
      try {
        await indexRunFolder(await get(), resultsDir, runId);
      } catch (error) {
        onError(runId, error);
      }
    },
  };
}
