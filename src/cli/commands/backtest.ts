import { availableParallelism, hostname } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { FieldProblem, InvalidInputError, ProblemCollector } from '@app/common';
import {
  BacktestEvent,
  BacktestOutcome,
  BacktestRequest,
  parseBacktestRequest,
  RunFolders,
  ResultDocument,
  RunOrigin,
  runBacktest,
  tradesCsv,
} from '@app/backtest';
import { catalogueRunIndex } from '@app/catalogue';
import type { AppConfig } from '@app/config';
import { renderRunReport } from '@app/reports';
import { newRunId, ResultStore, writeFileAtomic } from '@app/storage';
import { cliConfig } from '../cli-config';
import { openCliCatalogue } from '../cli-catalogue';
import { FlagValues, missingFlags } from '../args';
import { runBacktestOnThreads } from '../backtest/parallel-backtest';
import { SymbolThreads } from '../backtest/symbol-threads';
import { BACKTEST } from './backtest.command';
import { ProgressBar } from '../output/progress-bar';
import { formatResultTable } from '../output/result-table';

/** Request fields as the CLI's flags, so messages name what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  strategy: '--strategy',
  params: '--params',
  'execution.fee': '--fee',
  'execution.slippage': '--slippage',
  'execution.positions': '--positions',
  symbols: '--symbols',
  timeframe: '--timeframe',
  start_date: '--start',
  end_date: '--end',
};

export async function backtestCommand(
  flags: FlagValues,
  threads: SymbolThreads = SymbolThreads.start(0),
): Promise<number> {
  const startedAt = new Date().toISOString();
  let run: CompletedRun;
  try {
    run = await runOfFlags(flags, threads);
  } finally {
    // The threads the run did not use (all of them when the input was wrong) end here.
    threads.close();
  }
  const { config, request, origin, outcome } = run;
  const store = new ResultStore(config.resultsDir);
  let catalogue: ReturnType<typeof openCliCatalogue> | undefined;
  // The folder, then its row (SPEC §11); a catalogue that cannot be opened or written only
  // delays the row until the next rebuild: the run itself is on disk.
  const index = catalogueRunIndex(
    () => (catalogue = openCliCatalogue(config)),
    config.resultsDir,
    (runId, error) =>
      process.stderr.write(
        `Warning: catalogue row of run ${runId} not written (${error instanceof Error ? error.message : String(error)}); "cli catalog rebuild" indexes it\n`,
      ),
  );
  let manifest;
  try {
    manifest = await new RunFolders(store, origin, index).completed(request, outcome, {
      created_at: startedAt,
      started_at: startedAt,
    });
  } finally {
    await catalogue?.then((opened) => opened.close()).catch(() => undefined);
  }
  const resultPath = relative(process.cwd(), store.runDir(manifest.task_id)) || '.';
  const tradesFile =
    typeof flags['export-trades'] === 'string' ? flags['export-trades'] : undefined;
  if (tradesFile !== undefined) await exportTrades(tradesFile, outcome.result);
  if (typeof flags.report === 'string') await writeReport(flags.report, outcome);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(outcome.result)}\n`);
    process.stderr.write(`Run folder: ${resultPath}\n`);
  } else {
    process.stdout.write(`${formatResultTable(outcome.result)}\nRun folder: ${resultPath}\n`);
  }
  return 0;
}

/** SPEC §14: the run's report from the same chart data the run folder holds. */
async function writeReport(path: string, outcome: BacktestOutcome): Promise<void> {
  // The page's assets are read here, on the first report, not at start-up.
  await writeFile(path, renderRunReport(outcome.chart, outcome.result), 'utf8');
  process.stderr.write(`Report: ${relative(process.cwd(), resolve(path))}\n`);
}

interface CompletedRun {
  config: AppConfig;
  request: BacktestRequest;
  origin: RunOrigin;
  outcome: BacktestOutcome;
}

