import { allocateCandles, Candles } from '@app/common';
import { ExecutionSettings } from './execution';
import {
  computePortfolio,
  EquitySeries,
  PortfolioMember,
  portfolioEquity,
  rebuildPortfolioMember,
} from './portfolio';
import { StrategySignals } from './signals';
import { buildSymbolResult } from './symbol-result';

const DAY = 86_400_000;
const MONDAY = Date.UTC(2024, 0, 1);
const f64 = (values: number[]) => Float64Array.from(values);

function member(returnFraction: number[], account: EquitySeries | null = null): PortfolioMember {
  let equity = 1;
  for (const r of returnFraction) equity *= 1 + (r * 100) / 100;
  return {
    returnFraction: f64(returnFraction),
    returnPercent: Float64Array.from(returnFraction, (r) => r * 100),
    finalEquity: equity,
    account,
  };
}

function expectRelative(actual: number | null, expected: number, tolerance = 1e-12): void {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual! - expected) / expected)).toBeLessThan(tolerance);
}

describe('computePortfolio', () => {
  it('is all null without an active symbol', () => {
    const portfolio = computePortfolio([], { positions: 'single' }, '1D');
    expect(Object.values(portfolio).every((figure) => figure === null)).toBe(true);
    expect(Object.keys(portfolio)).toEqual([
      'total_return_pct',
      'trades',
      'win_rate',
      'avg_return',
      'profit_factor',
      'sqn',
      'best_trade_pct',
      'worst_trade_pct',
      'return_ann_pct',
      'volatility_ann_pct',
      'sharpe',
      'sortino',
      'max_drawdown_pct',
      'calmar',
      'max_drawdown_duration_s',
    ]);
  });

  it('pools the trades of every symbol, with equal capital each', () => {
    // A: +10%, −5% (E = 1.045); B: +20% (E = 1.2); C: no trade (E = 1).
    // total = ((1.045 + 1.2 + 1) / 3 − 1)·100 = 8.1666…; trades 0.1, −0.05, 0.2:
    // win rate 2/3, mean 25/3 %, profit factor 0.3 / 0.05 = 6, best 20, worst −5;
    // sqn = √3·(0.25/3) / stdev, stdev = √(((0.1 − 1/12)² + (−0.05 − 1/12)² + (0.2 − 1/12)²) / 2).
    const portfolio = computePortfolio(
      [member([0.1, -0.05]), member([0.2]), member([])],
      { positions: 'overlap' },
      '1D',
    );
    expectRelative(portfolio.total_return_pct, ((1.045 + 1.2 + 1) / 3 - 1) * 100);
    expect(portfolio.trades).toBe(3);
    expect(portfolio.win_rate).toBe(2 / 3);
    expectRelative(portfolio.avg_return, 25 / 3);
    expectRelative(portfolio.profit_factor, 6);
    expect(portfolio.best_trade_pct).toBe(20);
    expect(portfolio.worst_trade_pct).toBe(-5);
    const mean = 0.25 / 3;
    const stdev = Math.sqrt(((0.1 - mean) ** 2 + (-0.05 - mean) ** 2 + (0.2 - mean) ** 2) / 2);
    expectRelative(portfolio.sqn, (Math.sqrt(3) * mean) / stdev, 1e-9);
    expect(portfolio.sharpe).toBeNull();
    expect(portfolio.max_drawdown_pct).toBeNull();
  });

  it('gives §3 zeros for win rate and mean return when active symbols have no trade', () => {
    const portfolio = computePortfolio([member([])], { positions: 'overlap' }, '1D');
    expect(portfolio).toMatchObject({ total_return_pct: 0, trades: 0, win_rate: 0, avg_return: 0 });
    expect(portfolio.best_trade_pct).toBeNull();
  });

  it('with single, follows the mean account on the union of the candle times', () => {
    // A trades on days 0–2 with B = 1, 1.1, 1.1; B on days 1–3 with B = 1, 0.9, 0.99.
    // Union days 0–3, each B carried forward and 1 before its first candle:
    // P = (1 + 1)/2, (1.1 + 1)/2, (1.1 + 0.9)/2, (1.1 + 0.99)/2 = 1, 1.05, 1, 1.045.
    const a = {
      timestamp: f64([0, 1, 2].map((d) => MONDAY + d * DAY)),
      equity: f64([1, 1.1, 1.1]),
    };
    const b = {
      timestamp: f64([1, 2, 3].map((d) => MONDAY + d * DAY)),
      equity: f64([1, 0.9, 0.99]),
    };
    const [times, values] = portfolioEquity([a, b]);
    expect(Array.from(times)).toEqual([0, 1, 2, 3].map((d) => MONDAY + d * DAY));
    expect(Array.from(values)).toEqual([1, 1.05, 1, 1.045]);
    const portfolio = computePortfolio(
      [member([0.1], a), member([-0.1, 0.1], b)],
      { positions: 'single' },
      '1D',
    );
    // Peak 1.05 on day 1, down to 1 (4.76…%), still below it on the last day (2 days).
    expectRelative(portfolio.max_drawdown_pct, (1 - 1 / 1.05) * 100);
    expect(portfolio.max_drawdown_duration_s).toBe(2 * 86_400);
    // d = 0.05, 1/1.05 − 1, 0.045
    const d = [0.05, 1 / 1.05 - 1, 0.045];
    const mean = (d[0] + d[1] + d[2]) / 3;
    const stdev = Math.sqrt(d.reduce((sum, x) => sum + (x - mean) ** 2, 0) / 2);
    expectRelative(portfolio.sharpe, (mean / stdev) * Math.sqrt(365), 1e-9);
  });

  it('refuses a member without an account in single mode', () => {
    expect(() => computePortfolio([member([0.1])], { positions: 'single' }, '1D')).toThrow(
      /no bar equity/,
    );
  });
});

