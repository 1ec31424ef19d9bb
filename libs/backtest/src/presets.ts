import { InvalidInputError, ProblemCollector } from '@app/common';
import { resolveParams, ResolvedParams } from '@app/strategies';

/** Most characters (code points) a preset's name may have (SPEC §10.7). */
export const PRESET_NAME_MAX = 100;
/** Most characters of a preset's description. */
export const PRESET_DESCRIPTION_MAX = 1000;

/**
 * Letters, marks and digits of any script, space, `_ - .`; not starting or ending with a
 * space or a dot (SPEC §10.7). Names are NFC-normalised first and compared case-sensitively.
 */
const PRESET_NAME = /^(?![ .])[\p{L}\p{M}\p{N} _.-]+(?<![ .])$/u;

export const PRESET_NAME_RULE = `1 to ${PRESET_NAME_MAX} letters, marks or digits of any script, spaces or _ - . (not starting or ending with a space or a dot)`;

/** A saved strategy with its parameters, as the presets API shows it (SPEC §10.7). */
export interface Preset {
  name: string;
  strategy: string;
  params: ResolvedParams;
  description: string | null;
  created_at: string;
  updated_at: string;
}

/** A preset's name, NFC-normalised, or an InvalidInputError naming `field`. */
export function parsePresetName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string') throw InvalidInputError.of(field, value, PRESET_NAME_RULE);
  const name = value.normalize('NFC');
  const length = [...name].length;
  if (length < 1 || length > PRESET_NAME_MAX || !PRESET_NAME.test(name)) {
    throw InvalidInputError.of(field, value, PRESET_NAME_RULE);
  }
  return name;
}

/** What a preset holds besides its name and times. */
export interface PresetContent {
  strategy: string;
  params: ResolvedParams;
  description: string | null;
}

/**
 * The editable part of a preset, validated like a run request's strategy and parameters
 * (the parameters resolved: defaults filled in, form strings read), every problem at once.
 */
export function parsePresetContent(body: Record<string, unknown>): PresetContent {
  const problems = new ProblemCollector();
  const resolved = problems.check(() => resolveParams(body.strategy, body.params));
  const description = problems.check(() => parsePresetDescription(body.description));
  problems.throwIfAny();
  return {
    strategy: resolved!.strategy.name,
    params: resolved!.params,
    description: description ?? null,
  };
}

/** A preset's description: a text of at most PRESET_DESCRIPTION_MAX characters, or null. */
export function parsePresetDescription(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || [...value].length > PRESET_DESCRIPTION_MAX) {
    throw InvalidInputError.of(
      'description',
      value,
      `a text of at most ${PRESET_DESCRIPTION_MAX} characters, or null`,
    );
  }
  return value;
}

/**
 * A run request naming a preset (SPEC §10.7): its strategy, and its parameters under the
 * request's own (which override them). A request naming both a preset and another strategy
 * is a 422. What comes back is a plain request body, validated afterwards like any other.
 */
export function applyPreset(
  body: Record<string, unknown>,
  preset: Pick<Preset, 'name' | 'strategy' | 'params'>,
): Record<string, unknown> {
  if (body.strategy !== undefined && body.strategy !== preset.strategy) {
    throw InvalidInputError.of(
      'strategy',
      body.strategy,
      `the preset's strategy (${preset.strategy}) or nothing: preset "${preset.name}" is given`,
    );
  }
  const own =
    typeof body.params === 'object' && body.params !== null && !Array.isArray(body.params)
      ? (body.params as Record<string, unknown>)
      : {};
  return { ...body, strategy: preset.strategy, params: { ...preset.params, ...own } };
}
