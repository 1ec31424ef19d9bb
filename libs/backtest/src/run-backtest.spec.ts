import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, DataFileError, InvalidInputError, NoDataError } from '@app/common';
import {
  candleFileLocation,
  generateCandles,
  kstDateRange,
  loadCandles,
  writeCandleFile,
} from '@app/data';
import { getStrategy } from '@app/strategies';
import { ResultStore } from '@app/storage';
import { parseBacktestRequest } from './request';
import { assembleBacktest, BacktestEvent, runBacktest, runSymbol } from './run-backtest';
import { RunFolders } from './run-folders';
import type { ChartDocument } from './chart-data';

const SAMPLE_DATA = join(__dirname, '../../../data');
const CONTEXT = {
  dataRoot: SAMPLE_DATA,
  runId: 'run-1',
  origin: { environment: 'test', executionHost: 'host', workerId: null },
};

function problemsOf(raw: unknown): string[] {
  try {
    parseBacktestRequest(raw);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems.map((p) => p.field);
    throw error;
  }
  return [];
}

describe('parseBacktestRequest', () => {
  const valid = {
    strategy: 'volume_long_candle',
    symbols: ['eth_btc', 'LTC_BTC', 'ETH_BTC'],
    timeframe: '5m',
    start_date: '2018-01-10',
    end_date: '2018-01-31',
  };

  it('normalises symbols and timeframe, de-duplicates symbols and fills every default', () => {
    const request = parseBacktestRequest(valid);
    expect(request.symbols).toEqual(['ETH_BTC', 'LTC_BTC']);
    expect(request.timeframe).toBe('5M');
    expect(request.params).toEqual({
      vol_ma_window: 20,
      vol_multiplier: 1.5,
      body_pct: 0.02,
      hold_period_bars: 1,
    });
  });

  it('reports every failing field at once', () => {
    expect(
      problemsOf({
        strategy: 'nope',
        symbols: ['../x'],
        timeframe: '2H',
        start_date: '2018-13-01',
        end_date: 'x',
        extra: 1,
      }).sort(),
    ).toEqual(['end_date', 'extra', 'start_date', 'strategy', 'symbols[0]', 'timeframe']);
  });

  it('refuses a reversed date range, an empty symbol list and too many symbols', () => {
    expect(problemsOf({ ...valid, start_date: '2018-02-01', end_date: '2018-01-01' })).toEqual([
      'start_date',
      'end_date',
    ]);
    expect(problemsOf({ ...valid, symbols: [] })).toEqual(['symbols']);
    expect(
      problemsOf({ ...valid, symbols: Array.from({ length: 101 }, (_, i) => `S${i}_BTC`) }),
    ).toEqual(['symbols']);
  });

  it('counts symbols after dropping duplicates against the limit of 100', () => {
    const repeated = Array.from({ length: 60 }, () => ['eth_btc', 'ETH_BTC']).flat();
    expect(parseBacktestRequest({ ...valid, symbols: repeated }).symbols).toEqual(['ETH_BTC']);
  });
});

