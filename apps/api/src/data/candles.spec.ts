import { join } from 'node:path';
import { ArgumentMetadata } from '@nestjs/common';
import { FieldProblem, InvalidInputError } from '@app/common';
import { decodeDeltaSeconds } from '@app/backtest';
import { loadCandles } from '@app/data';
import { ApiValidationPipe } from '../http/validation';
import { CandleWindow, readCandleWindowJson } from './candle-window';
import { CandlesQueryDto } from './candles.dto';

const SAMPLE_DATA = join(__dirname, '../../../../data');
const pipe = new ApiValidationPipe();
const query: ArgumentMetadata = { type: 'query', metatype: CandlesQueryDto };

async function problemsOf(value: Record<string, string>): Promise<FieldProblem[]> {
  try {
    await pipe.transform(value, query);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  return [];
}

describe('GET /api/data/candles query', () => {
  const valid = {
    symbol: 'eth_btc',
    timeframe: '5m',
    from: '2018-01-10T00:00:00Z',
    to: '2018-01-11T00:00:00+09:00',
  };

  it('normalises symbol and timeframe and takes times in UTC (no zone: KST)', async () => {
    const dto = (await pipe.transform(valid, query)) as CandlesQueryDto;
    expect(dto).toMatchObject({
      symbol: 'ETH_BTC',
      timeframe: '5M',
      from: Date.UTC(2018, 0, 10),
      to: Date.UTC(2018, 0, 10, 15),
      limit: 20_000,
    });
    const naive = (await pipe.transform(
      { ...valid, from: '2018-01-10T09:00:00' },
      query,
    )) as CandlesQueryDto;
    expect(naive.from).toBe(Date.UTC(2018, 0, 10));
  });

  it('names every bad field at once', async () => {
    const problems = await problemsOf({
      symbol: '../x',
      timeframe: '2M',
      from: 'yesterday',
      to: '2018-13-01',
      limit: '20001',
    });
    expect(problems.map((problem) => problem.field).sort()).toEqual([
      'from',
      'limit',
      'symbol',
      'timeframe',
      'to',
    ]);
    expect((await problemsOf({ ...valid, limit: '0' })).map((p) => p.allowed)).toEqual([
      'an integer from 1 to 20000',
    ]);
  });

  it('wants `to` after `from`, and both', async () => {
    const reversed = await problemsOf({ ...valid, to: valid.from });
    expect(reversed).toEqual([
      { field: 'to', value: valid.from, allowed: 'a time after from (2018-01-10T00:00:00.000Z)' },
    ]);
    const missing = await problemsOf({ symbol: 'ETH_BTC', timeframe: '5M' });
    expect(missing.map((problem) => problem.field)).toEqual(['from', 'to']);
  });
});

describe('readCandleWindowJson', () => {
  const fromMs = Date.UTC(2018, 0, 12);
  const toMs = Date.UTC(2018, 0, 13);

  it('gives the candles of [from, to) as columns, the first `limit` of them', async () => {
    const all = await loadCandles(SAMPLE_DATA, 'ETH_BTC', '5M', { startMs: fromMs, endMs: toMs });
    expect(all.length).toBe(288);
    const window = JSON.parse(
      await readCandleWindowJson(SAMPLE_DATA, {
        symbol: 'ETH_BTC',
        timeframe: '5M',
        fromMs,
        toMs,
        limit: 100,
      }),
    ) as CandleWindow;
    expect(window).toMatchObject({
      count: 100,
      truncated: true,
      next_from: new Date(all.timestamp[100]).toISOString(),
      from: '2018-01-12T00:00:00.000Z',
      to: '2018-01-13T00:00:00.000Z',
    });
    expect(decodeDeltaSeconds(window.time)).toEqual(
      Array.from(all.timestamp.subarray(0, 100), (ms) => ms / 1000),
    );
    expect(window.close).toEqual(Array.from(all.close.subarray(0, 100)));
    expect(window.volume).toEqual(Array.from(all.volume.subarray(0, 100)));
  });

  it('is empty, not an error, where there is no data', async () => {
    const window = JSON.parse(
      await readCandleWindowJson(SAMPLE_DATA, {
        symbol: 'NONE_BTC',
        timeframe: '5M',
        fromMs,
        toMs,
        limit: 100,
      }),
    ) as CandleWindow;
    expect(window).toMatchObject({ count: 0, truncated: false, next_from: null, time: [] });
  });
});
