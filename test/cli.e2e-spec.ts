import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBacktestRequest, ResultDocument, runBacktest } from '@app/backtest';
import { ENTRY, REPO_ROOT } from './support/app-process';

const SAMPLE_DATA = join(REPO_ROOT, 'data');

function cli(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [ENTRY.cli, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ENV_FILE: '', REDIS_URL: 'redis://127.0.0.1:1/0', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs the built CLI's `main` in a fresh Node with a module hook that records every module
 * resolved (CommonJS and ESM alike), and returns the npm packages among them.
 */
function packagesLoadedBy(
  args: string[],
  env: Record<string, string> = {},
): {
  code: number | null;
  packages: string[];
  stderr: string;
} {
  const script = `
    const { registerHooks } = require('node:module');
    const resolved = new Set();
    registerHooks({ resolve(specifier, context, next) {
      const result = next(specifier, context);
      resolved.add(result.url);
      return result;
    } });
    const { main } = require(${JSON.stringify(ENTRY.cli)});
    main(${JSON.stringify(args)}).then((code) => {
      process.exitCode = code;
      process.stderr.write('\\nRESOLVED ' + JSON.stringify([...resolved]) + '\\n');
    });`;
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ENV_FILE: '', REDIS_URL: 'redis://127.0.0.1:1/0', ...env },
    encoding: 'utf8',
  });
  const [stderr, resolvedJson = '[]'] = result.stderr.split('\nRESOLVED ');
  const packages = (JSON.parse(resolvedJson) as string[]).flatMap((url) => {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    return match ? [match[1]] : [];
  });
  return { code: result.status, packages: [...new Set(packages)].sort(), stderr };
}

