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
  private readonly expected: Buffer | undefined;

  constructor(@InjectConfig() config: AppConfig) {
    this.expected = config.apiKey === undefined ? undefined : Buffer.from(config.apiKey, 'utf8');
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // The route that matched, not the raw URL: Fastify decodes the path before routing, so
    // `/%61pi/strategies` reaches the /api/strategies handler while its URL says otherwise.
    const route = request.routeOptions.url ?? request.url;
    if (!PROTECTED_PATH.test(route) || OPEN_API_ROUTES.has(route)) return true;
    const given = request.headers[API_KEY_HEADER];
    if (typeof given !== 'string' || given === '') {
      throw new UnauthorizedException(
        'This route needs an API key: send it in the X-API-Key header',
      );
    }
    if (!sameBytes(given, this.expected)) {
      throw new UnauthorizedException('The X-API-Key header does not match the API key');
    }
    return true;
  }
}

/** The header equals the key: constant time, whatever the lengths (see ApiKeyGuard). */
function sameBytes(given: string, expected: Buffer): boolean {
  const givenBytes = Buffer.from(given, 'utf8');
  const sameLength = givenBytes.length === expected.length;
  const sameContent = timingSafeEqual(sameLength ? givenBytes : expected, expected);
  return sameLength && sameContent;
}
