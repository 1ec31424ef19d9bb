import type { CommandDefinition } from '../command';

export const SWEEP: CommandDefinition = {
  name: 'sweep',
  summary: 'run a parameter sweep in this process on all cores',
  help: `Usage: cli sweep --strategy NAME --symbols A,B --timeframe TF --start YYYY-MM-DD --end YYYY-MM-DD --grid JSON [options]

Runs one strategy over a grid of parameters (SPEC §13) in this process on worker threads (no
Redis needed): every combination is a single run's figures, bit for bit. Prints the top
combinations on stdout and a progress bar (combinations/s, ETA) on stderr.

  --strategy NAME      volume_long_candle | volume_zone_breakout (see "cli strategies")
  --symbols A,B        1 to 20 comma-separated symbols
  --timeframe TF       1M 3M 5M 10M 15M 30M 1H 4H 1D 1W (M = minutes)
  --start YYYY-MM-DD   first KST date, inclusive
  --end YYYY-MM-DD     last KST date, inclusive
  --grid JSON          per parameter a list or {from,to,step}, e.g.
                       '{"vol_multiplier":{"from":1,"to":3,"step":0.25},"body_pct":[0.01,0.02]}'
  --params JSON        the parameters held fixed; defaults fill the rest
  --fee F, --slippage S, --positions MODE   costs and positions, as for "cli backtest"
  --objective NAME     total_return_pct (default) | sharpe | sortino | calmar | profit_factor |
                       sqn | win_rate | avg_return (sharpe, sortino, calmar need --positions single)
  --min-trades N       combinations with fewer portfolio trades rank last (default 1)
  --top N              how many to list, 1 to 1000 (default 50; the table shows at most 20)
  --validation METHOD  none (default) | holdout | walk_forward
  --test-ratio R       holdout: the out-of-sample share, 0.1 to 0.5 (default 0.3)
  --folds N            walk_forward: 2 to 20 folds (default 5)
  --workers N          threads to run chunks on (default: the CPUs)
  --data-root DIR      market data (default: $DATA_ROOT or ./data)
  --json               print the sweep document (request, best, top, validation) on stdout
  --out DIR            write sweep.json, results.parquet and manifest.json into DIR
  --report FILE.html   also write the sweep's report: one self-contained page (heatmap, top
                       table, in-sample against out-of-sample), as /ui/sweeps/{id} draws it

Exit codes: 0 done, 2 invalid input, 3 no data in a window, 1 anything else.`,
  flags: {
    strategy: {
      type: 'string',
      required: true,
      expects: 'a strategy name such as volume_long_candle',
    },
    symbols: { type: 'string', required: true, expects: 'comma-separated symbols such as ETH_BTC' },
    timeframe: { type: 'string', required: true, expects: 'a timeframe such as 5M' },
    start: { type: 'string', required: true, expects: 'a KST date YYYY-MM-DD' },
    end: { type: 'string', required: true, expects: 'a KST date YYYY-MM-DD' },
    grid: {
      type: 'string',
      required: true,
      expects: `a JSON object such as '{"vol_multiplier":[1,2]}'`,
    },
    params: { type: 'string', expects: `a JSON object such as '{"vol_ma_window":30}'` },
    fee: { type: 'string', expects: 'a fraction such as 0.001' },
    slippage: { type: 'string', expects: 'a fraction such as 0.0005' },
    positions: { type: 'string', expects: 'overlap or single' },
    objective: { type: 'string', expects: 'an objective such as sharpe' },
    'min-trades': { type: 'string', expects: 'a whole number' },
    top: { type: 'string', expects: 'a whole number from 1 to 1000' },
    validation: { type: 'string', expects: 'none, holdout or walk_forward' },
    'test-ratio': { type: 'string', expects: 'a number from 0.1 to 0.5' },
    folds: { type: 'string', expects: 'a whole number from 2 to 20' },
    workers: { type: 'string', expects: 'a whole number of threads, 1 or more' },
    'data-root': { type: 'string', expects: 'a directory' },
    json: { type: 'boolean', default: false },
    out: { type: 'string', expects: 'a directory to write the sweep folder into' },
    report: { type: 'string', expects: 'an HTML file to write, such as sweep.html' },
  },
  load: async () => {
    const { sweepCommand } = await import('./sweep.js');
    return sweepCommand;
  },
};