describe('cli (built)', () => {
  let resultsDir: string;
  beforeEach(() => (resultsDir = mkdtempSync(join(tmpdir(), 'coin-cli-'))));
  afterEach(() => rmSync(resultsDir, { recursive: true, force: true }));

  const backtestArgs = [
    'backtest',
    '--strategy',
    'volume_long_candle',
    '--symbols',
    'eth_btc,LTC_BTC',
    '--timeframe',
    '5m',
    '--start',
    '2018-01-10',
    '--end',
    '2018-01-31',
    '--params',
    '{"vol_multiplier":1.2,"body_pct":0.005}',
  ];

  it('--json prints the result document alone and writes the same document to the run folder', () => {
    const { code, stdout, stderr } = cli([
      ...backtestArgs,
      '--json',
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
    ]);
    expect({ code, stderr: stderr.includes('Error') ? stderr : '' }).toEqual({
      code: 0,
      stderr: '',
    });
    const result = JSON.parse(stdout) as ResultDocument;
    expect(result).toMatchObject({
      version: '1.2.0',
      strategy: 'volume_long_candle',
      params: { vol_ma_window: 20, vol_multiplier: 1.2, body_pct: 0.005, hold_period_bars: 1 },
      timeframe: '5M',
      symbols_failed: [],
    });
    expect(result.symbols.map((s) => s.symbol)).toEqual(['ETH_BTC', 'LTC_BTC']);
    expect(result.total_signals).toBeGreaterThan(0);
    const [runId] = readdirSync(resultsDir);
    expect(runId).toBe(result.run_id);
    expect(JSON.parse(readFileSync(join(resultsDir, runId, 'result.json'), 'utf8'))).toEqual(
      result,
    );
    const manifest = JSON.parse(readFileSync(join(resultsDir, runId, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      task_id: runId,
      status: 'completed',
      summary: { total_signals: result.total_signals },
    });
  });

  it('prints a readable table per symbol without --json', () => {
    const { code, stdout } = cli([
      ...backtestArgs,
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /SYMBOL\s+CANDLES\s+TRADES\s+WIN RATE\s+AVG RETURN\s+TOTAL RETURN\s+BUY & HOLD\s+PROFIT FACTOR\s+MAX DRAWDOWN/,
    );
    expect(stdout).toMatch(/ETH_BTC\s+5,7\d\d\s+\d+\s+[\d.]+%/);
    expect(stdout).toMatch(/LTC_BTC\s+5,7\d\d/);
    // The portfolio as the TOTAL row: both symbols' candles, every trade.
    const [folder] = readdirSync(resultsDir);
    const result = JSON.parse(
      readFileSync(join(resultsDir, folder, 'result.json'), 'utf8'),
    ) as ResultDocument;
    const total = new RegExp(
      `^TOTAL\\s+11,520\\s+${result.portfolio.trades}\\s+[\\d.]+%\\s+-?[\\d.]+%\\s+${result.portfolio.total_return_pct!.toFixed(3)}%`,
      'm',
    );
    expect(stdout).toMatch(total);
    expect(stdout).not.toMatch(/SHARPE/);
  });

  it('takes --fee, --slippage and --positions, shows Sharpe with single positions and exports the trades', () => {
    const csv = join(resultsDir, 'trades.csv');
    const { code, stdout, stderr } = cli([
      ...backtestArgs,
      '--fee',
      '0.001',
      '--slippage',
      '0.0005',
      '--positions',
      'single',
      '--export-trades',
      csv,
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
    ]);
    expect({ code, stderr: stderr.replace(/\r?[^\n]*\r/g, '') }).toMatchObject({ code: 0 });
    expect(stdout).toMatch(/execution: fee=0.001 slippage=0.0005 positions=single/);
    expect(stdout).toMatch(/MAX DRAWDOWN\s+SHARPE/);
    const folder = readdirSync(resultsDir).find((name) => name !== 'trades.csv')!;
    const result = JSON.parse(
      readFileSync(join(resultsDir, folder, 'result.json'), 'utf8'),
    ) as ResultDocument;
    expect(result.execution).toEqual({ fee: 0.001, slippage: 0.0005, positions: 'single' });
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(rows[0]).toBe(
      'symbol,entry_time,exit_time,entry_price,exit_price,entry_fill,exit_fill,hold_bars,return_pct,confidence',
    );
    expect(rows).toHaveLength(result.total_signals + 1);
    const first = result.symbols[0].signals[0];
    expect(rows[1].split(',').slice(0, 3)).toEqual([
      first.symbol,
      first.timestamp,
      first.exit_timestamp,
    ]);

    const bad = cli([
      ...backtestArgs,
      '--fee',
      '0.9',
      '--positions',
      'both',
      '--results-dir',
      resultsDir,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fee: got "0.9"; expected a number from 0.0 to 0.05/);
    expect(bad.stderr).toMatch(/--positions: got "both"; expected one of overlap, single/);
  });

  it('exits 2 naming each bad flag, its value and what is allowed, and touches no file', () => {
    const { code, stderr, stdout } = cli([
      'backtest',
      '--strategy',
      'moon',
      '--symbols',
      '../../etc,BTC/KRW',
      '--timeframe',
      '2h',
      '--start',
      '2018-01-31',
      '--end',
      '2018-01-01',
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'strategy: got "moon"; expected one of volume_long_candle, volume_zone_breakout',
    );
    expect(stderr).toContain('--symbols[0]: got "../../etc"');
    expect(stderr).toContain('--symbols[1]: got "BTC/KRW"');
    expect(stderr).toContain('--timeframe: got "2h"');
    expect(stderr).toContain('--start: got "2018-01-31"');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(resultsDir)).toEqual([]);
  });

  it('exits 2 for bad --params JSON and unknown flags', () => {
    expect(
      cli([...backtestArgs.slice(0, -2), '--params', '{oops', '--data-root', SAMPLE_DATA]).code,
    ).toBe(2);
    const unknown = cli(['backtest', '--colour', 'red']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--colour');
  });

  it('exits 3 when no symbol has data in the range', () => {
    const { code, stderr } = cli([
      'backtest',
      '--strategy',
      'volume_long_candle',
      '--symbols',
      'BTC_KRW',
      '--timeframe',
      '1d',
      '--start',
      '2018-01-01',
      '--end',
      '2018-01-31',
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
    ]);
    expect(code).toBe(3);
    expect(stderr).toContain('No data found for symbols [BTC_KRW] in range 2018-01-01..2018-01-31');
    // What there is instead (issue 10, item 10).
    expect(stderr).toContain('BTC_KRW: no folder; symbols in');
    expect(stderr).toContain('ETH_BTC');
    const eth = cli([
      ...backtestArgs.slice(0, 4),
      'ETH_BTC',
      '--timeframe',
      '1h',
      '--start',
      '2018-01-01',
      '--end',
      '2018-01-31',
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
    ]);
    expect(eth.code).toBe(3);
    expect(eth.stderr).toContain('ETH_BTC: no 1H files (timeframes: 5M)');
  });

  it('says that DATA_ROOT does not exist rather than only "No data found"', () => {
    const missing = join(tmpdir(), 'coin-no-such-data-root');
    const { code, stderr } = cli([
      ...backtestArgs,
      '--data-root',
      missing,
      '--results-dir',
      resultsDir,
    ]);
    expect(code).toBe(3);
    expect(stderr).toContain(`DATA_ROOT ${missing} does not exist`);
  });

  it('exits 1 naming the file when a data file is broken', () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'coin-broken-'));
    try {
      const dir = join(dataRoot, 'BTC_KRW', '1D');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '2024.parquet'), 'not parquet at all');
      const { code, stderr } = cli([
        'backtest',
        '--strategy',
        'volume_long_candle',
        '--symbols',
        'BTC_KRW',
        '--timeframe',
        '1D',
        '--start',
        '2024-01-01',
        '--end',
        '2024-12-31',
        '--data-root',
        dataRoot,
        '--results-dir',
        resultsDir,
      ]);
      expect(code).toBe(1);
      expect(stderr).toContain('BTC_KRW/1D/2024.parquet');
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dataRoot, { recursive: true, force: true });
    }
  });

  it('runs symbols on threads with the document a sequential runBacktest gives', async () => {
    const symbols = ['ETH_BTC', 'DOGE_BTC', 'LTC_BTC', 'ADA_BTC'];
    const args = [
      'backtest',
      '--strategy',
      'volume_zone_breakout',
      '--symbols',
      symbols.join(','),
      '--timeframe',
      '5m',
      '--start',
      '2018-01-10',
      '--end',
      '2018-01-31',
      '--params',
      '{"volume_window":30,"top_percentile":0.3}',
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
      '--json',
    ];
    const sequential = await runBacktest(
      parseBacktestRequest({
        strategy: 'volume_zone_breakout',
        symbols,
        timeframe: '5m',
        start_date: '2018-01-10',
        end_date: '2018-01-31',
        params: { volume_window: 30, top_percentile: 0.3 },
      }),
      {
        dataRoot: SAMPLE_DATA,
        runId: 'sequential',
        origin: { environment: 'development', executionHost: 'here', workerId: null },
      },
    );
    // Everything but the run's id, its timings and the host it ran on.
    const comparable = (result: ResultDocument) => ({
      ...result,
      run_id: '',
      execution_time: 0,
      metadata: { ...result.metadata, execution_date: '', execution_host: '' },
    });
    expect(sequential.result.symbols.map((s) => s.symbol)).toEqual([
      'ETH_BTC',
      'LTC_BTC',
      'ADA_BTC',
    ]);
    expect(sequential.result.total_signals).toBeGreaterThan(0);
    for (const threads of ['2', '4']) {
      const { code, stdout, stderr } = cli([...args, '--threads', threads]);
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      expect(comparable(JSON.parse(stdout) as ResultDocument)).toEqual(
        comparable(sequential.result),
      );
    }
  });

  it('on threads, fails like a sequential run: on the first broken file in the symbols’ order', () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'coin-threads-'));
    try {
      cpSync(join(SAMPLE_DATA, 'ETH_BTC'), join(dataRoot, 'ETH_BTC'), { recursive: true });
      for (const symbol of ['BAD1_BTC', 'BAD2_BTC']) {
        mkdirSync(join(dataRoot, symbol, '5M'), { recursive: true });
        writeFileSync(join(dataRoot, symbol, '5M', '2018.parquet'), `${symbol} is not parquet`);
      }
      const { code, stderr } = cli([
        'backtest',
        '--strategy',
        'volume_long_candle',
        '--symbols',
        'ETH_BTC,BAD1_BTC,BAD2_BTC',
        '--timeframe',
        '5M',
        '--start',
        '2018-01-10',
        '--end',
        '2018-01-31',
        '--data-root',
        dataRoot,
        '--results-dir',
        resultsDir,
        '--threads',
        '3',
      ]);
      expect(code).toBe(1);
      expect(stderr).toContain('BAD1_BTC/5M/2018.parquet');
      expect(stderr).not.toContain('BAD2_BTC');
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(resultsDir)).toEqual([]);
    } finally {
      rmSync(dataRoot, { recursive: true, force: true });
    }
  });

  it('imports a CSV into the layout and reads it back', () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'coin-import-'));
    try {
      const csv = join(REPO_ROOT, 'test/fixtures/binance/XRP_ETH-5m.csv');
      const imported = cli([
        'import',
        '--csv',
        csv,
        '--symbol',
        'xrp_eth',
        '--timeframe',
        '5m',
        '--data-root',
        dataRoot,
      ]);
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain('XRP_ETH/5M/2019.parquet  712 rows');
      expect(existsSync(join(dataRoot, 'XRP_ETH/5M/2019.parquet'))).toBe(true);
      const inventory = cli(['inventory', '--json', '--data-root', dataRoot]);
      expect(JSON.parse(inventory.stdout)).toMatchObject([
        {
          symbol: 'XRP_ETH',
          timeframe: '5M',
          year: 2019,
          rows: 712,
          first_timestamp: '2019-10-11T00:00:00.000Z',
        },
      ]);
      const bad = cli([
        'import',
        '--csv',
        csv,
        '--symbol',
        '../XRP',
        '--timeframe',
        '5m',
        '--data-root',
        dataRoot,
      ]);
      expect(bad.code).toBe(2);
      expect(readdirSync(dataRoot)).toEqual(['XRP_ETH']);
    } finally {
      rmSync(dataRoot, { recursive: true, force: true });
    }
  });

  it('loads no Nest and no BullMQ: nothing at all for --help, Redis clients only for cleanup', () => {
    const help = packagesLoadedBy(['--help']);
    expect(help).toMatchObject({ code: 0, packages: [] });

    const backtest = packagesLoadedBy([
      ...backtestArgs,
      '--data-root',
      SAMPLE_DATA,
      '--results-dir',
      resultsDir,
    ]);
    expect(backtest.code).toBe(0);
    // The hook does see what a backtest needs: the Parquet reader.
    expect(backtest.packages).toContain('hyparquet');
    expect(backtest.packages.filter((name) => /^(@nestjs\/|bullmq$|ioredis$)/.test(name))).toEqual(
      [],
    );

    const cleanup = packagesLoadedBy(['cleanup', '--dry-run', '--results-dir', resultsDir]);
    expect(cleanup.code).toBe(0);
    expect(cleanup.packages).toContain('ioredis');
    expect(cleanup.packages.filter((name) => /^(@nestjs\/|bullmq$)/.test(name))).toEqual([]);
  });

  it('suggests the flag a typo meant and lists every missing required flag at once (exit 2)', () => {
    const typo = cli(['backtest', '--stratgy', 'volume_long_candle', '--symbol', 'ETH_BTC']);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toContain(
      'got "--stratgy"; expected a flag of "cli backtest": did you mean --strategy?',
    );
    expect(typo.stderr).toContain('did you mean --symbols?');

    const missing = cli(['backtest', '--strategy', 'moon', '--timeframe', '1D']);
    expect(missing.code).toBe(2);
    for (const flag of ['--symbols', '--start', '--end']) {
      expect(missing.stderr).toContain(`${flag}: got nothing; expected`);
    }
    // ...beside the problems of the flags that were given.
    expect(missing.stderr).toContain('--strategy: got "moon"');
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    const importMissing = cli(['import', '--symbol', 'BTC_KRW']);
    expect(importMissing.code).toBe(2);
    expect(importMissing.stderr).toContain('--csv: got nothing; expected the path of a CSV file');
    expect(importMissing.stderr).toContain('--timeframe: got nothing; expected a timeframe');
  });

  it('documents every command and its flags in --help', () => {
    const general = cli(['--help']);
    expect(general.code).toBe(0);
    for (const command of [
      'backtest',
      'import',
      'inventory',
      'strategies',
      'cleanup',
      'bench',
      'version',
    ]) {
      expect(general.stdout).toContain(command);
      const help = cli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: cli ${command}`);
    }
    const backtestHelp = cli(['backtest', '--help']).stdout;
    for (const flag of [
      '--strategy',
      '--symbols',
      '--timeframe',
      '--start',
      '--end',
      '--params',
      '--data-root',
      '--threads',
      '--json',
    ]) {
      expect(backtestHelp).toContain(flag);
    }
    const typo = cli(['backtst']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Unknown command "backtst"; did you mean "backtest"?');
  });

  it('prints the package version for --version and "version"', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const args of [['--version'], ['-v'], ['version']]) {
      expect(cli(args)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });
});
