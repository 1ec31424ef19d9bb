import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FieldProblem, InvalidInputError, NoDataError, ProblemCollector } from '@app/common';
import { renderSweepReport, SweepReportInput } from '@app/reports';
import { writeFileAtomic } from '@app/storage';
import { FORM_DECIMAL_PATTERN } from '@app/strategies';
import {
  ChunkPool,
  ChunkResult,
  chunkSizeOf,
  chunksOf,
  completedSweepDocument,
  encodeSweepResults,
  parseSweepRequest,
  RankedCombination,
  SweepDocument,
  SweepPlan,
  writeSweepFolderAt,
} from '@app/sweeps';
import { cliConfig } from '../cli-config';
import { FlagValues, missingFlags } from '../args';
import { ProgressBar } from '../output/progress-bar';
import { SWEEP } from './sweep.command';

const MIB = 1024 * 1024;

/** Request fields as the CLI's flags, so messages name what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  strategy: '--strategy',
  symbols: '--symbols',
  timeframe: '--timeframe',
  start_date: '--start',
  end_date: '--end',
  grid: '--grid',
  params: '--params',
  'execution.fee': '--fee',
  'execution.slippage': '--slippage',
  'execution.positions': '--positions',
  objective: '--objective',
  min_trades: '--min-trades',
  top: '--top',
  'validation.method': '--validation',
  'validation.test_ratio': '--test-ratio',
  'validation.folds': '--folds',
};

/** The rows the table shows; --json and --out hold all of `top`. */
const TABLE_ROWS = 20;

export async function sweepCommand(flags: FlagValues): Promise<number> {
  const config = cliConfig(flags);
  const { plan, workers } = planOfFlags(flags, config.maxSweepCombinations);
  const threads = Math.max(1, Math.min(workers, plan.combinations));
  // Chunks small enough that every thread has several (an even finish, a smooth bar).
  const size = Math.max(
    1,
    Math.min(chunkSizeOf(plan), Math.ceil(plan.combinations / (threads * 4))),
  );
  const chunks = chunksOf(plan.combinations, size);
  const pool = new ChunkPool({
    threads,
    dataRoot: config.dataRoot,
    candleCacheBytes: config.candleCacheMb * MIB,
  });
  const sweepId = randomUUID();
  const createdAt = new Date().toISOString();
  const started = performance.now();
  const progress = new ProgressBar(process.stderr, 300);
  const results: ChunkResult[] = [];
  let done = 0;
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < chunks.length) {
        const { from, to } = chunks[next++];
        const outcome = await pool.run({ sweepId, request: plan.request, from, to }).outcome;
        if (outcome.kind === 'failed') throw failureOf(outcome.message);
        if (outcome.kind === 'stopped') throw new Error('stopped');
        results.push(outcome.result);
        done += to - from;
        const seconds = (performance.now() - started) / 1000;
        const rate = done / seconds;
        progress.update(
          done / plan.combinations,
          `${done}/${plan.combinations} combinations · ${rate.toFixed(0)}/s · ETA ${((plan.combinations - done) / rate).toFixed(1)} s`,
        );
      }
    };
    await Promise.all(Array.from({ length: threads }, lane));
  } finally {
    progress.done();
    await pool.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const combinations = results
    .sort((a, b) => a.from - b.from)
    .flatMap((chunk) => chunk.combinations);
  const document = completedSweepDocument(sweepId, plan, combinations, {
    createdAt,
    startedAt: createdAt,
    finishedAt: new Date().toISOString(),
    executionTime: Math.round(seconds * 1e6) / 1e6,
  });
  process.stderr.write(
    `${plan.combinations} combinations in ${seconds.toFixed(2)} s on ${threads} thread(s): ${(plan.combinations / seconds).toFixed(1)} combinations/s\n`,
  );
  if (typeof flags.out === 'string') {
    const dir = resolve(flags.out);
    await writeSweepFolderAt(dir, document, encodeSweepResults(plan, combinations));
    process.stderr.write(`Sweep folder: ${relative(process.cwd(), dir) || '.'}\n`);
  }
  if (typeof flags.report === 'string') await writeReport(flags.report, document);
  if (flags.json) process.stdout.write(`${JSON.stringify(document)}\n`);
  else process.stdout.write(formatTop(plan, document));
  return 0;
}

/** SPEC §14: the sweep's report, drawn from the same document as /ui/sweeps/{id} draws. */
async function writeReport(path: string, document: SweepDocument): Promise<void> {
  // The page's assets are read here, on the first report, not at start-up.
  // The report reads the document as JSON, the way the page reads GET /api/sweeps/{id}.
  const answer = JSON.parse(
    JSON.stringify({ ...document, progress: 1, error: null }),
  ) as SweepReportInput;
  const html = renderSweepReport(answer);
  await writeFileAtomic(resolve(path), html);
  process.stderr.write(`Report: ${relative(process.cwd(), resolve(path)) || path}\n`);
}

/** A chunk's failure as the CLI reports it: no data is exit 3, the rest exit 1. */
function failureOf(message: string): Error {
  return message.startsWith('No data found') ? new NoDataError(message) : new Error(message);
}

