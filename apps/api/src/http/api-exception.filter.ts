import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describeError, errorBody, errorHeaders } from './error-response';

/**
 * Every error of the HTTP API ends here, whether a route threw it, the validation pipe, a
 * guard or Fastify while reading the body: one JSON shape `{statusCode, error, message, detail}`.
 * An unexpected fault is logged with its stack (the request id is on the log line) and
 * answered 500 without any internal detail.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const described = describeError(exception);
    const requestId = request.id;
    if (!described) {
      this.logger.error(
        { err: exception, requestId, method: request.method, url: request.url },
        `${request.method} ${request.url} failed`,
      );
    } else if (described.statusCode >= Number(HttpStatus.INTERNAL_SERVER_ERROR)) {
      // Expected faults (Redis away, a failed run): one line each, no stack to wade through.
      this.logger.warn(
        { requestId, statusCode: described.statusCode },
        `${request.method} ${request.url}: ${described.message}`,
      );
    }
    if (reply.sent || reply.raw.headersSent) {
      // A stream already under way (SSE, download) can only be cut short.
      reply.raw.end();
      return;
    }
    const body =
      described ??
      errorBody(
        HttpStatus.INTERNAL_SERVER_ERROR,
        `Internal server error; the details are logged under request id ${requestId}`,
      );
    void reply
      .status(body.statusCode)
      .headers(errorHeaders(exception))
      .type('application/json; charset=utf-8')
      .send(body);
  }
}
