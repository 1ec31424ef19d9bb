import { InvalidInputError } from '@app/common';
import { getStrategy, listStrategies, resolveParams } from './registry';
import { describeAllowedValues, isAllowedValue } from './params';

function problemsOf(run: () => unknown): InvalidInputError['problems'] {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems;
    throw error;
  }
  throw new Error('expected an InvalidInputError');
}

describe('the strategy registry', () => {
  it('lists both strategies of the spec, each with its parameter table', () => {
    expect(listStrategies().map((strategy) => strategy.name)).toEqual([
      'volume_long_candle',
      'volume_zone_breakout',
    ]);
    expect(getStrategy('volume_long_candle')?.params.map((param) => param.name)).toEqual([
      'vol_ma_window',
      'vol_multiplier',
      'body_pct',
      'hold_period_bars',
    ]);
    expect(getStrategy('volume_zone_breakout')?.params.map((param) => param.name)).toEqual([
      'volume_window',
      'top_percentile',
      'breakout_buffer',
      'hold_period_bars',
      'num_bins',
      'include_wicks',
    ]);
    expect(getStrategy('nope')).toBeUndefined();
  });

  it('declares every parameter consistently: a described default that its own rules accept', () => {
    for (const strategy of listStrategies()) {
      expect(strategy.description.length).toBeGreaterThan(20);
      for (const param of strategy.params) {
        expect(param.description.length).toBeGreaterThan(20);
        expect(isAllowedValue(param, param.default)).toBe(true);
        if (param.type !== 'bool') expect([param.min, param.max]).not.toContain(undefined);
      }
    }
  });

  it('words the allowed values for people', () => {
    const [window, multiplier] = getStrategy('volume_long_candle')!.params;
    const wicks = getStrategy('volume_zone_breakout')!.params[5];
    expect(describeAllowedValues(window)).toBe('an integer from 1 to 500');
    expect(describeAllowedValues(multiplier)).toBe('a number from 1.0 to 10.0');
    expect(describeAllowedValues(wicks)).toBe('true or false');
  });
});