function planOfFlags(
  flags: FlagValues,
  maxCombinations: number,
): { plan: SweepPlan; workers: number } {
  const missing = missingFlags(flags, SWEEP.flags);
  const problems = new ProblemCollector();
  missing.forEach((problem) => problems.add(problem));
  const text = (name: string): string | undefined =>
    typeof flags[name] === 'string' ? flags[name] : undefined;
  const grid = problems.check(() => jsonFlag('--grid', text('grid')));
  const params = problems.check(() => jsonFlag('--params', text('params')));
  const workers = problems.check(() => workersOf(text('workers')));
  const execution: Record<string, string> = {};
  for (const name of ['fee', 'slippage', 'positions']) {
    const value = text(name);
    if (value !== undefined) execution[name] = value;
  }
  const validation: Record<string, unknown> = {};
  if (text('validation') !== undefined) validation.method = text('validation');
  if (text('test-ratio') !== undefined) validation.test_ratio = numeric(text('test-ratio')!);
  if (text('folds') !== undefined) validation.folds = numeric(text('folds')!);
  let plan: SweepPlan | undefined;
  try {
    plan = parseSweepRequest(
      {
        strategy: text('strategy'),
        symbols: text('symbols')
          ?.split(',')
          .map((symbol) => symbol.trim()),
        timeframe: text('timeframe'),
        start_date: text('start'),
        end_date: text('end'),
        grid,
        ...(params !== undefined && { params }),
        execution,
        ...(text('objective') !== undefined && { objective: text('objective') }),
        ...(text('min-trades') !== undefined && { min_trades: numeric(text('min-trades')!) }),
        ...(text('top') !== undefined && { top: numeric(text('top')!) }),
        ...(Object.keys(validation).length > 0 && { validation }),
      },
      maxCombinations,
    );
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const reported = new Set(missing.map((problem) => problem.field));
    for (const problem of error.problems.map(renameField)) {
      if (!reported.has(problem.field.replace(/[[.].*$/, ''))) problems.add(problem);
    }
  }
  problems.throwIfAny();
  return { plan: plan!, workers: workers! };
}

function numeric(value: string): number | string {
  return FORM_DECIMAL_PATTERN.test(value) ? Number(value) : value;
}

function jsonFlag(flag: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw InvalidInputError.of(flag, value, `a JSON object such as '{"vol_multiplier":[1,2]}'`);
  }
}

function workersOf(value: string | undefined): number {
  if (value === undefined) return availableParallelism();
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
    throw InvalidInputError.of('--workers', value, 'a whole number of threads, 1 or more');
  }
  return Number(value);
}

function renameField(problem: FieldProblem): FieldProblem {
  const exact = FLAG_OF_FIELD[problem.field];
  if (exact) return { ...problem, field: exact };
  const [, name = '', rest = ''] = /^([a-z_]+)(.*)$/.exec(problem.field) ?? [];
  const flag = FLAG_OF_FIELD[name];
  return flag ? { ...problem, field: `${flag} ${rest.replace(/^\./, '')}` } : problem;
}

/** The top combinations as a table: rank, index, the gridded parameters, the figures. */
function formatTop(plan: SweepPlan, document: SweepDocument): string {
  const { objective } = plan.request;
  const holdout = plan.request.validation.method === 'holdout';
  const names = plan.axes.map((axis) => axis.name);
  // The objective's column, then the total return beside it unless that is the objective.
  const withReturn = objective !== 'total_return_pct';
  const header = [
    'rank',
    'index',
    ...names,
    objective,
    'trades',
    ...(withReturn ? ['total_return_pct'] : []),
    ...(holdout ? [`oos_${objective}`, ...(withReturn ? ['oos_return_pct'] : [])] : []),
  ];
  const figure = (value: number | null | undefined): string =>
    value === null || value === undefined ? '—' : Number(value.toPrecision(6)).toString();
  const rows = document.top
    .slice(0, TABLE_ROWS)
    .map((entry: RankedCombination, k) => [
      String(k + 1),
      String(entry.index),
      ...names.map((name) => String(entry.params[name])),
      figure(entry.score),
      String(entry.portfolio.trades ?? 0),
      ...(withReturn ? [figure(entry.portfolio.total_return_pct)] : []),
      ...(holdout
        ? [
            figure(entry.out_of_sample?.[objective]),
            ...(withReturn ? [figure(entry.out_of_sample?.total_return_pct)] : []),
          ]
        : []),
    ]);
  const widths = header.map((title, c) =>
    Math.max(title.length, ...rows.map((row) => row[c].length)),
  );
  const line = (cells: string[]): string =>
    cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  const lines = [line(header), ...rows.map(line)];
  const validation = document.validation;
  if (validation.method === 'walk_forward') {
    lines.push('', 'walk-forward: fold  choice  in-sample  out-of-sample');
    for (const fold of validation.folds) {
      lines.push(
        `  ${fold.fold}  #${fold.index} ${names.map((name) => `${name}=${String(fold.params[name])}`).join(' ')}  ${figure(fold.in_sample_score)}  ${figure(fold.out_of_sample_score)}`,
      );
    }
    lines.push(
      `  out-of-sample compounded return: ${figure(validation.oos_total_return_pct)} %  efficiency: ${figure(validation.efficiency)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
