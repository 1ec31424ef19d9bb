import { ArgumentMetadata } from '@nestjs/common';
import { FieldProblem, InvalidInputError } from '@app/common';
import { parseBacktestRequest } from '@app/backtest';
import { ApiValidationPipe } from '../http/validation';
import { BacktestRequestDto, EXAMPLE_BACKTEST_REQUEST } from './backtest-request.dto';
import { HistoryQueryDto } from './history.dto';

const pipe = new ApiValidationPipe();
const body: ArgumentMetadata = { type: 'body', metatype: BacktestRequestDto };
const query: ArgumentMetadata = { type: 'query', metatype: HistoryQueryDto };

async function problemsOf(value: unknown, metadata: ArgumentMetadata): Promise<FieldProblem[]> {
  try {
    await pipe.transform(value, metadata);
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  return [];
}

function libraryProblems(raw: unknown): FieldProblem[] {
  try {
    parseBacktestRequest(raw);
    return [];
  } catch (error) {
    return (error as InvalidInputError).problems;
  }
}

describe('backtest request validation', () => {
  it('accepts the documented example', async () => {
    expect(await problemsOf(EXAMPLE_BACKTEST_REQUEST, body)).toEqual([]);
  });

  it('reports exactly what parseBacktestRequest reports, field by field', async () => {
    const requests = [
      { ...EXAMPLE_BACKTEST_REQUEST, strategy: 'nope' },
      { ...EXAMPLE_BACKTEST_REQUEST, params: { vol_ma_window: 0, body_pct: '0.9', x: 1 } },
      { ...EXAMPLE_BACKTEST_REQUEST, symbols: ['ok_ok', 'a/b', ''], timeframe: 'weekly' },
      {
        ...EXAMPLE_BACKTEST_REQUEST,
        symbols: [],
        start_date: '2018-01-31',
        end_date: '2018-01-01',
      },
      { strategy: 'volume_zone_breakout', params: 'fast' },
    ];
    for (const request of requests) {
      const fromDto = await problemsOf(request, body);
      expect(fromDto.length).toBeGreaterThan(0);
      expect(new Set(fromDto)).toEqual(new Set(libraryProblems(request)));
    }
  });

  it('refuses unknown fields and bodies that are not objects', async () => {
    expect(await problemsOf({ ...EXAMPLE_BACKTEST_REQUEST, priority: 'high' }, body)).toEqual([
      {
        field: 'priority',
        value: 'high',
        allowed:
          'no such field; the fields are preset, strategy, params, execution, symbols, timeframe, start_date, end_date',
      },
    ]);
    expect(await problemsOf(['volume_long_candle'], body)).toEqual([
      {
        field: 'body',
        value: ['volume_long_candle'],
        allowed:
          'a JSON object with preset, strategy, params, execution, symbols, timeframe, start_date, end_date',
      },
    ]);
  });
});

describe('history query validation', () => {
  it('turns numeric query strings into numbers and fills in the page defaults', async () => {
    const parsed = (await pipe.transform(
      { min_return: '-1.5', max_signals: '3' },
      query,
    )) as HistoryQueryDto;
    expect(parsed).toMatchObject({ min_return: -1.5, max_signals: 3, limit: 20, offset: 0 });
  });

  it('reports a reversed range on both of its fields, and values as they were sent', async () => {
    expect(await problemsOf({ min_signals: '9', max_signals: '2', limit: 'ten' }, query)).toEqual([
      { field: 'min_signals', value: 9, allowed: 'a value not above max_signals (2)' },
      { field: 'max_signals', value: 2, allowed: 'a value not below min_signals (9)' },
      { field: 'limit', value: 'ten', allowed: 'an integer from 1 to 100' },
    ]);
    const dates = await problemsOf({ start_date: '2018-02-01', end_date: '2018-01-01' }, query);
    expect(dates.map((problem) => problem.field)).toEqual(['start_date', 'end_date']);
  });
});