describe('resolveParams', () => {
  it('fills in every default, in table order', () => {
    const { strategy, params } = resolveParams('volume_zone_breakout', { num_bins: 50 });
    expect(strategy.name).toBe('volume_zone_breakout');
    expect(Object.entries(params)).toEqual([
      ['volume_window', 60],
      ['top_percentile', 0.2],
      ['breakout_buffer', 0.01],
      ['hold_period_bars', 1],
      ['num_bins', 50],
      ['include_wicks', true],
    ]);
  });

  it('treats missing params (undefined or null) as all defaults', () => {
    const defaults = {
      vol_ma_window: 20,
      vol_multiplier: 1.5,
      body_pct: 0.02,
      hold_period_bars: 1,
    };
    expect(resolveParams('volume_long_candle', undefined).params).toEqual(defaults);
    expect(resolveParams('volume_long_candle', null).params).toEqual(defaults);
  });

  it('accepts the bounds themselves and integral floats', () => {
    const { params } = resolveParams('volume_long_candle', {
      vol_ma_window: 500,
      vol_multiplier: 1,
      body_pct: 0.5,
      hold_period_bars: 1,
    });
    expect(params).toEqual({
      vol_ma_window: 500,
      vol_multiplier: 1,
      body_pct: 0.5,
      hold_period_bars: 1,
    });
  });

  it('rejects an unknown strategy, listing the known ones', () => {
    expect(problemsOf(() => resolveParams('volume_short_candle', {}))).toEqual([
      {
        field: 'strategy',
        value: 'volume_short_candle',
        allowed: 'one of volume_long_candle, volume_zone_breakout',
      },
    ]);
    expect(problemsOf(() => resolveParams(undefined, {}))[0].field).toBe('strategy');
  });

  it('rejects an unknown parameter, listing the strategy’s own', () => {
    expect(problemsOf(() => resolveParams('volume_long_candle', { vol_window: 20 }))).toEqual([
      {
        field: 'params.vol_window',
        value: 20,
        allowed:
          'no such parameter; known parameters: vol_ma_window, vol_multiplier, body_pct, hold_period_bars',
      },
    ]);
  });

  it('rejects wrong types: fractions for ints, non-finite numbers, null, non-booleans', () => {
    const problems = problemsOf(() =>
      resolveParams('volume_zone_breakout', {
        volume_window: [60],
        num_bins: 20.5,
        top_percentile: Number.NaN,
        breakout_buffer: null,
        include_wicks: 1,
      }),
    );
    expect(problems).toEqual([
      { field: 'params.volume_window', value: [60], allowed: 'an integer from 10 to 500' },
      { field: 'params.top_percentile', value: Number.NaN, allowed: 'a number from 0.05 to 0.5' },
      { field: 'params.breakout_buffer', value: null, allowed: 'a number from 0.0 to 0.05' },
      { field: 'params.num_bins', value: 20.5, allowed: 'an integer from 5 to 100' },
      { field: 'params.include_wicks', value: 1, allowed: 'true or false' },
    ]);
  });

  it('reads form strings as SPEC §10.3 says: plain decimals as numbers, "true"/"false" as booleans', () => {
    const { params } = resolveParams('volume_zone_breakout', {
      volume_window: '20.0',
      top_percentile: '0.25',
      breakout_buffer: '0',
      hold_period_bars: '5',
      num_bins: '100',
      include_wicks: 'false',
    });
    expect(params).toEqual({
      volume_window: 20,
      top_percentile: 0.25,
      breakout_buffer: 0,
      hold_period_bars: 5,
      num_bins: 100,
      include_wicks: false,
    });
    expect(typeof params.volume_window).toBe('number');
  });

  it('checks a coerced string as usual and reports it as it was given', () => {
    expect(
      problemsOf(() =>
        resolveParams('volume_zone_breakout', {
          volume_window: '9',
          num_bins: '20.5',
          top_percentile: '-0.2',
        }),
      ),
    ).toEqual([
      { field: 'params.volume_window', value: '9', allowed: 'an integer from 10 to 500' },
      { field: 'params.top_percentile', value: '-0.2', allowed: 'a number from 0.05 to 0.5' },
      { field: 'params.num_bins', value: '20.5', allowed: 'an integer from 5 to 100' },
    ]);
  });

  it.each([
    ['1e3'],
    [' 5'],
    ['5 '],
    ['0x10'],
    [''],
    ['+5'],
    ['05'],
    ['5.'],
    ['.5'],
    ['-'],
    ['Infinity'],
    ['NaN'],
    ['2\n'],
  ])('keeps the 422 for the string %j, which is not a plain decimal', (text) => {
    expect(problemsOf(() => resolveParams('volume_long_candle', { vol_ma_window: text }))).toEqual([
      { field: 'params.vol_ma_window', value: text, allowed: 'an integer from 1 to 500' },
    ]);
  });

  it.each([['True'], ['1'], ['yes'], [''], [' true']])(
    'keeps the 422 for the boolean written %j',
    (text) => {
      expect(
        problemsOf(() => resolveParams('volume_zone_breakout', { include_wicks: text })),
      ).toEqual([{ field: 'params.include_wicks', value: text, allowed: 'true or false' }]);
    },
  );

  it('rejects values out of range, naming the range, and reports every problem at once', () => {
    const error = (() => {
      try {
        resolveParams(
          'volume_long_candle',
          { vol_ma_window: 0, vol_multiplier: 0.5, body_pct: 0.6, hold_period_bars: 101, extra: 1 },
          'body.params',
        );
      } catch (thrown) {
        return thrown as InvalidInputError;
      }
      throw new Error('expected an InvalidInputError');
    })();
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.problems.map((problem) => problem.field)).toEqual([
      'body.params.vol_ma_window',
      'body.params.vol_multiplier',
      'body.params.body_pct',
      'body.params.hold_period_bars',
      'body.params.extra',
    ]);
    expect(error.message).toContain(
      'body.params.vol_multiplier: got 0.5; expected a number from 1.0 to 10.0',
    );
    expect(error.message).toContain(
      'body.params.hold_period_bars: got 101; expected an integer from 1 to 100',
    );
  });

  it('rejects params that are not an object', () => {
    expect(problemsOf(() => resolveParams('volume_long_candle', [20]))).toEqual([
      { field: 'params', value: [20], allowed: 'an object of parameter values' },
    ]);
    expect(problemsOf(() => resolveParams('volume_long_candle', 'vol_ma_window=20'))[0].field).toBe(
      'params',
    );
  });

  it('does not mistake inherited properties for parameters', () => {
    const given = JSON.parse('{"__proto__": {"vol_ma_window": 3}, "body_pct": 0.01}') as unknown;
    expect(problemsOf(() => resolveParams('volume_long_candle', given))[0].field).toBe(
      'params.__proto__',
    );
  });
});
