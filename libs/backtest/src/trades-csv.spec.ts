import { join } from 'node:path';
import { parseBacktestRequest } from './request';
import { runBacktest } from './run-backtest';
import { TRADES_CSV_HEADER, tradesCsv } from './trades-csv';

const SAMPLE_DATA = join(__dirname, '../../../data');

describe('tradesCsv', () => {
  it('writes one row per trade with the fields of the document, numbers read back exactly', async () => {
    const request = parseBacktestRequest({
      strategy: 'volume_long_candle',
      params: { vol_multiplier: 1.1, body_pct: 0.003, hold_period_bars: 3 },
      execution: { fee: 0.001, slippage: 0.0005, positions: 'single' },
      symbols: ['ETH_BTC', 'LTC_BTC'],
      timeframe: '5M',
      start_date: '2018-01-10',
      end_date: '2018-01-31',
    });
    const { result } = await runBacktest(request, {
      dataRoot: SAMPLE_DATA,
      runId: 'csv',
      origin: { environment: 'test', executionHost: 'here', workerId: null },
    });
    const lines = tradesCsv(result).trimEnd().split('\n');
    expect(lines[0]).toBe(TRADES_CSV_HEADER);
    const trades = result.symbols.flatMap((symbol) => symbol.signals);
    expect(trades.length).toBeGreaterThan(10);
    expect(lines).toHaveLength(trades.length + 1);
    lines.slice(1).forEach((line, index) => {
      const [symbol, entry, exit, entryPrice, exitPrice, entryFill, exitFill, hold, r, c] =
        line.split(',');
      const trade = trades[index];
      expect({ symbol, entry, exit, hold: Number(hold) }).toEqual({
        symbol: trade.symbol,
        entry: trade.timestamp,
        exit: trade.exit_timestamp,
        hold: trade.hold_bars,
      });
      expect(entry).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // Shortest round-trip form: parsing gives the very same double back.
      expect([entryPrice, exitPrice, entryFill, exitFill, r, c].map(Number)).toEqual([
        trade.entry_price,
        trade.exit_price,
        trade.entry_fill,
        trade.exit_fill,
        trade.return_pct,
        trade.confidence,
      ]);
      expect(r).toBe(String(trade.return_pct));
    });
  });

  it('is the header alone for a run without trades', () => {
    expect(tradesCsv({ symbols: [] })).toBe(`${TRADES_CSV_HEADER}\n`);
  });
});
