import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Headers, HttpStatus, Param, Res, StreamableFile } from '@nestjs/common';
import {
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '@app/common';
import { CHART_FILE_NAME } from '@app/backtest';
import { ResultStore } from '@app/storage';
import { RunResults } from '../backtests/run-results.service';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { RunIdPipe } from '../http/run-id.pipe';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { ChartDocumentDto } from './chart-document.dto';

@ApiTags('backtests')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/backtests')
export class ChartController {
  constructor(
    private readonly results: RunResults,
    private readonly store: ResultStore,
  ) {}

  @Get(':id/chart.json')
  @ApiOperation({
    summary: 'A run’s chart data (what its report draws)',
    description:
      'chart.json of the run folder as it is on disk (SPEC §14): per symbol the overview ' +
      'candles (at most 2,000 bars), every entry and exit (or counts per bar past 10,000 ' +
      'markers), the equity and drawdown. The ETag is its md5 from the manifest; with a ' +
      'matching If-None-Match the answer is 304.',
  })
  @ApiParam({ name: 'id', format: 'uuid', description: 'The run (task) id' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'An ETag seen before' })
  @ApiOkResponse({
    type: ChartDocumentDto,
    headers: {
      ETag: { description: 'The md5 of chart.json (hex), quoted', schema: { type: 'string' } },
    },
  })
  @ApiResponse({ status: HttpStatus.NOT_MODIFIED, description: 'The ETag given is current' })
  @ApiErrors([HttpStatus.NOT_FOUND], {
    [HttpStatus.NOT_FOUND]:
      'No such run, not finished yet, failed / cancelled, or written before chart data existed',
  })
  async chart(
    @Param('id', RunIdPipe) id: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile | undefined> {
    const { manifest } = await this.results.completed(id);
    const file = manifest.result_files.find((entry) => entry.name === CHART_FILE_NAME);
    if (!file) {
      throw new NotFoundError(
        `Run ${id} has no ${CHART_FILE_NAME}: it was written before runs kept their chart data`,
      );
    }
    const etag = `"${file.checksum}"`;
    // Revalidate every time: a PATCH of the run may rewrite its files.
    void reply.header('ETag', etag).header('Cache-Control', 'no-cache');
    if (ifNoneMatch?.split(/\s*,\s*/).includes(etag)) {
      void reply.status(HttpStatus.NOT_MODIFIED);
      return undefined;
    }
    return new StreamableFile(createReadStream(join(this.store.resultsDir, file.path)), {
      type: 'application/json; charset=utf-8',
      length: file.size_bytes,
    });
  }
}
