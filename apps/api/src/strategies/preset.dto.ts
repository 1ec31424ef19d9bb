import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  parsePresetDescription,
  parsePresetName,
  PRESET_DESCRIPTION_MAX,
  PRESET_NAME_MAX,
  PRESET_NAME_RULE,
  PresetContent,
} from '@app/backtest';
import { listStrategies, resolveParams, ResolvedParams } from '@app/strategies';
import { SatisfiesLibraryRule } from '../http/validation';
import { requestParamsSchema } from './strategy-schemas';

const EXAMPLE = {
  name: 'Breakout 5m',
  strategy: 'volume_zone_breakout',
  params: { volume_window: 60, top_percentile: 0.2, breakout_buffer: 0.01 },
  description: 'The zone breakout on five-minute candles',
};

/** The editable fields of a preset, checked as a run's strategy and parameters are. */
class PresetContentDto {
  @ApiProperty({
    enum: listStrategies().map((strategy) => strategy.name),
    example: EXAMPLE.strategy,
  })
  @SatisfiesLibraryRule((value) => resolveParams(value, undefined).strategy.name)
  strategy!: string;

  @ApiPropertyOptional({
    ...requestParamsSchema(),
    example: EXAMPLE.params,
    description: "The strategy's parameters; omitted ones take their defaults (stored filled in)",
  })
  @SatisfiesLibraryRule((value, preset) => resolveParams(preset.strategy, value).params)
  params?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'string',
    nullable: true,
    maxLength: PRESET_DESCRIPTION_MAX,
    example: EXAMPLE.description,
  })
  @SatisfiesLibraryRule((value) => parsePresetDescription(value) ?? undefined)
  description?: string | null;

  toContent(): PresetContent {
    return {
      strategy: this.strategy,
      params: this.params as ResolvedParams,
      description: this.description ?? null,
    };
  }
}

/** POST /api/strategies/presets. */
export class CreatePresetDto extends PresetContentDto {
  @ApiProperty({ example: EXAMPLE.name, maxLength: PRESET_NAME_MAX, description: PRESET_NAME_RULE })
  @SatisfiesLibraryRule((value) => parsePresetName(value))
  name!: string;
}

/** PUT /api/strategies/presets/{name}: the whole preset; a `name` here must be the path's. */
export class ReplacePresetDto extends PresetContentDto {
  @ApiPropertyOptional({
    example: EXAMPLE.name,
    description:
      'If given, the same as the name in the path (a preset is renamed by creating the new one)',
  })
  @SatisfiesLibraryRule((value) => (value === undefined ? undefined : parsePresetName(value)))
  name?: string;
}

export class PresetDto {
  @ApiProperty({ example: EXAMPLE.name })
  name!: string;

  @ApiProperty({ example: EXAMPLE.strategy })
  strategy!: string;

  @ApiProperty({
    ...requestParamsSchema(),
    example: { ...EXAMPLE.params, hold_period_bars: 1, num_bins: 20, include_wicks: true },
  })
  params!: ResolvedParams;

  @ApiProperty({ type: 'string', nullable: true, example: EXAMPLE.description })
  description!: string | null;

  @ApiProperty({ example: '2026-11-30T08:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ example: '2026-11-30T09:30:00.000Z' })
  updated_at!: string;
}
