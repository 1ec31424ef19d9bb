import { HttpStatus } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

type JsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>;

/** An error Fastify answers with its status; the exception filter words the body. */
export class MalformedJsonError extends Error {
  readonly statusCode = HttpStatus.BAD_REQUEST;
}

/**
 * Fastify's JSON parser (secure-json-parse: `__proto__` and `constructor.prototype` keys are
 * refused, as they could rewrite an object's prototype), with two changes for clients:
 * - an empty body is no body: many HTTP clients send `Content-Type: application/json` on
 *   every request, a DELETE included;
 * - a refusal says what is wrong and where, rather than "Body is not valid JSON".
 */
export function jsonBodyParser(parse: JsonParser): JsonParser {
  return (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, undefined);
      return;
    }
    void parse(request, body, (error, parsed) => {
      if (error) done(new MalformedJsonError(malformedJsonMessage(String(body))));
      else done(null, parsed);
    });
  };
}

function malformedJsonMessage(body: string): string {
  try {
    JSON.parse(body);
  } catch (syntaxError) {
    return `The request body is not valid JSON: ${(syntaxError as Error).message}`;
  }
  return 'The request body uses "__proto__" or "constructor.prototype" as a key, which is refused: rename that field';
}
