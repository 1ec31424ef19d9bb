import fastifyMultipart from '@fastify/multipart';
import { DynamicModule, HttpStatus, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import { httpServerOptions, REQUEST_ID_HEADER, requestIdFrom } from '@app/platform';
import { AppModule } from './app.module';
import { API_KEY_HEADER, apiKeyCheck } from './http/api-key.guard';
import { BODY_LIMIT_BYTES, errorBody } from './http/error-response';
import { jsonBodyParser } from './http/json-body';
import { registerRateLimit } from './http/rate-limit';
import { answerUnmatchedRoutes, frameworkErrors, MAX_PARAM_LENGTH } from './http/routing';
import { securityHeaders } from './http/security-headers';
import { createOpenApiDocument, serveOpenApiDocument } from './openapi/openapi';
import { readPackageInfo } from './openapi/package-info';
import { EndpointCatalog } from './root/endpoint-catalog';

/**
 * Builds the configured API application, initialised but not listening: `main` listens on
 * PORT. `features` are extra modules for the same process (the worker, for `npm start`).
 */
export async function createApiApp(
  config: AppConfig,
  features: Array<Type | DynamicModule> = [],
): Promise<NestFastifyApplication> {
  const checkKey = apiKeyCheck(config.apiKey);
  const adapter = new FastifyAdapter({
    ...httpServerOptions(config),
    bodyLimit: BODY_LIMIT_BYTES,
    // Whose X-Forwarded-For names the client (access logs, the rate limit): by default only
    // proxies on loopback and private networks, so a client on the internet cannot pick its
    // own address and with it a fresh rate budget.
    trustProxy: config.trustProxy === 'true' ? true : config.trustProxy,
    // Fastify names each request before Nest's middleware runs, and the logger takes that
    // name: so the caller's X-Request-Id (when sane) must become Fastify's request id.
    genReqId: requestIdFrom,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Refusals before any route (a URL Fastify cannot decode, a segment too long to route)
    // answer in the API's error shape too, after the key check.
    frameworkErrors: frameworkErrors(checkKey),
    // What Node's server refuses before Fastify sees a request (an unknown method such as
    // FOO, a broken request line, headers or a body slower than HTTP_HEADERS_TIMEOUT_S /
    // HTTP_REQUEST_TIMEOUT_S): the API's error shape rather than Fastify's, then the socket
    // is closed.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (error.code === 'ECONNRESET' || !socket.writable) return socket.destroy(error);
      const body =
        error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? errorBody(
              HttpStatus.REQUEST_TIMEOUT,
              `The request did not arrive in time: headers within HTTP_HEADERS_TIMEOUT_S (${config.httpHeadersTimeoutMs / 1000} s), the whole request within HTTP_REQUEST_TIMEOUT_S (${config.httpRequestTimeoutMs / 1000} s)`,
            )
          : error.code === 'HPE_HEADER_OVERFLOW'
            ? errorBody(
                431, // Request Header Fields Too Large (not in Nest's HttpStatus)
                'The request headers are larger than 16 KiB',
              )
            : errorBody(
                HttpStatus.BAD_REQUEST,
                'The request is not valid HTTP (an unknown method, a broken request line or header)',
              );
      const text = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${body.statusCode} ${body.error}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    },
  });
  const fastify = adapter.getInstance();
  const headers = securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(headers).header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // JSON is the only body the API reads: anything else is a 415 rather than a guess.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    jsonBodyParser(fastify.getDefaultJsonParser('error', 'error')),
  );

  // Uploads (SPEC §10.8): multipart only on the upload route's requests, with limits; the
  // file streams to disk as it comes. JSON bodies keep their 1 MiB.
  await fastify.register(fastifyMultipart, {
    limits: {
      fileSize: config.uploadMaxBytes,
      files: 1,
      fields: 8,
      fieldSize: 1024,
      parts: 10,
      headerPairs: 100,
    },
  });

  // TRACE, QUERY...: 405 with Allow after the key check (hooks before Nest adds its routes).
  answerUnmatchedRoutes(fastify, checkKey);
  // RATE_LIMIT_PER_MIN on the submission routes (issue 10, item 1), counted in Redis.
  await registerRateLimit(fastify, config);

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, features),
    adapter,
    {
      bufferLogs: true,
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));
  // Exit 0 once the shutdown hooks ran, rather than re-raising the signal (exit code 143).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  if (config.corsOrigins !== false) {
    // SPEC §10.10: the web client of the system this replaces is served from another origin
    // and uses every method here (presets are PUT, is_active a PATCH), sends Prefer on a sync
    // run, and reads these response headers.
    app.enableCors({
      origin: config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Content-Type', API_KEY_HEADER, 'Prefer', REQUEST_ID_HEADER],
      exposedHeaders: [
        'Location',
        'Retry-After',
        'Preference-Applied',
        'Content-Disposition',
        REQUEST_ID_HEADER,
        'ETag',
        'Content-MD5',
      ],
    });
  }

  const pkg = readPackageInfo();
  const document = createOpenApiDocument(app, pkg);
  serveOpenApiDocument(app, document);
  app.get(EndpointCatalog).publish(document, pkg);
  await app.init();
  return app;
}
