import { renderPage } from './page';

/** A parameter value of a combination. */
export type SweepParamValue = number | string | boolean;

/**
 * One combination as GET /api/sweeps/{id} gives it in `best` and `top` (SPEC §13): its
 * `index`, its `params`, its portfolio figures by name (flat or under `portfolio`), and under
 * holdout its `in_sample` and `out_of_sample` figures.
 */
export interface SweepCombination {
  index: number;
  params: Record<string, SweepParamValue>;
  in_sample?: Record<string, unknown>;
  out_of_sample?: Record<string, unknown>;
  [figure: string]: unknown;
}

/** GET /api/sweeps/{id} (SPEC §13), and the request when the answer carries it. */
export interface SweepReportInput {
  sweep_id: string;
  status: string;
  progress: number;
  combinations: number;
  done: number;
  best: SweepCombination | null;
  top: SweepCombination[];
  validation: unknown;
  error: string | null;
  /** The objective ranked by (else the request's, else total_return_pct). */
  objective?: string;
  /** What was asked: strategy, symbols, dates, grid, objective... (for axes and labels). */
  request?: Record<string, unknown>;
}

/** The heatmap's axes: two parameter names (default: the first two that vary). */
export interface SweepReportOptions {
  x?: string;
  y?: string;
}

/**
 * A sweep's report as one self-contained HTML file (cli sweep --report): the heatmap, the top
 * table and in-sample against out-of-sample, drawn as /ui/sweeps/{id} draws them.
 */
export function renderSweepReport(
  sweep: SweepReportInput,
  options: SweepReportOptions = {},
): string {
  return renderPage('sweep', {
    title: `Sweep ${sweep.sweep_id}`,
    mode: 'static',
    config: { x: options.x ?? null, y: options.y ?? null },
    data: { sweep },
  }).html;
}
