import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '@app/config';

export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** A caller's X-Request-Id when it is sane, else a fresh one. */
export function requestIdFrom(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

/** Probes and scrapes every few seconds would drown the useful lines: they are not logged. */
const QUIET_PATHS = /^\/(health|metrics)(?:[/?]|$)/;

/** What every line logged while a request is served says about it. */
interface RequestFields {
  id: string;
  method: string;
  url: string;
  /** Who asked (issue 10, item 9): abuse and floods are traced by address. */
  remoteAddress?: string;
}

/** The parts of Fastify's request and reply the hook reads. */
interface FastifyLikeRequest {
  id: string;
  method: string;
  url: string;
  /** The client's address: the socket's, or X-Forwarded-For's from a trusted proxy (TRUST_PROXY). */
  ip: string;
}
interface FastifyLikeReply {
  statusCode: number;
  /** Milliseconds since the request came in (Fastify's high-resolution clock). */
  elapsedTime: number;
  raw: Pick<ServerResponse, 'once' | 'writableFinished'>;
}
interface FastifyLikeInstance {
  addHook(
    name: 'onRequest',
    hook: (request: FastifyLikeRequest, reply: FastifyLikeReply, done: () => void) => void,
  ): unknown;
}

/** The request being served, for the lines logged while it is (see `loggerModule`). */
const requestInScope = new AsyncLocalStorage<FastifyLikeRequest>();

function requestFields(request: FastifyLikeRequest): RequestFields {
  return { id: request.id, method: request.method, url: request.url, remoteAddress: request.ip };
}

/**
 * One access line per HTTP request when its response closes: `request completed` (`request
 * errored` for a 5xx, `request aborted` when the client left first, e.g. an event stream it
 * closed) with `req` {id, method, url, remoteAddress}, `res` {statusCode} and `responseTime`
 * (ms); never a stack (a failure's stack is the exception filter's own line). It
 * replaces pino-http's middleware, which Nest mounts through @fastify/middie: that built two
 * child loggers per request and made Fastify copy its request fields onto the raw request,
 * half of a status read's CPU time (`npm run bench:http`: ~450 -> ~220 us), where one log
 * call at the end is all the line needs. Lines logged while a request is served still carry
 * its `req`: the request is kept in an AsyncLocalStorage, and the root logger's mixin adds it.
 */
@Injectable()
export class HttpRequestLog implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    // A process without an HTTP server has no requests to log.
    if (adapter?.getType() !== 'fastify') return;
    const logger = PinoLogger.root;
    const logResponse = (request: FastifyLikeRequest, reply: FastifyLikeReply): void => {
      const { statusCode } = reply;
      logger.info(
        {
          req: requestFields(request),
          res: { statusCode },
          responseTime: Math.round(reply.elapsedTime * 100) / 100,
        },
        statusCode >= 500
          ? 'request errored'
          : reply.raw.writableFinished
            ? 'request completed'
            : 'request aborted',
      );
    };
    // 'close' rather than Fastify's onResponse, which misses a response the client cut short.
    adapter.getInstance<FastifyLikeInstance>().addHook('onRequest', (request, reply, done) => {
      if (!QUIET_PATHS.test(request.url))
        reply.raw.once('close', () => logResponse(request, reply));
      requestInScope.run(request, done);
    });
  }
}

/** The logger and the access lines, as one module of the platform. */
@Module({})
class PlatformLoggerModule {}

/**
 * nestjs-pino for a process: JSON lines (pretty only when LOG_PRETTY is set, for a terminal),
 * the LOG_LEVEL, a request id on every line of a request (see HttpRequestLog), and never a
 * request body, API key or cookie in the logs. `service` names the process in every line (api,
 * worker).
 */
export function loggerModule(config: AppConfig, service: string): DynamicModule {
  return {
    module: PlatformLoggerModule,
    imports: [
      LoggerModule.forRoot({
        pinoHttp: {
          level: config.logLevel,
          base: {
            service,
            environment: config.environment,
            host: config.executionHost,
            pid: process.pid,
          },
          // A request or response handed to a log call keeps only these fields, so no header
          // (API key, authorization, cookie) ever reaches a line; there is nothing to redact.
          // pino-http would first run pino's own serializers (which copy the headers) and ours
          // on their output; ours alone give the same fields.
          wrapSerializers: false,
          serializers: {
            // Given a Fastify request or the fields already taken from one (the access line).
            req: (req: FastifyLikeRequest & { remoteAddress?: string }) => ({
              ...requestFields(req),
              remoteAddress: req.remoteAddress ?? req.ip,
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          mixin: () => {
            const request = requestInScope.getStore();
            return request ? { req: requestFields(request) } : {};
          },
          ...(config.logPretty && {
            transport: {
              target: 'pino-pretty',
              options: { singleLine: true, translateTime: 'SYS:standard' },
            },
          }),
        },
        // HttpRequestLog writes the access lines: no pino-http middleware on any route.
        forRoutes: [],
      }),
    ],
    providers: [HttpRequestLog],
  };
}
