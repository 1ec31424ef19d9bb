import { hash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';

export const API_KEY_HEADER = 'x-api-key';

/** The routes the key protects: everything under /api. `/`, /health*, /docs*, /metrics stay open. */
const PROTECTED_PATH = /^\/api(?:[/?#]|$)/;

/** One-shot: no Hash object per request, as createHash().update().digest() would build. */
function digest(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

/**
 * When API_KEY is set, every /api route needs the header X-API-Key with that value. The key
 * and the header are compared as SHA-256 digests with timingSafeEqual: equal lengths always,
 * and no timing hint about how much of the key matched.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly expected: Buffer | undefined;

  constructor(@InjectConfig() config: AppConfig) {
    this.expected = config.apiKey === undefined ? undefined : digest(config.apiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // The route that matched, not the raw URL: Fastify decodes the path before routing, so
    // `/%61pi/strategies` reaches the /api/strategies handler while its URL says otherwise.
    const route = request.routeOptions.url ?? request.url;
    if (!PROTECTED_PATH.test(route)) return true;
    const given = request.headers[API_KEY_HEADER];
    if (typeof given !== 'string' || given === '') {
      throw new UnauthorizedException(
        'This route needs an API key: send it in the X-API-Key header',
      );
    }
    if (!timingSafeEqual(digest(given), this.expected)) {
      throw new UnauthorizedException('The X-API-Key header does not match the API key');
    }
    return true;
  }
}
