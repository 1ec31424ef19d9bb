import { availableParallelism, hostname } from 'node:os';
import { relative } from 'node:path';
import { FieldProblem, InvalidInputError, ProblemCollector } from '@app/common';
import {
  BacktestEvent,
  BacktestOutcome,
  BacktestRequest,
  parseBacktestRequest,
  RunFolders,
  runBacktest,
} from '@app/backtest';
import { newRunId, ResultStore } from '@app/storage';
import { cliConfig } from '../cli-config';
import { FlagValues, missingFlags } from '../args';
import { runBacktestOnThreads } from '../backtest/parallel-backtest';
import { BACKTEST } from './backtest.command';
import { ProgressBar } from '../output/progress-bar';
import { formatResultTable } from '../output/result-table';

/** Request fields as the CLI's flags, so messages name what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  strategy: '--strategy',
  params: '--params',
  symbols: '--symbols',
  timeframe: '--timeframe',
  start_date: '--start',
  end_date: '--end',
};

export async function backtestCommand(flags: FlagValues): Promise<number> {
  const config = cliConfig(flags);
  const { request, threads: threadsAsked } = runOfFlags(flags);

  const runId = newRunId();
  const startedAt = new Date().toISOString();
  const origin = { executionHost: hostname(), environment: config.environment, workerId: null };
  const progress = new ProgressBar(process.stderr);
  let outcome: BacktestOutcome;
  try {
    // One thread per symbol at most; with one, no thread is worth starting.
    const threads = Math.min(threadsAsked, request.symbols.length);
    outcome =
      threads > 1
        ? await runBacktestOnThreads(request, {
            dataRoot: config.dataRoot,
            runId,
            origin,
            threads,
            onProgress: (fraction, symbol) => progress.update(fraction, symbol),
          })
        : await runBacktest(request, {
            dataRoot: config.dataRoot,
            runId,
            origin,
            onEvent: (event: BacktestEvent) => {
              if (event.kind !== 'symbol-started') progress.update(event.progress, event.symbol);
            },
          });
  } finally {
    progress.done();
  }
  const store = new ResultStore(config.resultsDir);
  const manifest = await new RunFolders(store, origin).completed(request, outcome, {
    created_at: startedAt,
    started_at: startedAt,
  });
  const resultPath = relative(process.cwd(), store.runDir(manifest.task_id)) || '.';
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(outcome.result)}\n`);
    process.stderr.write(`Run folder: ${resultPath}\n`);
  } else {
    process.stdout.write(`${formatResultTable(outcome.result)}\nRun folder: ${resultPath}\n`);
  }
  return 0;
}

/**
 * The validated request and the threads to run it on, or one input error with every problem
 * at once: the missing flags, --params that is not JSON, a bad --threads, and each failing
 * field of the request (named by its flag).
 */
function runOfFlags(flags: FlagValues): { request: BacktestRequest; threads: number } {
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

/** Top-level request fields become the flag names; `params.x` stays (it names the JSON key). */
function renameField(problem: FieldProblem): FieldProblem {
  const [, name = '', rest = ''] = /^([a-z_]+)(.*)$/.exec(problem.field) ?? [];
  const flag = name === 'params' ? undefined : FLAG_OF_FIELD[name];
  return flag ? { ...problem, field: `${flag}${rest}` } : problem;
}
