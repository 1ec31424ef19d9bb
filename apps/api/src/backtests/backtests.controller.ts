import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRADES_CSV_HEADER } from '@app/backtest';
import { ApiThreads } from '../threads/api-threads.service';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  Res,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import { PresetExpansion } from './preset-expansion.interceptor';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiHeader,
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
import { BacktestTasks, SyncRunOutcome } from './backtest-tasks.service';
import { MetricsService } from '@app/platform';
import { RESULT_READ_FLAGS } from '@app/storage';
import { ErrorBody, errorBody } from '../http/error-response';
import { BacktestRequestDto, EXAMPLE_BACKTEST_REQUEST } from './backtest-request.dto';
import { HistoryPageDto, HistoryQueryDto } from './history.dto';
import { ResultDocumentDto } from './result-document.dto';
import { CompletedRun, RunResults } from './run-results.service';
import { RunSymbols } from './run-symbols.service';
import { SymbolActivityDto, SymbolActivityResultDto } from './symbol-activity.dto';
import { SymbolPipe } from '../http/symbol.pipe';
import { TaskAcceptedDto } from './task.dto';

const JSON_TYPE = 'application/json; charset=utf-8';

function statusUrl(taskId: string): string {
  return `/api/backtests/status/${taskId}`;
}

/** RFC 7240: `Prefer: respond-async` among the header's preferences. */
function prefersAsync(prefer: string | undefined): boolean {
  return (
    prefer !== undefined &&
    prefer
      .split(',')
      .some((preference) => preference.trim().toLowerCase().split(/\s*;/)[0] === 'respond-async')
  );
}

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