describe('runBacktest on the sample data', () => {
  const request = parseBacktestRequest({
    strategy: 'volume_zone_breakout',
    params: { volume_window: 30 },
    symbols: ['ETH_BTC', 'DOGE_BTC', 'LTC_BTC'],
    timeframe: '5M',
    start_date: '2018-01-10',
    end_date: '2018-01-31',
  });

  it('produces the SPEC §4 document, with symbols lacking data in symbols_failed', async () => {
    const { result, symbolMs, candles } = await runBacktest(request, {
      ...CONTEXT,
      origin: { ...CONTEXT.origin, workerId: 'w1' },
    });
    expect(result).toMatchObject({
      version: '1.2.0',
      run_id: 'run-1',
      strategy: 'volume_zone_breakout',
      params: {
        volume_window: 30,
        top_percentile: 0.2,
        breakout_buffer: 0.01,
        hold_period_bars: 1,
        num_bins: 20,
        include_wicks: true,
      },
      timeframe: '5M',
      start_date: '2018-01-10',
      end_date: '2018-01-31',
      symbols_failed: [
        {
          symbol: 'DOGE_BTC',
          reason: expect.stringContaining('No candles in range 2018-01-10..2018-01-31'),
        },
      ],
      metadata: { environment: 'test', execution_host: 'host', worker_id: 'w1' },
    });
    expect(result.symbols.map((s) => s.symbol)).toEqual(['ETH_BTC', 'LTC_BTC']);
    expect(result.total_signals).toBe(result.symbols[0].samples + result.symbols[1].samples);
    expect(result.total_signals).toBeGreaterThan(0);
    expect(symbolMs).toHaveLength(2);
    expect(candles).toBe(result.symbols[0].candles + result.symbols[1].candles);
    // A request saying nothing of execution gets SPEC §3's: no costs, overlapping trades.
    expect(result.execution).toEqual({ fee: 0, slippage: 0, positions: 'overlap' });
    expect(result.symbols.every((symbol) => symbol.is_active)).toBe(true);

    // The per-symbol numbers are the strategy's on the same candles: nothing lost on the way.
    const eth = await loadCandles(
      SAMPLE_DATA,
      'ETH_BTC',
      '5M',
      kstDateRange('2018-01-10', '2018-01-31'),
    );
    const signals = getStrategy('volume_zone_breakout')!.run(eth, request.params);
    expect(result.symbols[0].candles).toBe(eth.length);
    expect(result.symbols[0].signals.map((s) => s.timestamp)).toEqual(
      Array.from(signals.indices, (i) => new Date(eth.timestamp[i]).toISOString()),
    );
  });

  it('reports progress rising to 1 with the SPEC §6 events in order', async () => {
    const events: BacktestEvent[] = [];
    await runBacktest(request, { ...CONTEXT, onEvent: (event) => events.push(event) });
    expect(events.map((e) => `${e.kind}:${e.symbol}`)).toEqual([
      'symbol-started:ETH_BTC',
      'data-loaded:ETH_BTC',
      'symbol-finished:ETH_BTC',
      'symbol-started:DOGE_BTC',
      'data-loaded:DOGE_BTC',
      'symbol-finished:DOGE_BTC',
      'symbol-started:LTC_BTC',
      'data-loaded:LTC_BTC',
      'symbol-finished:LTC_BTC',
    ]);
    const progress = events.flatMap((e) => ('progress' in e ? [e.progress] : []));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(1);
  });

  it('fails with NoDataError naming the symbols and range when no symbol has candles', async () => {
    const none = parseBacktestRequest({ ...request, symbols: ['DOGE_BTC'], params: {} });
    await expect(runBacktest(none, CONTEXT)).rejects.toThrow(NoDataError);
    await expect(runBacktest(none, CONTEXT)).rejects.toThrow(
      'No data found for symbols [DOGE_BTC] in range 2018-01-10..2018-01-31',
    );
  });

  it('reports candles the strategy cannot use as a data error naming the symbol, not as bad input', async () => {
    const dataRoot = mkdtempSync(join(tmpdir(), 'coin-corrupt-'));
    try {
      const candles = generateCandles({
        count: 50,
        startMs: Date.UTC(2024, 0, 1),
        stepMs: 86_400_000,
        seed: 3,
      });
      candles.close[17] = 0;
      await writeCandleFile(
        candleFileLocation(dataRoot, 'BAD_KRW', '1D', 2024).absolutePath,
        candles,
      );
      const corrupt = parseBacktestRequest({
        strategy: 'volume_long_candle',
        symbols: ['BAD_KRW'],
        timeframe: '1D',
        start_date: '2024-01-01',
        end_date: '2024-12-31',
      });
      const failure = runBacktest(corrupt, { ...CONTEXT, dataRoot });
      await expect(failure).rejects.toThrow(DataFileError);
      await expect(failure).rejects.toThrow(/BAD_KRW\/1D: unusable candles: .*close\[17\]/);
    } finally {
      rmSync(dataRoot, { recursive: true, force: true });
    }
  });

  it('stops between symbols once cancelled', async () => {
    let finished = 0;
    await expect(
      runBacktest(request, {
        ...CONTEXT,
        isCancelled: () => finished > 0,
        onEvent: (event) => {
          if (event.kind === 'symbol-finished') finished++;
        },
      }),
    ).rejects.toThrow(CancelledError);
    expect(finished).toBe(1);
  });

  it('assembles the same document from symbols run one by one, in any order', async () => {
    const sequential = await runBacktest(request, CONTEXT);
    // Run concurrently, finishing in whatever order; assembled in the request's order.
    const outcomes = await Promise.all(
      [...request.symbols]
        .reverse()
        .map((symbol) => runSymbol(request, symbol, { dataRoot: SAMPLE_DATA })),
    );
    const assembled = assembleBacktest(request, outcomes.reverse(), CONTEXT, performance.now());
    const withoutTimings = ({ result, candles }: typeof sequential) => ({
      ...result,
      execution_time: 0,
      metadata: { ...result.metadata, execution_date: '' },
      candles,
    });
    expect(withoutTimings(assembled)).toEqual(withoutTimings(sequential));
    expect(assembled.symbolMs).toHaveLength(2);
  });

  it('runSymbol reports a symbol without candles in range as such, after telling its rows', async () => {
    const loaded: number[] = [];
    const outcome = await runSymbol(request, 'DOGE_BTC', {
      dataRoot: SAMPLE_DATA,
      onLoaded: (rows) => loaded.push(rows),
    });
    expect(outcome).toMatchObject({ symbol: 'DOGE_BTC', candles: 0, result: null });
    expect(loaded).toEqual([0]);
    expect(() => assembleBacktest(request, [outcome], CONTEXT, 0)).toThrow(NoDataError);
  });

  it('adds the portfolio over the symbols that have data, with the execution asked for', async () => {
    const single = parseBacktestRequest({
      ...request,
      execution: { fee: '0.001', slippage: 0.0005, positions: 'single' },
    });
    const { result } = await runBacktest(single, CONTEXT);
    expect(result.execution).toEqual({ fee: 0.001, slippage: 0.0005, positions: 'single' });
    const trades = result.symbols.flatMap((symbol) => symbol.signals);
    expect(result.portfolio.trades).toBe(trades.length);
    expect(result.total_signals).toBe(trades.length);
    // Equal capital each: the mean of the symbols' compounded returns.
    const finals = result.symbols.map((symbol) => symbol.performance_curve.at(-1)?.equity ?? 1);
    expect(result.portfolio.total_return_pct).toBeCloseTo(
      (finals.reduce((a, b) => a + b, 0) / finals.length - 1) * 100,
      12,
    );
    // The account's figures exist with one position per symbol.
    expect(result.portfolio.max_drawdown_pct).not.toBeNull();
    for (const signal of trades) {
      expect(signal.entry_fill).toBe(signal.entry_price * 1.0005);
      expect(signal.exit_fill).toBe(signal.exit_price * (1 - 0.0005));
    }
  });

  it('records a run folder whose manifest summarises the result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coin-run-'));
    try {
      const store = new ResultStore(dir);
      const runId = '3f2b1c4d-0000-4000-8000-000000000001';
      const outcome = await runBacktest(request, { ...CONTEXT, runId });
      const manifest = await new RunFolders(store, CONTEXT.origin).completed(request, outcome, {
        created_at: '2024-01-01T00:00:00.000Z',
        started_at: '2024-01-01T00:00:01.000Z',
        finished_at: '2024-01-01T00:00:03.500Z',
      });
      const trades = outcome.result.symbols.flatMap((s) =>
        s.signals.map((signal) => signal.return_pct * 100),
      );
      expect(manifest.summary).toMatchObject({
        total_signals: outcome.result.total_signals,
        symbols_processed: 2,
        symbols_failed: 1,
      });
      expect(manifest.summary.avg_return).toBeCloseTo(
        trades.reduce((a, b) => a + b, 0) / trades.length,
        10,
      );
      expect(manifest.metadata.duration_ms).toBe(2500);
      // What the catalogue and history read without opening result.json.
      expect(manifest.summary.execution_time).toBe(outcome.result.execution_time);
      expect(manifest.summary.portfolio).toEqual(outcome.result.portfolio);
      expect(manifest.execution).toEqual(outcome.result.execution);
      expect(JSON.parse(readFileSync(join(dir, runId, 'result.json'), 'utf8'))).toEqual(
        outcome.result,
      );
      // SPEC §14: the chart data of the symbols that had candles, listed with its md5.
      const chart = readFileSync(join(dir, runId, 'chart.json'));
      expect(manifest.result_files.find((file) => file.name === 'chart.json')).toEqual({
        name: 'chart.json',
        path: `${runId}/chart.json`,
        size_bytes: chart.length,
        checksum: createHash('md5').update(chart).digest('hex'),
      });
      const document = JSON.parse(chart.toString('utf8')) as ChartDocument;
      expect(document.run_id).toBe(runId);
      expect(document.symbols.map((symbol) => [symbol.symbol, symbol.trade_count])).toEqual(
        outcome.result.symbols.map((symbol) => [symbol.symbol, symbol.samples]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
