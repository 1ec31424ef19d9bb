import { ResultDocument } from '@app/backtest';

type Figure = number | null;

const percent = (value: Figure, digits = 3): string =>
  value === null ? '-' : `${value.toFixed(digits)}%`;
const number = (value: Figure, digits = 2): string =>
  value === null ? '-' : value.toFixed(digits);
const count = (value: number | null): string =>
  value === null ? '-' : value.toLocaleString('en-US');

/**
 * The result document as a readable table per symbol, for people at a terminal, with the
 * portfolio (SPEC §12) as the TOTAL row. With one position per symbol the account's figures
 * (Sharpe, its own drawdown) are shown too.
 */
export function formatResultTable(result: ResultDocument): string {
  const single = result.execution.positions === 'single';
  const columns = [
    'SYMBOL',
    'CANDLES',
    'TRADES',
    'WIN RATE',
    'AVG RETURN',
    'TOTAL RETURN',
    'BUY & HOLD',
    'PROFIT FACTOR',
    'MAX DRAWDOWN',
    ...(single ? ['SHARPE'] : []),
  ];
  const rows = result.symbols.map((symbol) => [
    symbol.symbol,
    count(symbol.candles),
    count(symbol.samples),
    percent(symbol.win_rate * 100, 1),
    percent(symbol.avg_return),
    percent(symbol.stats.total_return_pct),
    percent(symbol.stats.buy_hold_return_pct),
    number(symbol.stats.profit_factor),
    // The account's drawdown with one position; SPEC §3's additive one otherwise.
    percent(single ? symbol.stats.max_drawdown_pct : symbol.max_drawdown),
    ...(single ? [number(symbol.stats.sharpe)] : []),
  ]);
  const { portfolio } = result;
  const total = [
    'TOTAL',
    count(result.symbols.reduce((sum, symbol) => sum + symbol.candles, 0)),
    count(portfolio.trades),
    percent(portfolio.win_rate === null ? null : portfolio.win_rate * 100, 1),
    percent(portfolio.avg_return),
    percent(portfolio.total_return_pct),
    '-',
    number(portfolio.profit_factor),
    percent(single ? portfolio.max_drawdown_pct : null),
    ...(single ? [number(portfolio.sharpe)] : []),
  ];
  const widths = columns.map((title, column) =>
    Math.max(title.length, ...[...rows, total].map((row) => row[column].length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
      )
      .join('  ');
  const settings = (values: Readonly<Record<string, unknown>>): string =>
    Object.entries(values)
      .map(([name, value]) => `${name}=${String(value)}`)
      .join(' ');
  const lines = [
    `${result.strategy} on ${result.timeframe} candles, ${result.start_date}..${result.end_date} (KST)`,
    `params: ${settings(result.params)}`,
    `execution: ${settings(result.execution)}`,
    '',
    line(columns),
    ...rows.map(line),
    line(total),
    '',
  ];
  for (const failed of result.symbols_failed)
    lines.push(`skipped ${failed.symbol}: ${failed.reason}`);
  lines.push(
    `total signals: ${result.total_signals}   execution time: ${result.execution_time.toFixed(3)} s   run id: ${result.run_id}`,
  );
  return lines.join('\n');
}
