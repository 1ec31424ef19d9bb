import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultStore } from '@app/storage';
import { parseBacktestRequest } from './request';
import { ResultDocument } from './result-document';
import { runBacktest } from './run-backtest';
import { RunFolders } from './run-folders';
import { setSymbolActive } from './symbol-activity';

const SAMPLE_DATA = join(__dirname, '../../../data');
const ORIGIN = { environment: 'test', executionHost: 'here', workerId: null };

describe('setSymbolActive', () => {
  let dir: string;
  let store: ResultStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coin-activity-'));
    store = new ResultStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const request = (symbols: string[], positions: 'overlap' | 'single') =>
    parseBacktestRequest({
      strategy: 'volume_long_candle',
      params: { vol_multiplier: 1.1, body_pct: 0.004, hold_period_bars: 4 },
      execution: { fee: 0.001, slippage: 0.0002, positions },
      symbols,
      timeframe: '5M',
      start_date: '2018-01-10',
      end_date: '2018-01-31',
    });

  it.each(['overlap', 'single'] as const)(
    'gives the portfolio a run of the active symbols alone gives, bit for bit (%s)',
    async (positions) => {
      const runId = '7d1e2f3a-0000-4000-8000-000000000001';
      const all = request(['ETH_BTC', 'LTC_BTC', 'ADA_BTC'], positions);
      const outcome = await runBacktest(all, { dataRoot: SAMPLE_DATA, runId, origin: ORIGIN });
      await new RunFolders(store, ORIGIN).completed(all, outcome, {
        created_at: null,
        started_at: null,
      });

      const off = await setSymbolActive({
        store,
        dataRoot: SAMPLE_DATA,
        runId,
        symbol: 'LTC_BTC',
        isActive: false,
      });
      expect(off.kind).toBe('changed');
      const stored = JSON.parse(
        readFileSync(join(dir, runId, 'result.json'), 'utf8'),
      ) as ResultDocument;
      expect(stored.symbols.map((symbol) => symbol.is_active)).toEqual([true, false, true]);
      const alone = await runBacktest(request(['ETH_BTC', 'ADA_BTC'], positions), {
        dataRoot: SAMPLE_DATA,
        runId: 'x',
        origin: ORIGIN,
      });
      expect(stored.portfolio).toEqual(alone.result.portfolio);
      // Nothing else of the document moved.
      expect({ ...stored, portfolio: null, symbols: null }).toEqual({
        ...outcome.result,
        portfolio: null,
        symbols: null,
      });

      // The manifest vouches for the new file, and its summary carries the new portfolio.
      const manifest = await store.readManifest(runId);
      const bytes = readFileSync(join(dir, runId, 'result.json'));
      expect(manifest!.result_files[0]).toMatchObject({
        size_bytes: bytes.length,
        checksum: createHash('md5').update(bytes).digest('hex'),
      });
      expect(manifest!.summary.portfolio).toEqual(alone.result.portfolio);

      // Back on: the original portfolio, to the bit.
      await setSymbolActive({
        store,
        dataRoot: SAMPLE_DATA,
        runId,
        symbol: 'LTC_BTC',
        isActive: true,
      });
      const restored = JSON.parse(
        readFileSync(join(dir, runId, 'result.json'), 'utf8'),
      ) as ResultDocument;
      expect(restored.portfolio).toEqual(outcome.result.portfolio);
    },
  );

  it('says which part is unknown: the run or the symbol', async () => {
    const options = { store, dataRoot: SAMPLE_DATA, isActive: false };
    expect(
      await setSymbolActive({
        ...options,
        runId: '7d1e2f3a-0000-4000-8000-00000000abcd',
        symbol: 'ETH_BTC',
      }),
    ).toEqual({ kind: 'no-run' });
    const runId = '7d1e2f3a-0000-4000-8000-000000000002';
    const one = request(['ETH_BTC'], 'overlap');
    const outcome = await runBacktest(one, { dataRoot: SAMPLE_DATA, runId, origin: ORIGIN });
    await new RunFolders(store, ORIGIN).completed(one, outcome, {
      created_at: null,
      started_at: null,
    });
    expect(await setSymbolActive({ ...options, runId, symbol: 'XRP_BTC' })).toEqual({
      kind: 'no-symbol',
    });
  });
});
