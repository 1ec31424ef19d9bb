import { HttpStatus, NotFoundException } from '@nestjs/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { REQUEST_ID_HEADER } from '@app/platform';
import { ApiKeyCheck } from './api-key.guard';
import { describeError, errorBody, ErrorBody, errorHeaders } from './error-response';

/**
 * Longest path segment routed. Fastify's default of 100 answered a 101-character id with a
 * 500, before the key check (issue 10, item 6), and would refuse a valid preset name: 100
 * code points percent-encoded take up to 1,200 characters. Longer segments get a 414.
 */
export const MAX_PARAM_LENGTH = 2048;

/** A method the path has no route for, while others have (HTTP 405 with Allow). */
export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
  constructor(
    method: string,
    path: string,
    readonly allow: string[],
  ) {
    super(`${method} is not allowed on ${path}; it answers ${allow.join(', ')}`);
  }
}

/** A route's path as a pattern of decoded paths: `:id` is one segment, `*` anything. */
function routePattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) return '[^/]+';
      if (segment === '*') return '.*';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}

function decodedPath(url: string): string {
  const path = url.split('?')[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** Sends an error body outside Nest (before routing), with its headers and the request id. */
function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  fallback: ErrorBody,
): void {
  const body = describeError(error) ?? fallback;
  void reply
    .code(body.statusCode)
    .headers(errorHeaders(error))
    .type('application/json; charset=utf-8')
    .header(REQUEST_ID_HEADER, request.id)
    .send(body);
}

/**
 * Fastify's refusals before any route runs (a URL it cannot decode, a segment longer than
 * MAX_PARAM_LENGTH), in the API's error shape, after the key check: without the key, an
 * /api path hears 401 whatever its shape.
 */
export function frameworkErrors(
  checkKey: ApiKeyCheck,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const refusal = checkKey(decodedPath(request.url), request.headers);
    const internal = errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
    if (refusal) return sendError(request, reply, refusal, internal);
    if (error.code === 'FST_ERR_BAD_URL') {
      return sendError(
        request,
        reply,
        undefined,
        errorBody(
          HttpStatus.BAD_REQUEST,
          'The URL is not valid: check its percent-encoding (%XX with two hex digits)',
        ),
      );
    }
    if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
      return sendError(
        request,
        reply,
        undefined,
        errorBody(
          HttpStatus.URI_TOO_LONG,
          `A path segment is longer than ${MAX_PARAM_LENGTH} characters: no id or name is that long`,
        ),
      );
    }
    sendError(request, reply, undefined, internal);
  };
}

/**
 * Requests no route matches: the key check first (401), then 405 with Allow when the path
 * has routes for other methods (TRACE, QUERY, a PUT on a read-only path: issue 10, item 8),
 * else the 404. Runs at onRequest, before any body is read, so that QUERY's missing
 * Content-Type is not what the client hears. Routes are learnt as they are added.
 */
export function answerUnmatchedRoutes(fastify: FastifyInstance, checkKey: ApiKeyCheck): void {
  const routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  fastify.addHook('onRoute', (route) => {
    if (route.url === '*' || route.url === '/*') return; // the 404 and the CORS preflight
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = routePattern(route.url);
    const known = routes.find((entry) => entry.pattern.source === pattern.source);
    const target = known ?? { pattern, methods: new Set<string>() };
    if (!known) routes.push(target);
    for (const method of methods) target.methods.add(method.toUpperCase());
  });
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (!request.is404) return done();
    const path = decodedPath(request.url);
    const refusal = checkKey(path, request.headers);
    if (refusal) return done(refusal);
    const allow = new Set<string>();
    for (const { pattern, methods } of routes) {
      if (pattern.test(path)) for (const method of methods) allow.add(method);
    }
    if (allow.size > 0 && !allow.has(request.method)) {
      return done(new MethodNotAllowedError(request.method, path, [...allow].sort()));
    }
    done(new NotFoundException(`Cannot ${request.method} ${path}`));
  });
}
