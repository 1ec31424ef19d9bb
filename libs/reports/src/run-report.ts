import type { ChartDocument, ResultDocument } from '@app/backtest';
import { renderPage } from './page';

/**
 * A run's report as one self-contained HTML file (cli backtest --report): the chart data and
 * the result document inside the page, drawn as /ui/runs/{id} draws them, without the zoom
 * detail (there is no API to ask). Each symbol's performance curve stays out: the page draws
 * the equity from the chart data.
 */
export function renderRunReport(chart: ChartDocument, result: ResultDocument): string {
  const symbols = result.symbols.map(({ performance_curve: _curve, ...symbol }) => symbol);
  return renderPage('run', {
    title: `Backtest ${result.run_id}`,
    mode: 'static',
    data: { chart, result: { ...result, symbols } },
  }).html;
}