describe('rebuildPortfolioMember', () => {
  /** Daily candles of a price walk from `startMs`. */
  function walk(count: number, startMs: number, phase: number): Candles {
    const candles = allocateCandles(count);
    for (let i = 0; i < count; i++) {
      const close = 100 + 10 * Math.sin((i + phase) / 3) + i / 7;
      candles.timestamp[i] = startMs + i * DAY;
      candles.open[i] = candles.high[i] = candles.low[i] = candles.close[i] = close;
      candles.volume[i] = 1;
    }
    return candles;
  }

  // Signals every third day, held 4 bars, so single positions skip some.
  const signals: StrategySignals = {
    indices: Int32Array.from({ length: 9 }, (_, k) => 3 * k),
    confidence: new Float64Array(9).fill(1),
    holdPeriodBars: 4,
  };
  // The second symbol starts a day later and ends a day later: the union of times is wider
  // than either.
  const symbols = [
    { symbol: 'A_B', candles: walk(28, MONDAY, 0) },
    { symbol: 'C_D', candles: walk(28, MONDAY + DAY, 5) },
  ];

  it.each<ExecutionSettings>([
    { fee: 0.001, slippage: 0.0005, positions: 'overlap' },
    { fee: 0.001, slippage: 0.0005, positions: 'single' },
    { fee: 0, slippage: 0, positions: 'single' },
  ])('rebuilds from the stored document the same bits as the run (%o)', (execution) => {
    const runs = symbols.map(({ symbol, candles }) =>
      buildSymbolResult(symbol, candles, signals, execution, '1D'),
    );
    const stored = runs.map((run) => JSON.parse(JSON.stringify(run.result)) as typeof run.result);
    const rebuilt = stored.map((result, k) =>
      rebuildPortfolioMember(
        result.signals,
        execution,
        // Overlap needs no candles; single reloads them.
        execution.positions === 'single' ? symbols[k].candles : undefined,
      ),
    );
    const original = computePortfolio(
      runs.map((run) => run.portfolio),
      execution,
      '1D',
    );
    expect(computePortfolio(rebuilt, execution, '1D')).toEqual(original);
    rebuilt.forEach((member, k) => {
      const { portfolio } = runs[k];
      expect(Array.from(member.returnFraction)).toEqual(Array.from(portfolio.returnFraction));
      expect(Array.from(member.returnPercent)).toEqual(Array.from(portfolio.returnPercent));
      expect(member.finalEquity).toBe(portfolio.finalEquity);
      expect(member.account?.equity).toEqual(portfolio.account?.equity);
    });
    expect(original.trades).toBeGreaterThan(8);
  });

  it('needs the candles in single mode, and the same candles as the run', () => {
    const single: ExecutionSettings = { fee: 0, slippage: 0, positions: 'single' };
    const { result } = buildSymbolResult('A_B', symbols[0].candles, signals, single, '1D');
    expect(() => rebuildPortfolioMember(result.signals, single)).toThrow(/candles/);
    expect(() => rebuildPortfolioMember(result.signals, single, symbols[1].candles)).toThrow(
      /no candle at|held/,
    );
  });
});
