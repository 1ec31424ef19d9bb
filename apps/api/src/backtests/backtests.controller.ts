import { createReadStream } from 'node:fs';
import {
  Body,
  Controller,
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
import { BacktestTasks } from './backtest-tasks.service';
import { BacktestRequestDto, EXAMPLE_BACKTEST_REQUEST } from './backtest-request.dto';
import { HistoryPageDto, HistoryQueryDto } from './history.dto';
import { ResultDocumentDto } from './result-document.dto';
import { CompletedRun, RunResults } from './run-results.service';
import { TaskAcceptedDto } from './task.dto';

const JSON_TYPE = 'application/json; charset=utf-8';

const RUN_ID_PARAM = {
  name: 'id',
  format: 'uuid',
  description: 'The run (task) id',
  example: '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
};

const REQUEST_BODY = {
  type: BacktestRequestDto,
  examples: {
    sample: {
      summary: 'Two symbols of the bundled sample data',
      value: EXAMPLE_BACKTEST_REQUEST,
    },
  },
};

/** Headers every copy of a stored result carries: its md5 from the manifest as the ETag. */
function resultHeaders(reply: FastifyReply, run: CompletedRun): void {
  const checksum = run.manifest.result_files[0]?.checksum;
  if (checksum) {
    void reply.header('ETag', `"${checksum}"`);
    void reply.header('Content-MD5', Buffer.from(checksum, 'hex').toString('base64'));
  }
}

function resultStream(run: CompletedRun, disposition?: string): StreamableFile {
  return new StreamableFile(createReadStream(run.file.path), {
    type: JSON_TYPE,
    length: run.file.size_bytes,
    ...(disposition !== undefined && { disposition }),
  });
}

@ApiTags('backtests')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/backtests')
export class BacktestsController {
  constructor(
    private readonly backtests: BacktestTasks,
    private readonly results: RunResults,
  ) {}

  @Post('run')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Run a backtest and wait for its result',
    description:
      'Queues the backtest for a worker and waits up to SYNC_TIMEOUT_S (default 60 s) for it. ' +
      'In time: 200 with the result document. Otherwise: 202 with the task id to poll ' +
      '(GET /api/backtests/status/{task_id}) or stream (…/events).',
  })
  @ApiBody(REQUEST_BODY)
  @ApiOkResponse({ type: ResultDocumentDto, description: 'The result document (SPEC §4)' })
  @ApiAcceptedResponse({
    type: TaskAcceptedDto,
    description: 'Still running after SYNC_TIMEOUT_S: poll the task (Location header)',
  })
  @ApiErrors(
    [
      HttpStatus.BAD_REQUEST,
      HttpStatus.NOT_FOUND,
      HttpStatus.CONFLICT,
      HttpStatus.PAYLOAD_TOO_LARGE,
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      HttpStatus.UNPROCESSABLE_ENTITY,
      HttpStatus.SERVICE_UNAVAILABLE,
      HttpStatus.GATEWAY_TIMEOUT,
    ],
    {
      [HttpStatus.NOT_FOUND]: 'No candles for any of the symbols in the date range',
      [HttpStatus.CONFLICT]: 'The task was cancelled while the request waited',
      [HttpStatus.UNPROCESSABLE_ENTITY]:
        'Invalid request (every failing field listed), or a data file that cannot be read',
    },
  )
  async run(
    @Body() body: BacktestRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string | TaskAcceptedDto> {
    const outcome = await this.backtests.runAndWait(body.toBacktestRequest());
    if (outcome.kind === 'completed') {
      void reply.type(JSON_TYPE);
      return outcome.resultJson;
    }
    void reply
      .status(HttpStatus.ACCEPTED)
      .header('Location', `/api/backtests/status/${outcome.accepted.task_id}`);
    return outcome.accepted;
  }

  @Post('run-async')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Queue a backtest',
    description:
      'Answers at once with the task id; follow it at GET /api/backtests/status/{task_id} ' +
      '(or its /events stream), then read the result at GET /api/backtests/{task_id}.',
  })
  @ApiBody(REQUEST_BODY)
  @ApiAcceptedResponse({ type: TaskAcceptedDto, description: 'Queued (Location: the status URL)' })
  @ApiErrors([
    HttpStatus.BAD_REQUEST,
    HttpStatus.PAYLOAD_TOO_LARGE,
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    HttpStatus.UNPROCESSABLE_ENTITY,
    HttpStatus.SERVICE_UNAVAILABLE,
  ])
  async runAsync(
    @Body() body: BacktestRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskAcceptedDto> {
    const accepted = await this.backtests.submit(body.toBacktestRequest());
    void reply.header('Location', `/api/backtests/status/${accepted.task_id}`);
    return accepted;
  }

  @Get('latest')
  @ApiOperation({
    summary: 'The newest completed run',
    description:
      'The result document of the run that completed last (failed and cancelled runs have none).',
  })
  @ApiOkResponse({ type: ResultDocumentDto })
  @ApiErrors([HttpStatus.NOT_FOUND], { [HttpStatus.NOT_FOUND]: 'No run has completed yet' })
  async latest(@Res({ passthrough: true }) reply: FastifyReply): Promise<StreamableFile> {
    const run = await this.results.latest();
    resultHeaders(reply, run);
    return resultStream(run);
  }

  @Get('history')
  @ApiOperation({
    summary: 'Finished runs, newest first, filtered and paginated',
    description:
      'Dates select runs whose date range overlaps [start_date, end_date]; returns are the ' +
      'mean trade return of the run in percent (runs without trades never match a return ' +
      'filter). A reversed range (min above max, start after end) is a 422.',
  })
  @ApiOkResponse({ type: HistoryPageDto })
  @ApiErrors([HttpStatus.UNPROCESSABLE_ENTITY])
  history(@Query() query: HistoryQueryDto): Promise<HistoryPageDto> {
    return this.results.history(query);
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One run’s result document',
    description: 'A run that failed or was cancelled has no result: 404 with its error.',
  })
  @ApiParam(RUN_ID_PARAM)
  @ApiOkResponse({ type: ResultDocumentDto })
  @ApiErrors([HttpStatus.NOT_FOUND], {
    [HttpStatus.NOT_FOUND]: 'No such run, not finished yet, or it failed / was cancelled',
  })
  async get(
    @Param('id', RunIdPipe) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const run = await this.results.completed(id);
    resultHeaders(reply, run);
    return resultStream(run);
  }

  @Get(':id/download')
  @ApiOperation({
    summary: 'Download a run’s result.json',
    description:
      'The stored file as an attachment (backtest-{id}.json); ETag and Content-MD5 carry the md5 recorded in its manifest.',
  })
  @ApiParam(RUN_ID_PARAM)
  @ApiProduces('application/json')
  @ApiOkResponse({
    type: ResultDocumentDto,
    description: 'result.json',
    headers: {
      'Content-Disposition': {
        description: 'attachment; filename="backtest-{id}.json"',
        schema: { type: 'string' },
      },
      ETag: { description: 'The md5 of the file (hex), quoted', schema: { type: 'string' } },
      'Content-MD5': { description: 'The md5 of the file (base64)', schema: { type: 'string' } },
    },
  })
  @ApiErrors([HttpStatus.NOT_FOUND], {
    [HttpStatus.NOT_FOUND]: 'No such run, not finished yet, or it failed / was cancelled',
  })
  async download(
    @Param('id', RunIdPipe) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const run = await this.results.completed(id);
    resultHeaders(reply, run);
    return resultStream(run, `attachment; filename="backtest-${id}.json"`);
  }
}
