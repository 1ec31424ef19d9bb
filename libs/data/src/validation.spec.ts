import { FieldProblem, InvalidInputError } from '@app/common';
import {
  parseSymbol,
  parseTimeframe,
  parseYear,
  SYMBOL_PATTERN,
  TIMEFRAME_MS,
  TIMEFRAMES,
} from './validation';

function problemOf(action: () => unknown): FieldProblem {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    const [problem] = (error as InvalidInputError).problems;
    return problem;
  }
  throw new Error('expected an InvalidInputError');
}

describe('parseSymbol', () => {
  it('accepts BASE_QUOTE and returns the upper-case form', () => {
    expect(parseSymbol('BTC_KRW')).toBe('BTC_KRW');
    expect(parseSymbol('btc_krw')).toBe('BTC_KRW');
    expect(parseSymbol('1INCH_USDT')).toBe('1INCH_USDT');
    expect(parseSymbol(`${'A'.repeat(20)}_${'9'.repeat(20)}`)).toBe(
      `${'A'.repeat(20)}_${'9'.repeat(20)}`,
    );
  });

  it.each([
    '../etc',
    '..',
    '.',
    '/',
    'BTC/KRW',
    'BTC_KRW/..',
    '../BTC_KRW',
    'BTC.KRW',
    'BTC_KRW ',
    ' BTC_KRW',
    'BTC KRW',
    'BTC',
    'BTC_',
    '_KRW',
    'BTC_KRW_X',
    'BTC-KRW',
    `${'A'.repeat(21)}_KRW`,
    'BTC_\u212ARW', // the Kelvin sign, which case-folds to K under the u flag
    '',
  ])('rejects %j before any path is built', (symbol) => {
    const problem = problemOf(() => parseSymbol(symbol));
    expect(problem.field).toBe('symbol');
    expect(problem.value).toBe(symbol);
    expect(problem.allowed).toContain('BASE_QUOTE');
  });

  it('rejects non-strings and names the field it was given', () => {
    expect(problemOf(() => parseSymbol(42, 'symbols[1]'))).toMatchObject({
      field: 'symbols[1]',
      value: 42,
    });
    expect(problemOf(() => parseSymbol(undefined)).field).toBe('symbol');
  });

  it('explains the rule in the message', () => {
    expect(() => parseSymbol('BTC/KRW')).toThrow(/symbol: got "BTC\/KRW"; expected BASE_QUOTE/);
  });

  it('SYMBOL_PATTERN matches what parseSymbol accepts, in any case', () => {
    expect(SYMBOL_PATTERN.test('eth_btc')).toBe(true);
    expect(SYMBOL_PATTERN.test('ETH/BTC')).toBe(false);
    expect(SYMBOL_PATTERN.test('\u212aRW_BTC')).toBe(false); // the Kelvin sign is not a K
    // Published in the OpenAPI document, where a pattern has no flags: it must stand alone.
    expect(SYMBOL_PATTERN.flags).toBe('');
    expect(new RegExp(SYMBOL_PATTERN.source).test('Eth_btc')).toBe(true);
  });
});

describe('parseTimeframe', () => {
  it('accepts every timeframe, in either case', () => {
    for (const timeframe of TIMEFRAMES) {
      expect(parseTimeframe(timeframe)).toBe(timeframe);
      expect(parseTimeframe(timeframe.toLowerCase())).toBe(timeframe);
    }
  });

  it.each(['2M', '1MO', '60', '', '../1M', '1M/', 'M1'])(
    'rejects %j listing the allowed values',
    (timeframe) => {
      const problem = problemOf(() => parseTimeframe(timeframe));
      expect(problem.field).toBe('timeframe');
      expect(problem.allowed).toContain('1M, 3M, 5M, 10M, 15M, 30M, 1H, 4H, 1D, 1W');
    },
  );

  it('rejects non-strings', () => {
    expect(problemOf(() => parseTimeframe(5, 'tf')).field).toBe('tf');
  });
});

describe('TIMEFRAME_MS', () => {
  it('gives M as minutes and W as seven days', () => {
    expect(TIMEFRAME_MS['1M']).toBe(60_000);
    expect(TIMEFRAME_MS['15M']).toBe(15 * 60_000);
    expect(TIMEFRAME_MS['4H']).toBe(4 * 3_600_000);
    expect(TIMEFRAME_MS['1D']).toBe(86_400_000);
    expect(TIMEFRAME_MS['1W']).toBe(7 * 86_400_000);
    expect(Object.keys(TIMEFRAME_MS)).toEqual([...TIMEFRAMES]);
  });
});

describe('parseYear', () => {
  it('accepts four-digit years only', () => {
    expect(parseYear(2024)).toBe(2024);
    expect(problemOf(() => parseYear(2024.5)).field).toBe('year');
    expect(problemOf(() => parseYear(10_000)).field).toBe('year');
    expect(problemOf(() => parseYear('2024')).field).toBe('year');
  });
});
