import { STATUS_CODES } from 'node:http';
import { HttpException, HttpStatus } from '@nestjs/common';
import {
  ConflictError,
  DataFileError,
  FieldProblem,
  cutText,
  echoedValue,
  infrastructureFault,
  InvalidInputError,
  FailureCode,
  MAX_ECHOED_CHARS,
  MAX_LISTED_PROBLEMS,
  NotFoundError,
  TaskFailedError,
  TryLaterError,
} from '@app/common';
import { MalformedJsonError } from './json-body';
import { RateLimitedError } from './rate-limit';
import { MethodNotAllowedError } from './routing';

/** The body of every error response (SPEC §5): what went wrong and what to fix. */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP reason phrase, e.g. "Unprocessable Entity". */
  error: string;
  message: string;
  /**
   * The same text as `message` (SPEC §10.2): the web client and scripts of the system this
   * replaces show `response.data.detail` and read nothing else.
   */
  detail: string;
  /**
   * On 422 for invalid input: the failing fields, the value given (cut to 200 characters)
   * and what is allowed; at most MAX_LISTED_PROBLEMS of them.
   */
  errors?: FieldProblem[];
  /** How many more problems were found than `errors` lists (absent when none). */
  errors_omitted?: number;
  /** A synchronous run's answers name their task and how it stands (SPEC §10.9). */
  task_id?: string;
  status?: string;
  status_url?: string;
}

/** Largest request body accepted (SPEC §5: over 1 MiB is a 413). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * No error body is larger than this (issue 10, item 3), whatever the request: with 50
 * problems cut to 200 characters each, a body reaches ~35 KiB of ASCII; the check in
 * errorBody holds it for any text, multi-byte characters included.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** A message (and so `detail`) longer than this is cut: a 16 KB URL is echoed in part. */
const MAX_MESSAGE_CHARS = 8 * 1024;

export const REDIS_UNAVAILABLE_MESSAGE = 'Redis is unavailable; retry shortly';

/**
 * Messages for errors Fastify raises before a route runs: its own wording names no fix.
 * Keyed by status, as Nest hands them over as plain HTTP exceptions.
 */
const TRANSPORT_MESSAGES: Partial<Record<number, string>> = {
  [HttpStatus.PAYLOAD_TOO_LARGE]: `The request body is larger than the limit of 1 MiB (${BODY_LIMIT_BYTES} bytes)`,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]:
    'Unsupported Content-Type: send the request body as JSON with "Content-Type: application/json"',
};

/** How a run that failed is answered, by the worker's failure code (SPEC §4, §5). */
const STATUS_OF_FAILURE: Record<FailureCode, HttpStatus> = {
  invalid_input: HttpStatus.UNPROCESSABLE_ENTITY,
  data_file: HttpStatus.UNPROCESSABLE_ENTITY,
  no_data: HttpStatus.NOT_FOUND,
  timeout: HttpStatus.GATEWAY_TIMEOUT,
  internal: HttpStatus.INTERNAL_SERVER_ERROR,
};

/** Nest's wording for a request no route matches, e.g. "Cannot GET /nope". */
const NO_ROUTE = /^Cannot ([A-Z]+ \S+)$/;

/**
 * Every error body is made here: `detail` beside `message` (SPEC §10.2), at most
 * MAX_LISTED_PROBLEMS problems (`errors_omitted` counts the rest), echoed values and field
 * names cut to MAX_ECHOED_CHARS, and the whole at most MAX_ERROR_BODY_BYTES. Its cost is
 * bounded by those limits, not by the request: nothing here walks more than 50 problems.
 */
export function errorBody(
  statusCode: number,
  message: string,
  problems?: FieldProblem[],
  unlisted = 0,
): ErrorBody {
  const text = cutText(message, MAX_MESSAGE_CHARS);
  const body: ErrorBody = {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: text,
    detail: text,
  };
  if (problems === undefined) return body;
  const errors = problems
    .slice(0, MAX_LISTED_PROBLEMS)
    .map(({ field, value, allowed }): FieldProblem => ({
      field: cutText(field, MAX_ECHOED_CHARS),
      value: echoedValue(value),
      allowed: cutText(allowed, MAX_ECHOED_CHARS),
    }));
  let omitted = problems.length - errors.length + unlisted;
  // Multi-byte text can still exceed the budget: list fewer problems until it fits.
  while (errors.length > 0 && bodyBytes({ ...body, errors }) > MAX_ERROR_BODY_BYTES) {
    errors.pop();
    omitted += 1;
  }
  return { ...body, errors, ...(omitted > 0 && { errors_omitted: omitted }) };
}

function bodyBytes(body: ErrorBody): number {
  return Buffer.byteLength(JSON.stringify(body));
}

/**
 * Headers an error's response carries: `Retry-After` (seconds) when trying again later makes
 * sense (a full queue, a busy run, a spent rate budget); `Allow` on a 405.
 */
export function errorHeaders(error: unknown): Record<string, string> {
  if (error instanceof TryLaterError || error instanceof RateLimitedError) {
    return { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterS))) };
  }
  if (error instanceof MethodNotAllowedError) return { Allow: error.allow.join(', ') };
  return {};
}

/**
 * Maps an error to its response, the one place that knows which error is which status.
 * Undefined means an unexpected fault: the caller answers 500 and logs it.
 */
export function describeError(error: unknown): ErrorBody | undefined {
  if (error instanceof InvalidInputError) {
    return errorBody(
      HttpStatus.UNPROCESSABLE_ENTITY,
      error.message,
      error.problems,
      error.unlisted,
    );
  }
  if (error instanceof DataFileError) {
    return errorBody(HttpStatus.UNPROCESSABLE_ENTITY, error.message);
  }
  if (error instanceof NotFoundError) return errorBody(HttpStatus.NOT_FOUND, error.message);
  if (error instanceof ConflictError) return errorBody(HttpStatus.CONFLICT, error.message);
  if (error instanceof TryLaterError) {
    return errorBody(HttpStatus.SERVICE_UNAVAILABLE, error.message);
  }
  if (error instanceof RateLimitedError) {
    return errorBody(HttpStatus.TOO_MANY_REQUESTS, error.message);
  }
  if (error instanceof MethodNotAllowedError) {
    return errorBody(HttpStatus.METHOD_NOT_ALLOWED, error.message);
  }
  if (error instanceof TaskFailedError) {
    // SPEC §10.9: a sync run that failed says so in `status` (a timed-out job's 504 and a
    // run still going past SYNC_TIMEOUT_S are told apart by it).
    return {
      ...errorBody(STATUS_OF_FAILURE[error.code], error.message),
      ...(error.taskId !== undefined && { task_id: error.taskId, status: 'failed' }),
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const message = httpExceptionMessage(error);
    const noRoute = NO_ROUTE.exec(message);
    if (status === Number(HttpStatus.NOT_FOUND) && noRoute) {
      return errorBody(status, `No route ${noRoute[1]}; GET / lists the endpoints`);
    }
    return errorBody(status, TRANSPORT_MESSAGES[status] ?? message);
  }
  if (error instanceof MalformedJsonError) return errorBody(error.statusCode, error.message);
  // A full Redis is answered like an unreachable one for now (issue 10 gives it its own body).
  if (infrastructureFault(error)?.startsWith('redis')) {
    return errorBody(HttpStatus.SERVICE_UNAVAILABLE, REDIS_UNAVAILABLE_MESSAGE);
  }
  return undefined;
}

function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
