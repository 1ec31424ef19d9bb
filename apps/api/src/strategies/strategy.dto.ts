import { ApiProperty } from '@nestjs/swagger';
import {
  describeAllowedValues,
  EXECUTION_PARAMS,
  ParamSpec,
  ParamType,
  ParamValue,
  StrategyDefinition,
} from '@app/strategies';

const PARAM_TYPES: readonly ParamType[] = ['int', 'float', 'bool', 'choice'];

export class StrategyParameterDto {
  @ApiProperty({ example: 'vol_ma_window' })
  name!: string;

  @ApiProperty({ enum: PARAM_TYPES, example: 'int' })
  type!: ParamType;

  @ApiProperty({
    oneOf: [{ type: 'number' }, { type: 'boolean' }, { type: 'string' }],
    example: 20,
  })
  default!: ParamValue;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 1,
    description: 'Inclusive; null when unbounded',
  })
  min!: number | null;

  @ApiProperty({
    type: 'number',
    nullable: true,
    example: 500,
    description: 'Inclusive; null when unbounded',
  })
  max!: number | null;

  @ApiProperty({
    type: [String],
    nullable: true,
    example: null,
    description: 'The names a choice parameter takes (e.g. overlap, single); null otherwise',
  })
  values!: string[] | null;

  @ApiProperty({ example: 'an integer from 1 to 500', description: 'The accepted values in words' })
  allowed!: string;

  @ApiProperty({
    example: 'Number of bars in the volume moving average, the current bar included.',
  })
  description!: string;

  static of(spec: ParamSpec): StrategyParameterDto {
    return {
      name: spec.name,
      type: spec.type,
      default: spec.default,
      min: spec.min ?? null,
      max: spec.max ?? null,
      values: spec.values ? [...spec.values] : null,
      allowed: describeAllowedValues(spec),
      description: spec.description,
    };
  }
}

export class StrategyDto {
  @ApiProperty({ example: 'volume_long_candle' })
  name!: string;

  @ApiProperty({ example: 'Buys at the close of a long bullish candle traded on a volume surge.' })
  description!: string;

  @ApiProperty({ type: [StrategyParameterDto] })
  parameters!: StrategyParameterDto[];

  static of(strategy: StrategyDefinition): StrategyDto {
    return {
      name: strategy.name,
      description: strategy.description,
      parameters: strategy.params.map((spec) => StrategyParameterDto.of(spec)),
    };
  }
}

export class StrategyListDto {
  @ApiProperty({ type: [StrategyDto] })
  strategies!: StrategyDto[];

  @ApiProperty({
    type: [StrategyParameterDto],
    description:
      "A request's `execution` (SPEC §12): fee, slippage and positions, the same for every strategy",
  })
  execution!: StrategyParameterDto[];

  static of(strategies: readonly StrategyDefinition[]): StrategyListDto {
    return {
      strategies: strategies.map((strategy) => StrategyDto.of(strategy)),
      execution: EXECUTION_PARAMS.map((spec) => StrategyParameterDto.of(spec)),
    };
  }
}