/** Validates the flags and runs the backtest: on this thread alone, or with worker threads. */
async function runOfFlags(flags: FlagValues, symbolThreads: SymbolThreads): Promise<CompletedRun> {
  const config = cliConfig(flags);
  const { request, threads } = requestOfFlags(flags);
  const origin: RunOrigin = {
    executionHost: hostname(),
    environment: config.environment,
    workerId: null,
  };
  const context = { dataRoot: config.dataRoot, runId: newRunId(), origin };
  const progress = new ProgressBar(process.stderr);
  try {
    // One symbol per lane at most; with one lane, no thread is worth using.
    const outcome =
      Math.min(threads, request.symbols.length) > 1
        ? await runBacktestOnThreads(request, {
            ...context,
            threads,
            symbolThreads,
            onProgress: (fraction, symbol) => progress.update(fraction, symbol),
          })
        : await runBacktest(request, {
            ...context,
            onEvent: (event: BacktestEvent) => {
              if (event.kind !== 'symbol-started') progress.update(event.progress, event.symbol);
            },
          });
    return { config, request, origin, outcome };
  } finally {
    progress.done();
  }
}

/**
 * The validated request and the threads to run it on, or one input error with every problem
 * at once: the missing flags, --params that is not JSON, a bad --threads, and each failing
 * field of the request (named by its flag).
 */
function requestOfFlags(flags: FlagValues): { request: BacktestRequest; threads: number } {
  const missing = missingFlags(flags, BACKTEST.flags);
  const problems = new ProblemCollector();
  missing.forEach((problem) => problems.add(problem));
  const params = problems.check(() => parseParamsFlag(flags.params));
  const threads = problems.check(() => threadsOf(flags));
  const text = (name: string): string | undefined =>
    typeof flags[name] === 'string' ? flags[name] : undefined;
  let request: BacktestRequest | undefined;
  try {
    request = parseBacktestRequest({
      strategy: text('strategy'),
      params,
      execution: executionOfFlags(text),
      symbols: text('symbols')
        ?.split(',')
        .map((symbol) => symbol.trim()),
      timeframe: text('timeframe'),
      start_date: text('start'),
      end_date: text('end'),
    });
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const reported = new Set(missing.map((problem) => problem.field));
    // A missing flag is already reported, in the CLI's words; the request's own check of
    // that field would say the same again.
    for (const problem of error.problems.map(renameField)) {
      if (!reported.has(problem.field.replace(/\[.*$/, ''))) problems.add(problem);
    }
  }
  problems.throwIfAny();
  return { request: request!, threads: threads! };
}

/** The --fee, --slippage and --positions given (as text: the request reads form strings). */
function executionOfFlags(text: (name: string) => string | undefined): Record<string, string> {
  const execution: Record<string, string> = {};
  for (const name of ['fee', 'slippage', 'positions']) {
    const value = text(name);
    if (value !== undefined) execution[name] = value;
  }
  return execution;
}

/** --export-trades: the CSV beside nothing else, written whole or not at all. */
async function exportTrades(file: string, result: ResultDocument): Promise<void> {
  try {
    await writeFileAtomic(resolve(file), tradesCsv(result));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw InvalidInputError.of('--export-trades', file, `a file that can be written (${reason})`);
  }
  process.stderr.write(`Trades: ${relative(process.cwd(), resolve(file)) || file}\n`);
}

/** --threads, by default the CPUs this process may use. */
function threadsOf(flags: FlagValues): number {
  if (flags.threads === undefined) return availableParallelism();
  const threads = Number(flags.threads);
  if (typeof flags.threads !== 'string' || !/^[0-9]+$/.test(flags.threads) || threads < 1) {
    throw InvalidInputError.of('--threads', flags.threads, 'a whole number of threads, 1 or more');
  }
  return threads;
}

function parseParamsFlag(value: string | boolean | undefined): unknown {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw InvalidInputError.of('--params', value, 'a JSON object');
  try {
    return JSON.parse(value);
  } catch {
    throw InvalidInputError.of('--params', value, `a JSON object such as '{"vol_ma_window":30}'`);
  }
}

/**
 * Request fields become the flag names (`execution.fee` is --fee); `params.x` stays (it names
 * the JSON key).
 */
function renameField(problem: FieldProblem): FieldProblem {
  const exact = FLAG_OF_FIELD[problem.field];
  if (exact) return { ...problem, field: exact };
  const [, name = '', rest = ''] = /^([a-z_]+)(.*)$/.exec(problem.field) ?? [];
  const flag = name === 'params' ? undefined : FLAG_OF_FIELD[name];
  return flag ? { ...problem, field: `${flag}${rest}` } : problem;
}
