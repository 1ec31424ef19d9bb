import { HttpStatus } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

type JsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>;

/** An error Fastify answers with its status; the exception filter words the body. */
export class MalformedJsonError extends Error {
  readonly statusCode = HttpStatus.BAD_REQUEST;
}

/**
 * How deep a JSON body may nest objects and arrays. The deepest request the API takes is a
 * sweep's grid or a preset (4 levels); 2,000 levels (12 KB) once overflowed the stack of the
 * validation that walks the body and answered 500 (issue 10, item 5).
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether a JSON text nests `[` and `{` (outside strings) deeper than `limit`: one pass over
 * the characters, no recursion, stopping as soon as it is; before anything is parsed.
 */
export function jsonDepthOver(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c)
        index += 1; // a backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

/**
 * Fastify's JSON parser (secure-json-parse: `__proto__` and `constructor.prototype` keys are
 * refused, as they could rewrite an object's prototype), with two changes for clients:
 * - an empty body is no body: many HTTP clients send `Content-Type: application/json` on
 *   every request, a DELETE included;
 * - a refusal says what is wrong and where, rather than "Body is not valid JSON";
 * - a body nested deeper than MAX_JSON_DEPTH is refused (400) before it is parsed.
 */
export function jsonBodyParser(parse: JsonParser): JsonParser {
  return (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, undefined);
      return;
    }
    if (typeof body === 'string' && jsonDepthOver(body, MAX_JSON_DEPTH)) {
      done(
        new MalformedJsonError(
          `The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep, the limit: flatten it`,
        ),
      );
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
