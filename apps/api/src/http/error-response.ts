import { STATUS_CODES } from 'node:http';
import { HttpException, HttpStatus } from '@nestjs/common';
import {
  ConflictError,
  DataFileError,
  FieldProblem,
  infrastructureFault,
  InvalidInputError,
  jsonSafeValue,
  FailureCode,
  NotFoundError,
  TaskFailedError,
  TryLaterError,
} from '@app/common';
import { MalformedJsonError } from './json-body';

/** The body of every error response (SPEC §5): what went wrong and what to fix. */
export interface ErrorBody {
  statusCode: number;
  /** The HTTP reason phrase, e.g. "Unprocessable Entity". */
  error: string;
  message: string;
  /** On 422 for invalid input: every failing field, the value given and what is allowed. */
  errors?: FieldProblem[];
  /** A synchronous run's answers name their task and how it stands (SPEC §10.9). */
  task_id?: string;
  status?: string;
  status_url?: string;
}

/** Largest request body accepted (SPEC §5: over 1 MiB is a 413). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

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

export function errorBody(statusCode: number, message: string, errors?: FieldProblem[]): ErrorBody {
  return {
    statusCode,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message,
    ...(errors !== undefined && { errors }),
  };
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
      error.problems.map((problem) => ({ ...problem, value: jsonSafeValue(problem.value) })),
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
