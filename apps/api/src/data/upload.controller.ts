import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Controller, HttpStatus, Post, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, InvalidInputError, makeDirectory, ProblemCollector } from '@app/common';
import { AppConfig } from '@app/config';
import { candleFileLocation, parseSymbol, parseTimeframe, parseYear } from '@app/data';
import { InjectConfig } from '@app/platform';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { describeError, ErrorBody, errorBody } from '../http/error-response';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { ApiThreads } from '../threads/api-threads.service';
import { UploadResultDto } from './upload.dto';

/** Hidden under DATA_ROOT (no symbol is named so), on the file system of the year files. */
const STAGING_DIR = '.uploads';

/** The text fields of the form, as sent. */
interface UploadFields {
  symbol?: string;
  timeframe?: string;
  year?: string;
  overwrite?: string;
}

const FIELD_NAMES = ['symbol', 'timeframe', 'year', 'overwrite'] as const;

@ApiTags('data')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/data')
export class UploadController {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly threads: ApiThreads,
  ) {}

  @Post('upload')
  @ApiOperation({
    summary: 'Upload a year file of candles',
    description:
      'multipart/form-data with `file` (Parquet or CSV, told apart by its content), `symbol`, `timeframe`, `year` and `overwrite` (default false). The file is checked completely before it replaces anything: readable, the required columns, at least one candle, every candle inside [YEAR-01-01 00:00 KST, (YEAR+1)-01-01 00:00 UTC), spaced as the timeframe says; then written atomically as DATA_ROOT/{SYMBOL}/{TIMEFRAME}/{YEAR}.parquet (a CSV converted, not merged). Errors carry `success: false` beside the usual fields: 409 the file exists and overwrite is false, 413 over UPLOAD_MAX_MB, 422 naming the problem.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file', 'symbol', 'timeframe', 'year'],
      properties: {
        file: { type: 'string', format: 'binary' },
        symbol: { type: 'string', example: 'BTC_KRW' },
        timeframe: { type: 'string', example: '1H' },
        year: { type: 'integer', example: 2024 },
        overwrite: { type: 'boolean', default: false },
      },
    },
  })
  @ApiOkResponse({ type: UploadResultDto })
  @ApiErrors([
    HttpStatus.CONFLICT,
    HttpStatus.PAYLOAD_TOO_LARGE,
    HttpStatus.UNSUPPORTED_MEDIA_TYPE,
    HttpStatus.UNPROCESSABLE_ENTITY,
    HttpStatus.TOO_MANY_REQUESTS,
  ])
  async upload(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const stagingDir = join(this.config.dataRoot, STAGING_DIR);
    const staged = join(stagingDir, `${randomUUID()}.part`);
    let answer: { status: number; body: object };
    try {
      answer = { status: HttpStatus.OK, body: await this.store(request, stagingDir, staged) };
    } catch (error) {
      // Every failure the API can name answers in its error shape, with success: false
      // (SPEC §10.8); anything else is the exception filter's 500.
      const body = describeError(error) ?? this.describeFormError(error);
      if (!body) throw error;
      answer = { status: body.statusCode, body: { success: false, ...body } };
    } finally {
      // Gone before the client hears back: a failed upload leaves nothing behind.
      await rm(staged, { force: true });
    }
    await reply.status(answer.status).send(answer.body);
  }

  private async store(
    request: FastifyRequest,
    stagingDir: string,
    staged: string,
  ): Promise<UploadResultDto> {
    const { fields, fileName } = await this.receive(request, stagingDir, staged);
    const target = this.parseTarget(fields, fileName);
    const location = candleFileLocation(
      this.config.dataRoot,
      target.symbol,
      target.timeframe,
      target.year,
    );
    // Cheap first; the thread checks again at the moment it places the file.
    if (!target.overwrite && (await exists(location.absolutePath))) {
      throw new ConflictError(`${location.relativePath} exists: send overwrite=true to replace it`);
    }
    const installed = await this.threads.run({
      kind: 'install-upload',
      stagedPath: staged,
      dataRoot: this.config.dataRoot,
      ...target,
      fileName: fileName!,
    });
    return {
      success: true,
      message: `Stored ${installed.rows} candles (${installed.format}) as ${installed.relative_path}`,
      file_path: installed.relative_path,
    };
  }

  /** @fastify/multipart's refusals of a form over its limits, worded for the client. */
  private describeFormError(error: unknown): ErrorBody | undefined {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') {
      return errorBody(
        HttpStatus.PAYLOAD_TOO_LARGE,
        `The file is larger than UPLOAD_MAX_MB (${Math.round(this.config.uploadMaxBytes / 1024 / 1024)} MB); nothing was stored`,
      );
    }
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
      return errorBody(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'The form has too many parts: send one file and the fields symbol, timeframe, year, overwrite',
      );
    }
    return undefined;
  }

  /** Reads the form: the text fields, and the file streamed to the staging file. */
  private async receive(
    request: FastifyRequest,
    stagingDir: string,
    staged: string,
  ): Promise<{ fields: UploadFields; fileName: string | undefined }> {
    if (!request.isMultipart()) {
      throw InvalidInputError.of(
        'body',
        request.headers['content-type'] ?? null,
        'multipart/form-data with file, symbol, timeframe, year (and overwrite)',
      );
    }
    const fields: UploadFields = {};
    let fileName: string | undefined;
    await makeDirectory(stagingDir);
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file' || fileName !== undefined) {
          part.file.resume();
          throw InvalidInputError.of(
            part.fieldname,
            part.filename,
            'one file, in the field "file"',
          );
        }
        fileName = part.filename || 'upload';
        await pipeline(part.file, createWriteStream(staged, { flags: 'wx', mode: 0o644 }));
      } else if ((FIELD_NAMES as readonly string[]).includes(part.fieldname)) {
        fields[part.fieldname as keyof UploadFields] = String(part.value);
      } else {
        throw InvalidInputError.of(
          part.fieldname,
          part.value,
          `no such field; the fields are file, ${FIELD_NAMES.join(', ')}`,
        );
      }
    }
    return { fields, fileName };
  }

  /** Symbol, timeframe and year as SPEC §2 says, before any path is built; every problem at once. */
  private parseTarget(fields: UploadFields, fileName: string | undefined) {
    const problems = new ProblemCollector();
    if (fileName === undefined) {
      problems.add({
        field: 'file',
        value: undefined,
        allowed: 'a Parquet or CSV file of candles',
      });
    }
    const symbol = problems.check(() => parseSymbol(fields.symbol, 'symbol'));
    const timeframe = problems.check(() => parseTimeframe(fields.timeframe, 'timeframe'));
    const year = problems.check(() =>
      parseYear(
        fields.year !== undefined && /^\d+$/.test(fields.year) ? Number(fields.year) : fields.year,
        'year',
      ),
    );
    const overwrite = problems.check(() => parseOverwrite(fields.overwrite));
    problems.throwIfAny();
    return { symbol: symbol!, timeframe: timeframe!, year: year!, overwrite: overwrite! };
  }
}

function parseOverwrite(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw InvalidInputError.of('overwrite', value, 'true or false');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
