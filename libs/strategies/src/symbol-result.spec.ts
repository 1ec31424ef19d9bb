import { resolveParams } from './registry';
import { buildSymbolResult } from './symbol-result';
import { candlesOf } from './testing/candle-fixtures';

describe('buildSymbolResult', () => {
  // Minute bars from 2024-01-01T00:00Z; bar 3 is the spec's long candle on a volume surge.
  const candles = candlesOf([
    [100, 100, 100, 100, 10],
    [100, 100, 100, 100, 10],
    [100, 100, 100, 100, 10],
    [100, 102.8, 99.8, 102.5, 1_000],
    [102.5, 103, 102, 102.5, 10],
    [102.5, 106, 102, 105, 10],
  ]);

  it('builds the per-symbol part of the result document', () => {
    const { strategy, params } = resolveParams('volume_long_candle', { hold_period_bars: 2 });
    const result = buildSymbolResult('BTC_KRW', candles, strategy.run(candles, params));
    expect(result).toEqual({
      symbol: 'BTC_KRW',
      candles: 6,
      samples: 1,
      win_rate: 1,
      avg_return: ((105 - 102.5) / 102.5) * 100,
      max_drawdown: 0,
      avg_hold_bars: 2,
      signals: [
        {
          symbol: 'BTC_KRW',
          type: 'buy',
          timestamp: '2024-01-01T00:03:00.000Z',
          entry_price: 102.5,
          exit_price: 105,
          return_pct: (105 - 102.5) / 102.5,
          confidence: 1,
        },
      ],
      performance_curve: [
        { timestamp: '2024-01-01T00:03:00.000Z', equity: 1 + (105 - 102.5) / 102.5 },
      ],
    });
  });

  it('reports a symbol without signals with zero metrics and empty lists', () => {
    const { strategy, params } = resolveParams('volume_zone_breakout', {});
    const result = buildSymbolResult('ETH_KRW', candles, strategy.run(candles, params));
    expect(result).toEqual({
      symbol: 'ETH_KRW',
      candles: 6,
      samples: 0,
      win_rate: 0,
      avg_return: 0,
      max_drawdown: 0,
      avg_hold_bars: 0,
      signals: [],
      performance_curve: [],
    });
  });

  it('survives JSON as the same document', () => {
    const { strategy, params } = resolveParams('volume_long_candle', {});
    const result = buildSymbolResult('BTC_KRW', candles, strategy.run(candles, params));
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});
