import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MetricsService } from './metrics.service';

/** The parts of Fastify's request and reply the hook reads. */
interface FastifyLikeRequest {
  method: string;
  routeOptions?: { url?: string };
}
interface FastifyLikeReply {
  statusCode: number;
  elapsedTime: number;
}
interface FastifyLikeInstance {
  addHook(
    name: 'onResponse',
    hook: (request: FastifyLikeRequest, reply: FastifyLikeReply, done: () => void) => void,
  ): unknown;
}

/**
 * Times every HTTP response with a Fastify `onResponse` hook — including 401s from guards,
 * 404s of unknown URLs and errors, which a Nest interceptor would not see — labelled by the
 * route pattern Fastify matched. Added before the server starts listening (module init).
 */
@Injectable()
export class HttpMetricsHook implements OnModuleInit {
  private readonly logger = new Logger('Metrics');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter?.getType() !== 'fastify') {
      this.logger.warn('HTTP request metrics need the Fastify adapter; none are recorded');
      return;
    }
    const fastify = adapter.getInstance<FastifyLikeInstance>();
    fastify.addHook('onResponse', (request, reply, done) => {
      this.metrics.httpRequestServed(
        request.method,
        request.routeOptions?.url,
        reply.statusCode,
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
}
