import { timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';

export const API_KEY_HEADER = 'x-api-key';

/**
 * The routes the key protects: everything under /api but /api/health (the probe's other
 * name, SPEC §10.1). `/`, /health*, /docs*, /ui*, /metrics stay open.
 */
const PROTECTED_PATH = /^\/api(?:[/?#]|$)/;
const OPEN_API_ROUTES: ReadonlySet<string> = new Set(['/api/health']);

/**
 * When API_KEY is set, every /api route needs the header X-API-Key with that value, compared
 * in constant time: timingSafeEqual always runs over the key's full length (over the key
 * against itself when the lengths differ, which takes the same time), and the verdict needs
 * both the lengths and the bytes to agree. So the timing tells nothing of the key, not even
 * its length. Comparing SHA-256 digests of both did the same at 6-10 µs per request on the
 * development VM (OpenSSL 3 looks the algorithm up on every call); this takes under 1 µs.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly check: ApiKeyCheck;

  constructor(@InjectConfig() config: AppConfig) {
    this.check = apiKeyCheck(config.apiKey);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // The route that matched, not the raw URL: Fastify decodes the path before routing, so
    // `/%61pi/strategies` reaches the /api/strategies handler while its URL says otherwise.
    const refusal = this.check(request.routeOptions.url ?? request.url, request.headers);
    if (refusal) throw refusal;
    return true;
  }
}

/**
 * The refusal (401) of a request to `path` with these headers, or undefined when it may
 * pass. `path` is a route or a decoded path: requests that match no route (a TRACE, a
 * segment too long to route) are checked by their path before they hear anything else, so
 * that without the key nobody learns which /api paths exist (issue 10, items 6 and 8).
 */
export type ApiKeyCheck = (
  path: string,
  headers: FastifyRequest['headers'],
) => UnauthorizedException | undefined;

export function apiKeyCheck(apiKey: string | undefined): ApiKeyCheck {
  const expected = apiKey === undefined ? undefined : Buffer.from(apiKey, 'utf8');
  return (path, headers) => {
    if (!expected) return undefined;
    const route = path.split('?')[0];
    if (!PROTECTED_PATH.test(route) || OPEN_API_ROUTES.has(route)) return undefined;
    const given = headers[API_KEY_HEADER];
    if (typeof given !== 'string' || given === '') {
      return new UnauthorizedException(
        'This route needs an API key: send it in the X-API-Key header',
      );
    }
    if (!sameBytes(given, expected)) {
      return new UnauthorizedException('The X-API-Key header does not match the API key');
    }
    return undefined;
  };
}

/** The header equals the key: constant time, whatever the lengths (see ApiKeyGuard). */
function sameBytes(given: string, expected: Buffer): boolean {
  const givenBytes = Buffer.from(given, 'utf8');
  const sameLength = givenBytes.length === expected.length;
  const sameContent = timingSafeEqual(sameLength ? givenBytes : expected, expected);
  return sameLength && sameContent;
}
