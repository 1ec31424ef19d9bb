import { ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { loadConfig } from '@app/config';
import { ApiKeyGuard } from './api-key.guard';

/** A request as Fastify hands it over: its URL, and the pattern of the route that matched. */
function contextFor(
  url: string,
  headers: Record<string, string> = {},
  route: string = url.split('?')[0],
): ExecutionContext {
  const request = { url, headers, routeOptions: { url: route } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

describe('ApiKeyGuard', () => {
  const guarded = new ApiKeyGuard(loadConfig({ API_KEY: 'let-me-in' }));

  it('lets everything through when API_KEY is not set', () => {
    const open = new ApiKeyGuard(loadConfig({}));
    expect(open.canActivate(contextFor('/api/strategies'))).toBe(true);
  });

  it('needs the key on every /api route', () => {
    for (const url of ['/api', '/api/strategies', '/api/backtests/history?limit=1']) {
      expect(() => guarded.canActivate(contextFor(url))).toThrow(UnauthorizedException);
      expect(() => guarded.canActivate(contextFor(url, { 'x-api-key': 'let-me-i' }))).toThrow(
        /does not match/,
      );
      expect(() => guarded.canActivate(contextFor(url, { 'x-api-key': 'let-me-in!' }))).toThrow(
        /does not match/,
      );
      expect(guarded.canActivate(contextFor(url, { 'x-api-key': 'let-me-in' }))).toBe(true);
    }
  });

  it('judges by the route that matched, so a percent-encoded path cannot slip past', () => {
    expect(() =>
      guarded.canActivate(contextFor('/%61pi/strategies', {}, '/api/strategies')),
    ).toThrow(UnauthorizedException);
  });

  it('keeps /, /health*, /docs* and /metrics open', () => {
    for (const url of [
      '/',
      '/health',
      '/health/ready',
      '/docs',
      '/docs-json',
      '/metrics',
      '/apidocs',
    ]) {
      expect(guarded.canActivate(contextFor(url))).toBe(true);
    }
  });
});
