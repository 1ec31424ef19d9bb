import { closestMatch, editDistance } from './suggest';

describe('editDistance', () => {
  it.each([
    ['strategy', 'strategy', 0],
    ['stratgy', 'strategy', 1], // a letter dropped
    ['stratgey', 'strategy', 1], // two letters swapped
    ['symbol', 'symbols', 1],
    ['timefrane', 'timeframe', 1],
    ['', 'end', 3],
    ['colour', 'json', 5],
  ])('%s -> %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closestMatch', () => {
  const flags = ['strategy', 'symbols', 'timeframe', 'start', 'end', 'params', 'data-root', 'json'];

  it('finds the flag a typo meant, whatever its case', () => {
    expect(closestMatch('stratgy', flags)).toBe('strategy');
    expect(closestMatch('symbol', flags)).toBe('symbols');
    expect(closestMatch('Timeframe', flags)).toBe('timeframe');
    expect(closestMatch('strat', flags)).toBe('strategy'); // a start of a flag beats a swap
    expect(closestMatch('data', flags)).toBe('data-root');
  });

  it('suggests nothing when no flag is close', () => {
    expect(closestMatch('colour', flags)).toBeUndefined();
    expect(closestMatch('x', flags)).toBeUndefined();
    expect(closestMatch('results-dir', flags)).toBeUndefined();
  });
});
