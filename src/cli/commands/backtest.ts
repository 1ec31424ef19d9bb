import { hostname } from 'node:os';
import { relative } from 'node:path';
import { FieldProblem, InvalidInputError } from '@app/common';
import { loadConfig } from '@app/config';
import { BacktestEvent, parseBacktestRequest, RunFolders, runBacktest } from '@app/backtest';
import { newRunId, ResultStore } from '@app/storage';
import { parseFlags, requireFlag } from '../args';
import { ProgressBar } from '../output/progress-bar';
import { formatResultTable } from '../output/result-table';

export const BACKTEST_HELP = `Usage: cli backtest --strategy NAME --symbols A,B --timeframe TF --start YYYY-MM-DD --end YYYY-MM-DD [options]

Runs a backtest in this process on the Parquet files under the data root (no Redis needed),
prints a table per symbol and writes the run folder (result.json + manifest.json) like the service.

  --strategy NAME      volume_long_candle | volume_zone_breakout (see "cli strategies")
  --symbols A,B        comma-separated symbols, e.g. BTC_KRW,ETH_KRW (case-insensitive)
  --timeframe TF       1M 3M 5M 10M 15M 30M 1H 4H 1D 1W (M = minutes)
  --start YYYY-MM-DD   first KST date, inclusive
  --end YYYY-MM-DD     last KST date, inclusive
  --params JSON        strategy parameters, e.g. '{"vol_ma_window":30}'; defaults fill the rest
  --data-root DIR      market data (default: $DATA_ROOT or ./data)
  --results-dir DIR    where the run folder goes (default: $RESULTS_DIR or DATA_ROOT/tasks)
  --json               print only the result document (JSON) on stdout; messages go to stderr

Exit codes: 0 done, 2 invalid input, 3 no data for any symbol, 1 anything else.`;

/** Request fields as the CLI's flags, so messages name what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  strategy: '--strategy',
  params: '--params',
  symbols: '--symbols',
  timeframe: '--timeframe',
  start_date: '--start',
  end_date: '--end',
};

export async function backtestCommand(args: string[]): Promise<number> {
  const flags = parseFlags(
    args,
    {
      strategy: { type: 'string' },
      symbols: { type: 'string' },
      timeframe: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      params: { type: 'string' },
      'data-root': { type: 'string' },
      'results-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    'backtest',
  );
  const config = loadConfig({
    ...process.env,
    ...(typeof flags['data-root'] === 'string' && { DATA_ROOT: flags['data-root'] }),
    ...(typeof flags['results-dir'] === 'string' && { RESULTS_DIR: flags['results-dir'] }),
  });
  const request = parseWithFlagNames(() =>
    parseBacktestRequest({
      strategy: requireFlag(flags, 'strategy', 'a strategy name such as volume_long_candle'),
      params: parseParamsFlag(flags.params),
      symbols: requireFlag(flags, 'symbols', 'comma-separated symbols such as BTC_KRW,ETH_KRW')
        .split(',')
        .map((symbol) => symbol.trim()),
      timeframe: requireFlag(flags, 'timeframe', 'a timeframe such as 1D'),
      start_date: requireFlag(flags, 'start', 'a KST date YYYY-MM-DD'),
      end_date: requireFlag(flags, 'end', 'a KST date YYYY-MM-DD'),
    }),
  );

  const runId = newRunId();
  const startedAt = new Date().toISOString();
  const origin = { executionHost: hostname(), environment: config.environment, workerId: null };
  const progress = new ProgressBar(process.stderr);
  let outcome;
  try {
    outcome = await runBacktest(request, {
      dataRoot: config.dataRoot,
      runId,
      origin,
      onEvent: (event: BacktestEvent) => {
        if (event.kind !== 'symbol-started') {
          progress.update(event.progress, `${event.symbol}`);
        }
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

function parseParamsFlag(value: string | boolean | undefined): unknown {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw InvalidInputError.of('--params', value, 'a JSON object');
  try {
    return JSON.parse(value);
  } catch {
    throw InvalidInputError.of('--params', value, `a JSON object such as '{"vol_ma_window":30}'`);
  }
}

function parseWithFlagNames<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError(error.problems.map(renameField));
  }
}

/** Top-level request fields become the flag names; `params.x` stays (it names the JSON key). */
function renameField(problem: FieldProblem): FieldProblem {
  const [, name = '', rest = ''] = /^([a-z_]+)(.*)$/.exec(problem.field) ?? [];
  const flag = name === 'params' ? undefined : FLAG_OF_FIELD[name];
  return flag ? { ...problem, field: `${flag}${rest}` } : problem;
}
