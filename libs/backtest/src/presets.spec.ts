import { InvalidInputError } from '@app/common';
import { applyPreset, parsePresetContent, parsePresetName } from './presets';

const fields = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidInputError) return error.problems.map((p) => p.field);
    throw error;
  }
  return [];
};

describe('presets', () => {
  it('takes names of any script, NFC-normalised, case-sensitive', () => {
    expect(parsePresetName('Breakout 5m v2')).toBe('Breakout 5m v2');
    expect(parsePresetName('돌파 전략_1.2')).toBe('돌파 전략_1.2');
    // "é" written as e + combining accent becomes the single code point.
    expect(parsePresetName('cafe\u0301')).toBe('caf\u00e9');
    expect(parsePresetName('A')).not.toBe(parsePresetName('a'));
    expect(parsePresetName('x'.repeat(100))).toHaveLength(100);
  });

  it('refuses names out of the rule, with the rule', () => {
    for (const bad of [
      '',
      ' lead',
      'trail ',
      '.hidden',
      'end.',
      'a/b',
      'x'.repeat(101),
      'tab\t',
      7,
    ]) {
      expect(fields(() => parsePresetName(bad))).toEqual(['name']);
    }
  });

  it('validates the content like a run: strategy, params (resolved), description', () => {
    expect(
      parsePresetContent({ strategy: 'volume_long_candle', params: { vol_multiplier: '2' } }),
    ).toEqual({
      strategy: 'volume_long_candle',
      params: { vol_ma_window: 20, vol_multiplier: 2, body_pct: 0.02, hold_period_bars: 1 },
      description: null,
    });
    expect(
      fields(() =>
        parsePresetContent({ strategy: 'volume_long_candle', params: { nope: 1 }, description: 3 }),
      ).sort(),
    ).toEqual(['description', 'params.nope']);
  });

  it('fills a run request from the preset, its own params winning', () => {
    const preset = {
      name: 'p',
      strategy: 'volume_long_candle',
      params: { vol_multiplier: 2, body_pct: 0.01 },
    };
    expect(applyPreset({ params: { body_pct: 0.03 }, symbols: ['A_B'] }, preset)).toEqual({
      strategy: 'volume_long_candle',
      params: { vol_multiplier: 2, body_pct: 0.03 },
      symbols: ['A_B'],
    });
    expect(fields(() => applyPreset({ strategy: 'volume_zone_breakout' }, preset))).toEqual([
      'strategy',
    ]);
    expect(applyPreset({ strategy: 'volume_long_candle' }, preset).strategy).toBe(
      'volume_long_candle',
    );
  });
});
