import { InvalidInputError } from '@app/common';
import { DEFAULT_EXECUTION, EXECUTION_PARAMS, resolveExecution } from './execution';
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

describe('the execution table', () => {
  it('declares SPEC §12 fee, slippage and positions with their defaults and ranges', () => {
    expect(
      EXECUTION_PARAMS.map((spec) => [spec.name, spec.default, describeAllowedValues(spec)]),
    ).toEqual([
      ['fee', 0, 'a number from 0.0 to 0.05'],
      ['slippage', 0, 'a number from 0.0 to 0.05'],
      ['positions', 'overlap', 'one of overlap, single'],
    ]);
    for (const spec of EXECUTION_PARAMS) {
      expect(isAllowedValue(spec, spec.default)).toBe(true);
      expect(spec.description.length).toBeGreaterThan(20);
    }
  });

  it('takes its defaults from the table', () => {
    expect(DEFAULT_EXECUTION).toEqual({ fee: 0, slippage: 0, positions: 'overlap' });
    expect(Object.isFrozen(DEFAULT_EXECUTION)).toBe(true);
  });
});

describe('resolveExecution', () => {
  it('treats a missing execution (undefined or null) as every default', () => {
    expect(resolveExecution(undefined)).toEqual(DEFAULT_EXECUTION);
    expect(resolveExecution(null)).toEqual(DEFAULT_EXECUTION);
    expect(resolveExecution({})).toEqual(DEFAULT_EXECUTION);
  });

  it('fills in what is not given, in table order', () => {
    expect(Object.entries(resolveExecution({ positions: 'single', fee: 0.001 }))).toEqual([
      ['fee', 0.001],
      ['slippage', 0],
      ['positions', 'single'],
    ]);
  });

  it('accepts the bounds and form strings (SPEC §10.3)', () => {
    expect(resolveExecution({ fee: 0.05, slippage: '0.0005', positions: 'single' })).toEqual({
      fee: 0.05,
      slippage: 0.0005,
      positions: 'single',
    });
    expect(resolveExecution({ fee: '0', slippage: 0 }).fee).toBe(0);
  });

  it('reports every problem at once, each naming the field, the value and what is allowed', () => {
    expect(
      problemsOf(() =>
        resolveExecution(
          { fee: 0.06, slippage: '1e-3', positions: 'many', leverage: 2 },
          'body.execution',
        ),
      ),
    ).toEqual([
      { field: 'body.execution.fee', value: 0.06, allowed: 'a number from 0.0 to 0.05' },
      { field: 'body.execution.slippage', value: '1e-3', allowed: 'a number from 0.0 to 0.05' },
      { field: 'body.execution.positions', value: 'many', allowed: 'one of overlap, single' },
      {
        field: 'body.execution.leverage',
        value: 2,
        allowed: 'no such parameter; known parameters: fee, slippage, positions',
      },
    ]);
  });

  it('refuses negative costs, null fields and positions that are not one of the words', () => {
    expect(
      problemsOf(() => resolveExecution({ fee: -0.001, slippage: null, positions: 'Single' })).map(
        (problem) => problem.field,
      ),
    ).toEqual(['execution.fee', 'execution.slippage', 'execution.positions']);
    expect(problemsOf(() => resolveExecution({ positions: true }))[0].field).toBe(
      'execution.positions',
    );
  });

  it('refuses an execution that is not an object', () => {
    expect(problemsOf(() => resolveExecution([0.001]))).toEqual([
      { field: 'execution', value: [0.001], allowed: 'an object with fee, slippage, positions' },
    ]);
    expect(problemsOf(() => resolveExecution('single'))[0].field).toBe('execution');
  });
});
