import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '@app/config';

export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** A caller's X-Request-Id when it is sane, else a fresh one. */
export function requestIdFrom(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

/** A caller's X-Request-Id when it is sane, else a fresh one; echoed back on the response. */
export function requestIdOf(request: IncomingMessage, response: ServerResponse): string {
  const id = requestIdFrom(request);
  response.setHeader('X-Request-Id', id);
  return id;
}

/**
 * nestjs-pino for a process: JSON lines (pretty only when LOG_PRETTY is set, for a terminal),
 * the LOG_LEVEL, a request id on every line of a request, and never a request body, API key
 * or cookie in the logs. `service` names the process in every line (api, worker).
 */
export function loggerModule(config: AppConfig, service: string): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      level: config.logLevel,
      base: {
        service,
        environment: config.environment,
        host: config.executionHost,
        pid: process.pid,
      },
      genReqId: requestIdOf,
      customProps: () => ({}),
      redact: ['req.headers["x-api-key"]', 'req.headers.authorization', 'req.headers.cookie'],
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      // Probes and scrapes every few seconds would drown the useful lines. Under Fastify the
      // middleware sees `url` relative to its mount point ("/"); `originalUrl` is the path.
      autoLogging: {
        ignore: (req: IncomingMessage & { originalUrl?: string }) =>
          /^\/(health|metrics)(?:[/?]|$)/.test(req.originalUrl ?? req.url ?? ''),
      },
      ...(config.logPretty && {
        transport: {
          target: 'pino-pretty',
          options: { singleLine: true, translateTime: 'SYS:standard' },
        },
      }),
    },
  });
}
