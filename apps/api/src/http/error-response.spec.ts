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
} from '@app/common';
import { describeError, REDIS_UNAVAILABLE_MESSAGE } from './error-response';
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
      });
    }
  });

  it('leaves anything else to the caller as an unexpected fault (500)', () => {
    expect(describeError(new TypeError('x is undefined'))).toBeUndefined();
    expect(describeError('a string')).toBeUndefined();
  });
});
