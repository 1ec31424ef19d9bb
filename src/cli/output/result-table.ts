import { ResultDocument } from '@app/backtest';

const COLUMNS = ['SYMBOL', 'CANDLES', 'TRADES', 'WIN RATE', 'AVG RETURN', 'MAX DRAWDOWN'] as const;

/** The result document as a readable table per symbol, for people at a terminal. */
export function formatResultTable(result: ResultDocument): string {
  const rows = result.symbols.map((symbol) => [
    symbol.symbol,
    symbol.candles.toLocaleString('en-US'),
    symbol.samples.toLocaleString('en-US'),
    `${(symbol.win_rate * 100).toFixed(1)}%`,
    `${symbol.avg_return.toFixed(3)}%`,
    `${symbol.max_drawdown.toFixed(3)}%`,
  ]);
  const widths = COLUMNS.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
      )
      .join('  ');
  const params = Object.entries(result.params)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(' ');
  const lines = [
    `${result.strategy} on ${result.timeframe} candles, ${result.start_date}..${result.end_date} (KST)`,
    `params: ${params}`,
    '',
    line(COLUMNS),
    ...rows.map(line),
    '',
  ];
  for (const failed of result.symbols_failed)
    lines.push(`skipped ${failed.symbol}: ${failed.reason}`);
  lines.push(
    `total signals: ${result.total_signals}   execution time: ${result.execution_time.toFixed(3)} s   run id: ${result.run_id}`,
  );
  return lines.join('\n');
}
