import { availableParallelism } from 'node:os';
import type { FlagValues } from '../args';
import type { CommandDefinition } from '../command';

/**
 * Worker threads worth starting before the flags are validated: one fewer than the symbols
 * run at once (this thread is one), as --threads (default: the CPUs) and the symbols given
 * allow. A wrong guess costs little: the run uses the ones it needs and ends the others.
 */
export function workerThreadsFor(flags: FlagValues): number {
  const threads =
    flags.threads === undefined ? availableParallelism() : Number.parseInt(String(flags.threads));
  const symbols = new Set(
    String(flags.symbols ?? '')
      .split(',')
      .map((symbol) => symbol.trim().toUpperCase())
      .filter((symbol) => symbol !== ''),
  );
  return Number.isSafeInteger(threads) ? Math.max(0, Math.min(threads, symbols.size) - 1) : 0;
}

export const BACKTEST: CommandDefinition = {
  name: 'backtest',
  summary: 'run a backtest in this process on local Parquet data',
  help: `Usage: cli backtest --strategy NAME --symbols A,B --timeframe TF --start YYYY-MM-DD --end YYYY-MM-DD [options]

Runs a backtest in this process on the Parquet files under the data root (no Redis needed),
prints a table per symbol and writes the run folder (result.json + manifest.json) like the service.

  --strategy NAME      volume_long_candle | volume_zone_breakout (see "cli strategies")
  --symbols A,B        comma-separated symbols, e.g. BTC_KRW,ETH_KRW (case-insensitive)
  --timeframe TF       1M 3M 5M 10M 15M 30M 1H 4H 1D 1W (M = minutes)
  --start YYYY-MM-DD   first KST date, inclusive
  --end YYYY-MM-DD     last KST date, inclusive
  --params JSON        strategy parameters, e.g. '{"vol_ma_window":30}'; defaults fill the rest
  --fee F              fraction of notional per fill, 0 to 0.05 (default 0; 0.001 = 0.1%)
  --slippage S         fraction of price per fill, 0 to 0.05 (default 0)
  --positions MODE     overlap (every signal a trade, the default) or single (one open trade
                       per symbol; adds Sharpe, Sortino, Calmar and the account's drawdown)
  --export-trades FILE write every trade as CSV (symbol,entry_time,exit_time,...)
  --data-root DIR      market data (default: $DATA_ROOT or ./data)
  --results-dir DIR    where the run folder goes (default: $RESULTS_DIR or DATA_ROOT/tasks)
  --threads N          load and run N symbols at once: this thread and N-1 worker threads
                       (default: the CPUs); 1 runs them one after the other. Same result.
  --json               print only the result document (JSON) on stdout; messages go to stderr
  --report FILE.html   also write the run's report: one self-contained page (charts with every
                       entry and exit, equity and drawdown, stats, trades; no zoom detail)

Exit codes: 0 done, 2 invalid input, 3 no data for any symbol, 1 anything else.`,
  flags: {
    strategy: {
      type: 'string',
      required: true,
      expects: 'a strategy name such as volume_long_candle',
    },
    symbols: {
      type: 'string',
      required: true,
      expects: 'comma-separated symbols such as BTC_KRW,ETH_KRW',
    },
    timeframe: { type: 'string', required: true, expects: 'a timeframe such as 1D' },
    start: { type: 'string', required: true, expects: 'a KST date YYYY-MM-DD' },
    end: { type: 'string', required: true, expects: 'a KST date YYYY-MM-DD' },
    params: { type: 'string', expects: `a JSON object such as '{"vol_ma_window":30}'` },
    fee: { type: 'string', expects: 'a fraction such as 0.001' },
    slippage: { type: 'string', expects: 'a fraction such as 0.0005' },
    positions: { type: 'string', expects: 'overlap or single' },
    'export-trades': { type: 'string', expects: 'a file path for the trades CSV' },
    'data-root': { type: 'string', expects: 'a directory' },
    'results-dir': { type: 'string', expects: 'a directory' },
    threads: { type: 'string', expects: 'a whole number of threads, 1 or more' },
    json: { type: 'boolean', default: false },
    report: { type: 'string', expects: 'an HTML file to write, such as report.html' },
  },
  load: async (flags) => {
    // The threads first: each loads the engine while this thread loads its own.
    const { SymbolThreads } = await import('../backtest/symbol-threads.js');
    const threads = SymbolThreads.start(workerThreadsFor(flags));
    try {
      const { backtestCommand } = await import('./backtest.js');
      return (values) => backtestCommand(values, threads);
    } catch (error) {
      threads.close();
      throw error;
    }
  },
};
