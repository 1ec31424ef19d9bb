import {
  GatewayTimeoutException,
  HttpException,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import {
  ConflictError,
  DataFileError,
  InvalidInputError,
  NoDataError,
  NotFoundError,
  TryLaterError,
} from '@app/common';
import {
  describeError,
  errorHeaders,
  MAX_ERROR_BODY_BYTES,
  REDIS_UNAVAILABLE_MESSAGE,
} from './error-response';
import { RateLimitedError } from './rate-limit';
import { MalformedJsonError } from './json-body';

describe('describeError', () => {
  it('maps invalid input to 422 with every field problem', () => {
    const problems = [
      { field: 'symbols[0]', value: 'a/b', allowed: 'BASE_QUOTE' },
      { field: 'timeframe', value: '7M', allowed: 'one of 1M, 5M' },
    ];
    expect(describeError(new InvalidInputError(problems))).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message:
        'symbols[0]: got "a/b"; expected BASE_QUOTE; timeframe: got "7M"; expected one of 1M, 5M',
      detail:
        'symbols[0]: got "a/b"; expected BASE_QUOTE; timeframe: got "7M"; expected one of 1M, 5M',
      errors: problems,
    });
  });

  it('shows a number too large for JSON (1e309 reads as Infinity) as what it is, not null', () => {
    const body = describeError(
      InvalidInputError.of('params.vol_ma_window', Infinity, 'an integer from 1 to 500'),
    );
    expect(body?.message).toBe(
      'params.vol_ma_window: got Infinity; expected an integer from 1 to 500',
    );
    expect(JSON.parse(JSON.stringify(body)).errors[0].value).toBe('Infinity');
  });

  it('maps the core’s typed errors to their statuses with their messages', () => {
    expect(describeError(new DataFileError('X/5M/2018.parquet', 'not a Parquet file'))).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: 'X/5M/2018.parquet: not a Parquet file',
      detail: 'X/5M/2018.parquet: not a Parquet file',
    });
    expect(describeError(new NoDataError('No data found'))).toMatchObject({
      statusCode: 404,
      message: 'No data found',
    });
    expect(describeError(new NotFoundError('No run x'))).toMatchObject({
      statusCode: 404,
      error: 'Not Found',
    });
    expect(describeError(new ConflictError('already completed'))).toMatchObject({
      statusCode: 409,
      error: 'Conflict',
    });
  });

  it('keeps Nest HTTP errors’ status and says what to do about transport errors', () => {
    expect(describeError(new GatewayTimeoutException('Task t failed: timed out'))).toEqual({
      statusCode: 504,
      error: 'Gateway Timeout',
      message: 'Task t failed: timed out',
      detail: 'Task t failed: timed out',
    });
    expect(
      describeError(new PayloadTooLargeException('Request body is too large'))?.message,
    ).toContain('1 MiB');
    expect(
      describeError(new HttpException('Unsupported Media Type: text/plain', 415))?.message,
    ).toContain('application/json');
    expect(describeError(new NotFoundException('Cannot GET /nope'))?.message).toBe(
      'No route GET /nope; GET / lists the endpoints',
    );
  });

  it('maps a body the JSON parser refused to 400 with its message', () => {
    const error = new MalformedJsonError(
      'The request body is not valid JSON: Unexpected end of JSON input',
    );
    expect(describeError(error)).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'The request body is not valid JSON: Unexpected end of JSON input',
      detail: 'The request body is not valid JSON: Unexpected end of JSON input',
    });
  });

  it('maps Redis being unreachable to 503', () => {
    const offline = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), {
      code: 'ECONNREFUSED',
    });
    const retries = Object.assign(new Error('Reached the max retries per request limit'), {
      name: 'MaxRetriesPerRequestError',
    });
    for (const error of [offline, refused, retries]) {
      expect(describeError(error)).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: REDIS_UNAVAILABLE_MESSAGE,
        detail: REDIS_UNAVAILABLE_MESSAGE,
      });
    }
  });

  it('lists at most 50 problems, says how many more, cuts echoed values, stays under 64 KiB', () => {
    const problems = Array.from({ length: 60_000 }, (_, index) => ({
      field: `k${index}${'é'.repeat(index === 0 ? 5000 : 0)}`,
      value: index % 2 === 0 ? 'ü'.repeat(10_000) : Array.from({ length: 5000 }, () => index),
      allowed: 'no such field',
    }));
    const body = describeError(new InvalidInputError(problems))!;
    expect(body.errors).toHaveLength(50);
    expect(body.errors_omitted).toBe(59_950);
    expect(body.message).toMatch(/; and 59950 more problems$/);
    expect(body.detail).toBe(body.message);
    expect((body.errors![0].value as string).length).toBe(200);
    expect(body.errors![0].field.length).toBe(200);
    // An array too long to echo becomes the start of its JSON text.
    expect(body.errors![1].value).toMatch(/^\[1,1,1,.*…$/);
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES);
  });

  it('keeps a body of many multi-byte problems within 64 KiB by listing fewer', () => {
    const problems = Array.from({ length: 50 }, (_, index) => ({
      field: `${'😀'.repeat(150)}${index}`,
      value: '😀'.repeat(150),
      allowed: '😀'.repeat(150),
    }));
    const body = describeError(new InvalidInputError(problems))!;
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES);
    expect(body.errors!.length + body.errors_omitted!).toBe(50);
    expect(body.errors!.length).toBeGreaterThan(10);
  });

  it('gives Retry-After to the errors that ask the client to come back', () => {
    expect(errorHeaders(new TryLaterError('queue full', 7))).toEqual({ 'Retry-After': '7' });
    expect(errorHeaders(new RateLimitedError('slow down', 0.2))).toEqual({ 'Retry-After': '1' });
    expect(describeError(new RateLimitedError('slow down', 3))?.statusCode).toBe(429);
    expect(errorHeaders(new NotFoundError('x'))).toEqual({});
  });

  it('leaves anything else to the caller as an unexpected fault (500)', () => {
    expect(describeError(new TypeError('x is undefined'))).toBeUndefined();
    expect(describeError('a string')).toBeUndefined();
  });
});
