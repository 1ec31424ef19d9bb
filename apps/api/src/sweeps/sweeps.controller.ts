import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { RunIdPipe } from '../http/run-id.pipe';
import { API_KEY_SCHEME } from '../openapi/openapi';
import {
  SweepAcceptedDto,
  SweepListDto,
  SweepListQueryDto,
  SweepRequestDto,
  SweepStateDto,
} from './sweep.dto';
import { SweepEventStreams } from './sweep-event-streams.service';
import { Sweeps } from './sweeps.service';

const SWEEP_ID_PARAM = {
  name: 'sweep_id',
  format: 'uuid',
  description: 'The sweep id returned on submission',
  example: '5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
};

@ApiTags('sweeps')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/sweeps')
export class SweepsController {
  constructor(
    private readonly sweeps: Sweeps,
    private readonly streams: SweepEventStreams,
  ) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Queue a parameter sweep',
    description:
      'One strategy over a grid of parameters, split into chunks that run on any worker (SPEC §13). ' +
      'Every grid value is range-checked by the strategy’s table; more than MAX_SWEEP_COMBINATIONS ' +
      'combinations is a 422 that gives the count. Follow it at GET /api/sweeps/{sweep_id} or its /events.',
  })
  @ApiBody({ type: SweepRequestDto })
  @ApiAcceptedResponse({ type: SweepAcceptedDto, description: 'Queued (Location: the sweep URL)' })
  @ApiErrors([
    HttpStatus.BAD_REQUEST,
    HttpStatus.PAYLOAD_TOO_LARGE,
    HttpStatus.UNPROCESSABLE_ENTITY,
    HttpStatus.TOO_MANY_REQUESTS,
    HttpStatus.SERVICE_UNAVAILABLE,
  ])
  async submit(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SweepAcceptedDto> {
    const accepted = await this.sweeps.submit(body);
    void reply.header('Location', `/api/sweeps/${accepted.sweep_id}`);
    return accepted;
  }

  @Get()
  @ApiOperation({ summary: 'Sweeps, newest first (the catalogue)' })
  @ApiOkResponse({ type: SweepListDto })
  @ApiErrors([HttpStatus.UNPROCESSABLE_ENTITY])
  async list(@Query() query: SweepListQueryDto): Promise<SweepListDto> {
    const page = await this.sweeps.list(query);
    // The catalogue's bookkeeping (manifest_fingerprint) is not part of the answer.
    const items = page.items.map(({ manifest_fingerprint, ...item }) => {
      void manifest_fingerprint;
      return { ...item, progress: item.combinations > 0 ? item.done / item.combinations : 0 };
    });
    return { items, total: page.total, limit: query.limit, offset: query.offset };
  }

  @Get(':sweep_id')
  @ApiOperation({
    summary: 'A sweep’s state, and once completed its best, top and validation',
    description:
      'From Redis while the state lives (TASK_TTL_S after its last change), then from sweeps/{id}/sweep.json or the catalogue.',
  })
  @ApiParam(SWEEP_ID_PARAM)
  @ApiOkResponse({ type: SweepStateDto })
  @ApiErrors([HttpStatus.NOT_FOUND, HttpStatus.SERVICE_UNAVAILABLE], {
    [HttpStatus.NOT_FOUND]: 'No such sweep',
  })
  get(@Param('sweep_id', RunIdPipe) sweepId: string): Promise<SweepStateDto> {
    return this.sweeps.get(sweepId);
  }

  @Get(':sweep_id/events')
  @ApiOperation({
    summary: 'A sweep’s state as a Server-Sent Events stream',
    description:
      'Each event’s data is the JSON of GET /api/sweeps/{sweep_id}: the current state first, then each change (progress only rising), the final state last, then the stream ends.',
  })
  @ApiParam(SWEEP_ID_PARAM)
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'text/event-stream; each `data:` line is a SweepState document',
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          example: 'id: 1\ndata: {"sweep_id":"…","status":"running","progress":0.4}\n\n',
        },
      },
    },
  })
  @ApiErrors([HttpStatus.NOT_FOUND], { [HttpStatus.NOT_FOUND]: 'No such sweep' })
  async events(
    @Param('sweep_id', RunIdPipe) sweepId: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.streams.stream(sweepId, reply);
  }

  @Delete(':sweep_id')
  @ApiOperation({
    summary: 'Cancel a queued or running sweep',
    description:
      'Every part stops: chunks not started are removed, running chunks stop within a moment; no result files remain. 409 once the sweep has ended.',
  })
  @ApiParam(SWEEP_ID_PARAM)
  @ApiOkResponse({ type: SweepStateDto })
  @ApiErrors([HttpStatus.NOT_FOUND, HttpStatus.CONFLICT], {
    [HttpStatus.NOT_FOUND]: 'No such sweep',
    [HttpStatus.CONFLICT]: 'The sweep has already ended',
  })
  cancel(@Param('sweep_id', RunIdPipe) sweepId: string): Promise<SweepStateDto> {
    return this.sweeps.cancel(sweepId);
  }

  @Get(':sweep_id/results.parquet')
  @ApiOperation({
    summary: 'Every run of a completed sweep as Parquet',
    description:
      'One row per combination, window and symbol: index, the parameters by name, window, symbol, then the §3/§12 figures by their names. Readable by DuckDB and hyparquet.',
  })
  @ApiParam(SWEEP_ID_PARAM)
  // JSON too: the errors (404) are JSON, and produces applies to every response of the route.
  @ApiProduces('application/vnd.apache.parquet', 'application/json')
  @ApiOkResponse({
    description: 'The Parquet file',
    content: { 'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiErrors([HttpStatus.NOT_FOUND], {
    [HttpStatus.NOT_FOUND]: 'No such sweep, or it has not completed',
  })
  async results(
    @Param('sweep_id', RunIdPipe) sweepId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const handle = await this.sweeps.openResults(sweepId);
    void reply.header('content-disposition', `attachment; filename="sweep-${sweepId}.parquet"`);
    // From the handle opened once: a cleanup deleting the file meanwhile cannot cut it short.
    return new StreamableFile(handle.createReadStream(), {
      type: 'application/vnd.apache.parquet',
    });
  }
}
