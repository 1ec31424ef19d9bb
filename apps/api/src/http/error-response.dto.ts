import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { FieldProblem } from '@app/common';
import { ErrorBody, REDIS_UNAVAILABLE_MESSAGE } from './error-response';

export class FieldProblemDto implements FieldProblem {
  @ApiProperty({ example: 'params.vol_ma_window', description: 'The failing field' })
  field!: string;

  @ApiProperty({ example: 0, description: 'The value given (absent when none was)' })
  value!: unknown;

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
    description: 'What went wrong and what to fix',
  })
  message!: string;
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
      'Every failing field (absent when the problem is not a field, e.g. a broken data file)',
  })
  errors?: FieldProblemDto[];
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
  [HttpStatus.SERVICE_UNAVAILABLE]: `Redis cannot be reached: "${REDIS_UNAVAILABLE_MESSAGE}"`,
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
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: overrides[status] ?? ERROR_DESCRIPTIONS[status],
        type:
          status === Number(HttpStatus.UNPROCESSABLE_ENTITY)
            ? ValidationErrorResponseDto
            : ErrorResponseDto,
      }),
    ),
  );
}

/** Errors every /api route can answer. */
export const COMMON_API_ERRORS = [HttpStatus.UNAUTHORIZED, HttpStatus.INTERNAL_SERVER_ERROR];