async function resultStream(run: CompletedRun, disposition?: string): Promise<StreamableFile> {
  // Never through a link (ResultStore.resultFile refuses them; this refuses one swapped in).
  // The stream closes the handle when it ends or the client goes.
  const handle = await open(run.file.path, RESULT_READ_FLAGS);
  return new StreamableFile(handle.createReadStream(), {
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
    private readonly runSymbols: RunSymbols,
    private readonly metrics: MetricsService,
    private readonly threads: ApiThreads,
  ) {}

  @Post('run')
  @HttpCode(HttpStatus.OK)
  @UseInterceptors(PresetExpansion)
  @ApiOperation({
    summary: 'Run a backtest and wait for its result',
    description:
      'Queues the backtest for a worker and waits up to SYNC_TIMEOUT_S (default 60 s) for it (SPEC §10.9): ' +
      'in time, 200 with the result document; a run that failed answers as failures do (422, 404, 500, 504 for JOB_TIMEOUT_S) with `status: "failed"`; ' +
      'still going past SYNC_TIMEOUT_S, 504 with `status: "running"`, the task id and `status_url` (also in Location): the task goes on. ' +
      'With `Prefer: respond-async` (RFC 7240) it answers 202 with the task at once and `Preference-Applied: respond-async`. ' +
      'While the API shuts down, a waiting request answers 503 with the task id (the task stays queued for a worker).',
  })
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description: '`respond-async`: answer 202 with the task at once instead of waiting',
    schema: { type: 'string', example: 'respond-async' },
  })
  @ApiBody(REQUEST_BODY)
  @ApiOkResponse({ type: ResultDocumentDto, description: 'The result document (SPEC §4)' })
  @ApiAcceptedResponse({
    type: TaskAcceptedDto,
    description: 'Prefer: respond-async was asked: queued, follow it at Location',
  })
  @ApiErrors(
    [
      HttpStatus.BAD_REQUEST,
      HttpStatus.NOT_FOUND,
      HttpStatus.CONFLICT,
      HttpStatus.PAYLOAD_TOO_LARGE,
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      HttpStatus.UNPROCESSABLE_ENTITY,
      HttpStatus.TOO_MANY_REQUESTS,
      HttpStatus.SERVICE_UNAVAILABLE,
      HttpStatus.GATEWAY_TIMEOUT,
    ],
    {
      [HttpStatus.NOT_FOUND]: 'No candles for any of the symbols in the date range',
      [HttpStatus.CONFLICT]: 'The task was cancelled while the request waited',
      [HttpStatus.UNPROCESSABLE_ENTITY]:
        'Invalid request (every failing field listed), or a data file that cannot be read',
      [HttpStatus.SERVICE_UNAVAILABLE]:
        'Redis is unavailable, or the API shut down while the request waited (the body names the task)',
      [HttpStatus.GATEWAY_TIMEOUT]:
        'Still running after SYNC_TIMEOUT_S (`status: "running"`, `status_url`), or the job ran longer than JOB_TIMEOUT_S (`status: "failed"`)',
    },
  )
  async run(
    @Body() body: BacktestRequestDto,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile | TaskAcceptedDto | ErrorBody> {
    const request = body.toBacktestRequest();
    if (prefersAsync(prefer)) {
      const accepted = await this.backtests.submit(request);
      this.metrics.syncRuns.inc({ outcome: 'respond_async' });
      void reply
        .status(HttpStatus.ACCEPTED)
        .header('Preference-Applied', 'respond-async')
        .header('Location', statusUrl(accepted.task_id));
      return accepted;
    }
    let outcome: SyncRunOutcome;
    try {
      outcome = await this.backtests.runAndWait(request);
    } catch (error) {
      this.metrics.syncRuns.inc({ outcome: 'failed' });
      throw error;
    }
    if (outcome.kind === 'completed') {
      this.metrics.syncRuns.inc({ outcome: 'completed' });
      // Streamed from result.json (issue 10, item 4: a 395 MB result was one string here).
      const run = await this.results.completed(outcome.taskId);
      resultHeaders(reply, run);
      return resultStream(run);
    }
    const taskId = outcome.accepted.task_id;
    const shutdown = outcome.reason === 'shutdown';
    this.metrics.syncRuns.inc({ outcome: shutdown ? 'shutting_down' : 'still_running' });
    const status = shutdown ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.GATEWAY_TIMEOUT;
    void reply.status(status).header('Location', statusUrl(taskId));
    return {
      ...errorBody(
        status,
        shutdown
          ? `The API is shutting down; task ${taskId} is ${outcome.accepted.status} and a worker will run it: follow it at ${statusUrl(taskId)}`
          : `Task ${taskId} is still ${outcome.accepted.status} after SYNC_TIMEOUT_S; it goes on: follow it at ${statusUrl(taskId)}, then read the result at /api/backtests/${taskId}`,
      ),
      task_id: taskId,
      // SPEC §10.9: the run goes on (queued or running), as against a job that timed out.
      status: 'running',
      status_url: statusUrl(taskId),
    };
  }

  @Post('run-async')
  @HttpCode(HttpStatus.ACCEPTED)
  @UseInterceptors(PresetExpansion)
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
    HttpStatus.TOO_MANY_REQUESTS,
    HttpStatus.SERVICE_UNAVAILABLE,
  ])
  async runAsync(
    @Body() body: BacktestRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskAcceptedDto> {
    const accepted = await this.backtests.submit(body.toBacktestRequest());
    void reply.header('Location', statusUrl(accepted.task_id));
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

  @Get(':id/trades.csv')
  @ApiOperation({
    summary: 'A run’s trades as CSV',
    description: `SPEC §12: header \`${TRADES_CSV_HEADER}\`, one row per trade, times ISO-8601 UTC with ms and Z, numbers in their shortest round-trip form.`,
  })
  @ApiParam(RUN_ID_PARAM)
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description: 'text/csv',
    content: { 'text/csv': { schema: { type: 'string', example: `${TRADES_CSV_HEADER}\n` } } },
  })
  @ApiErrors([HttpStatus.NOT_FOUND], {
    [HttpStatus.NOT_FOUND]: 'No such run, not finished yet, or it failed / was cancelled',
  })
  async trades(
    @Param('id', RunIdPipe) id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const run = await this.results.completed(id);
    // Made on an API thread (the result is parsed whole), into a temp file streamed from here.
    const dir = await mkdtemp(join(tmpdir(), 'coin-trades-'));
    const csvPath = join(dir, 'trades.csv');
    try {
      const { bytes } = await this.threads.run({
        kind: 'write-trades-csv',
        resultPath: run.file.path,
        csvPath,
      });
      const stream = createReadStream(csvPath);
      // Gone from the disk as soon as it is open; the stream keeps reading it.
      stream.once('open', () => void rm(dir, { recursive: true, force: true }));
      void reply.header('Content-Disposition', `attachment; filename="trades-${id}.csv"`);
      return new StreamableFile(stream, { type: 'text/csv; charset=utf-8', length: bytes });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  @Patch(':id/symbols/:symbol')
  @ApiOperation({
    summary: 'Switch a symbol of a run in or out of its portfolio',
    description:
      'Sets the symbol’s `is_active` in the stored result and recomputes the run’s `portfolio` over the active symbols (SPEC §10.6, §12); result.json is rewritten atomically, its manifest (size, md5, summary) and catalogue row follow. Concurrent changes of one run, on any replica, are applied one after the other.',
  })
  @ApiParam(RUN_ID_PARAM)
  @ApiParam({ name: 'symbol', example: 'ETH_BTC', description: 'A symbol of the run' })
  @ApiOkResponse({ type: SymbolActivityResultDto })
  @ApiErrors(
    [HttpStatus.NOT_FOUND, HttpStatus.UNPROCESSABLE_ENTITY, HttpStatus.SERVICE_UNAVAILABLE],
    {
      [HttpStatus.NOT_FOUND]: 'No completed run with that id, or no such symbol in it',
      [HttpStatus.UNPROCESSABLE_ENTITY]: 'The body is not {"is_active": true|false}',
    },
  )
  setSymbolActive(
    @Param('id', RunIdPipe) id: string,
    @Param('symbol', SymbolPipe) symbol: string,
    @Body() body: SymbolActivityDto,
  ): Promise<SymbolActivityResultDto> {
    return this.runSymbols.setActive(id, symbol, body.is_active);
  }
}
