import { InvalidInputError } from '@app/common';
import { FlagSpec, missingFlags, parseFlags, requireFlags } from './args';

const FLAGS: FlagSpec = {
  strategy: { type: 'string', required: true, expects: 'a strategy name' },
  start: { type: 'string', required: true, expects: 'a KST date YYYY-MM-DD' },
  runs: { type: 'string', default: '7', expects: 'a whole number' },
  json: { type: 'boolean', default: false },
};

function problems(args: string[]): string[] {
  try {
    parseFlags(args, FLAGS, 'backtest');
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    return error.problems.map((p) => `${p.field}=${String(p.value)}: ${p.allowed}`);
  }
  throw new Error('no input error');
}

describe('parseFlags', () => {
  it('reads --flag value, --flag=value and switches, with defaults filled in', () => {
    expect(parseFlags(['--strategy', 'x', '--start=2024-01-01', '--json'], FLAGS, 'b')).toEqual({
      strategy: 'x',
      start: '2024-01-01',
      runs: '7',
      json: true,
    });
  });

  it('suggests the flag an unknown one most likely meant, and takes its value along', () => {
    expect(problems(['--stratgy', 'x', '--start', '2024-01-01'])).toEqual([
      'flag=--stratgy: a flag of "cli backtest": did you mean --strategy?',
      '--strategy=undefined: a strategy name',
    ]);
  });

  it('lists the flags when nothing is close', () => {
    expect(problems(['--colour', 'red', '--strategy', 'x', '--start', 'y'])).toEqual([
      'flag=--colour: a flag of "cli backtest" (--strategy, --start, --runs, --json)',
    ]);
  });

  it('reports every problem at once: a missing value, a value for a switch, stray words', () => {
    expect(problems(['--strategy', '--json=yes', 'oops'])).toEqual([
      '--strategy=undefined: a strategy name (a value starting with "-" is written --strategy=--json=yes)',
      'backtest=oops: only flags; see "cli backtest --help"',
      '--start=undefined: a KST date YYYY-MM-DD',
    ]);
    expect(problems(['--strategy', 'x', '--start', 'y', '--json=yes'])).toEqual([
      '--json=yes: no value: --json is a switch',
    ]);
  });

  it('does not take a name of Object.prototype for a flag', () => {
    expect(problems(['--constructor', '--strategy', 'x', '--start', 'y'])).toEqual([
      'flag=--constructor: a flag of "cli backtest" (--strategy, --start, --runs, --json)',
    ]);
  });
});

describe('missingFlags / requireFlags', () => {
  it('names every required flag that is absent or empty, with what it expects', () => {
    expect(missingFlags({ strategy: '', runs: '7' }, FLAGS)).toEqual([
      { field: '--strategy', value: '', allowed: 'a strategy name' },
      { field: '--start', value: undefined, allowed: 'a KST date YYYY-MM-DD' },
    ]);
    expect(() => requireFlags({ strategy: 'x', start: 'y' }, FLAGS)).not.toThrow();
    expect(() => requireFlags({ strategy: 'x' }, FLAGS)).toThrow(
      '--start: got nothing; expected a KST date YYYY-MM-DD',
    );
  });
});
