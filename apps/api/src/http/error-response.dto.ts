import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { FieldProblem } from '@app/common';
import { ErrorBody, errorBody, REDIS_UNAVAILABLE_MESSAGE } from './error-response';

export class FieldProblemDto implements FieldProblem {
  @ApiProperty({ example: 'params.vol_ma_window', description: 'The failing field' })
  field!: string;

  @ApiPropertyOptional({
    example: 0,
    description:
      'The value given, as JSON carried it (absent when none was); one longer than 200 characters of JSON is the start of its JSON text, ending in "…"',
    // What a JSON body can hold, null included (a field sent as null).
    oneOf: [
      { type: 'string', nullable: true },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'array', items: {} },
      { type: 'object' },
    ],
  })
  value?: unknown;

  @ApiProperty({ example: 'an integer from 1 to 500', description: 'What would be accepted' })
  allowed!: string;
}

export class ErrorResponseDto implements ErrorBody {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found', description: 'The HTTP reason phrase' })
  error!: string;

  @ApiProperty({
    example: 'No run 0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
    description: 'What went wrong and what to fix (at most 8 KiB)',
  })
  message!: string;

  @ApiProperty({
    example: 'No run 0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
    description:
      'The same text as message (SPEC §10.2: the clients of the system this replaces read this field)',
  })
  detail!: string;
}

export class ValidationErrorResponseDto extends ErrorResponseDto {
  @ApiProperty({ example: 422 })
  declare statusCode: number;

  @ApiProperty({ example: 'Unprocessable Entity' })
  declare error: string;

  @ApiProperty({
    example: 'params.vol_ma_window: got 0; expected an integer from 1 to 500',
  })
  declare message: string;

  @ApiPropertyOptional({
    type: [FieldProblemDto],
    description:
      'The failing fields, at most 50 (absent when the problem is not a field, e.g. a broken data file)',
  })
  errors?: FieldProblemDto[];

  @ApiPropertyOptional({
    example: 59950,
    description: 'How many more problems were found than errors lists (at most 50 are listed)',
  })
  errors_omitted?: number;
}

/** When each error status happens, as the OpenAPI document tells it. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  [HttpStatus.BAD_REQUEST]: 'The body is not valid JSON',
  [HttpStatus.UNAUTHORIZED]: 'API_KEY is set and the X-API-Key header is missing or wrong',
  [HttpStatus.NOT_FOUND]: 'No such task or run (ids that are not UUIDs included)',
  [HttpStatus.CONFLICT]: 'The task is not in a state that allows this',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'The body is larger than 1 MiB',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'The body is not sent as application/json',
  [HttpStatus.UNPROCESSABLE_ENTITY]:
    'Invalid input: every failing field with the value given and what is allowed',
  [HttpStatus.INTERNAL_SERVER_ERROR]: 'A fault of the server (logged; no details are exposed)',
  [HttpStatus.TOO_MANY_REQUESTS]:
    'More than RATE_LIMIT_PER_MIN submissions in a minute from this client (per API key when API_KEY is set); Retry-After says when to try again',
  [HttpStatus.SERVICE_UNAVAILABLE]: `Redis cannot be reached ("${REDIS_UNAVAILABLE_MESSAGE}"), or MAX_QUEUED_TASKS tasks wait; Retry-After says when to try again`,
  [HttpStatus.GATEWAY_TIMEOUT]: 'The backtest ran longer than JOB_TIMEOUT_S',
};

/**
 * Documents error responses of a route. `overrides` replaces the general description of a
 * status with what it means for this route.
 */
export function ApiErrors(
  statuses: number[],
  overrides: Partial<Record<number, string>> = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => {
      const description = overrides[status] ?? ERROR_DESCRIPTIONS[status];
      return ApiResponse({
        status,
        description,
        type:
          status === Number(HttpStatus.UNPROCESSABLE_ENTITY)
            ? ValidationErrorResponseDto
            : ErrorResponseDto,
        // Each status its own example (the DTO's own is a 404): what this status says.
        ...(status !== Number(HttpStatus.UNPROCESSABLE_ENTITY) && {
          example: errorBody(status, ERROR_EXAMPLES[status] ?? description ?? ''),
        }),
      });
    }),
  );
}

/** A message each status can carry, for the examples. */
const ERROR_EXAMPLES: Partial<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]:
    "The request body is not valid JSON: Expected ',' or '}' after property value in JSON at position 12",
  [HttpStatus.UNAUTHORIZED]: 'This route needs an API key: send it in the X-API-Key header',
  [HttpStatus.NOT_FOUND]: 'No task or run with id "0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"',
  [HttpStatus.PAYLOAD_TOO_LARGE]:
    'The request body is larger than the limit of 1 MiB (1048576 bytes)',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]:
    'Unsupported Content-Type: send the request body as JSON with "Content-Type: application/json"',
  [HttpStatus.TOO_MANY_REQUESTS]:
    'More than RATE_LIMIT_PER_MIN (600) submissions in a minute from this client; retry in 12 s',
  [HttpStatus.INTERNAL_SERVER_ERROR]:
    'Internal server error; the details are logged under request id 5f0c8a52-…',
  [HttpStatus.SERVICE_UNAVAILABLE]: REDIS_UNAVAILABLE_MESSAGE,
};

/** Errors every /api route can answer. */
export const COMMON_API_ERRORS = [HttpStatus.UNAUTHORIZED, HttpStatus.INTERNAL_SERVER_ERROR];
