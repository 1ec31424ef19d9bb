import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Put,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { InvalidInputError } from '@app/common';
import { PRESET_NAME_RULE } from '@app/backtest';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { PresetNamePipe } from '../http/preset-name.pipe';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { CreatePresetDto, PresetDto, ReplacePresetDto } from './preset.dto';
import { Presets } from './presets.service';

const NAME_PARAM = { name: 'name', example: 'Breakout 5m', description: PRESET_NAME_RULE };

/** SPEC §10.7: saved strategies with their parameters, shared by every replica. */
@ApiTags('strategies')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/strategies/presets')
export class PresetsController {
  constructor(private readonly presets: Presets) {}

  @Get()
  @ApiOperation({ summary: 'Every preset, newest created first' })
  @ApiOkResponse({ type: [PresetDto] })
  list(): Promise<PresetDto[]> {
    return this.presets.list();
  }

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Save a preset',
    description:
      'A run request may then name `preset` instead of `strategy`; its own `params` override the preset’s.',
  })
  @ApiCreatedResponse({ type: PresetDto })
  @ApiErrors([HttpStatus.CONFLICT, HttpStatus.UNPROCESSABLE_ENTITY], {
    [HttpStatus.CONFLICT]: 'A preset with that name exists',
  })
  create(@Body() body: CreatePresetDto): Promise<PresetDto> {
    return this.presets.create(body.name, body.toContent());
  }

  @Get(':name')
  @ApiOperation({ summary: 'One preset' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: PresetDto })
  @ApiErrors([HttpStatus.NOT_FOUND])
  get(@Param('name', PresetNamePipe) name: string): Promise<PresetDto> {
    return this.presets.get(name);
  }

  @Put(':name')
  @ApiOperation({ summary: 'Replace a preset (the whole of it)' })
  @ApiParam(NAME_PARAM)
  @ApiOkResponse({ type: PresetDto })
  @ApiErrors([HttpStatus.NOT_FOUND, HttpStatus.UNPROCESSABLE_ENTITY])
  replace(
    @Param('name', PresetNamePipe) name: string,
    @Body() body: ReplacePresetDto,
  ): Promise<PresetDto> {
    if (body.name !== undefined && body.name !== name) {
      throw InvalidInputError.of(
        'name',
        body.name,
        `the name in the path (${JSON.stringify(name)}) or nothing; rename a preset by creating the new one and deleting the old`,
      );
    }
    return this.presets.replace(name, body.toContent());
  }

  @Delete(':name')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a preset' })
  @ApiParam(NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors([HttpStatus.NOT_FOUND])
  remove(@Param('name', PresetNamePipe) name: string): Promise<void> {
    return this.presets.remove(name);
  }
}
