import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * Content-Security-Policy that Swagger UI at /docs still works under: its page carries
 * inline styles and data: images; every script is a file of its own.
 */
const CONTENT_SECURITY_POLICY = {
  directives: {
    defaultSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    scriptSrc: ["'self'"],
    // The service is often reached over plain HTTP (localhost, a private network).
    upgradeInsecureRequests: null,
  },
};

/**
 * Helmet's security headers (CSP, X-Frame-Options, X-Content-Type-Options, HSTS...), worked
 * out once. None of them depends on the request, yet @fastify/helmet ran Helmet's whole
 * middleware on every request, parsing the CSP directives and rebuilding the same values each
 * time: about a quarter of a status read's CPU time (`npm run bench:http`). Helmet itself
 * still decides the headers; it writes them into this map instead of a response.
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const collector = {
    setHeader(name: string, value: string | number | readonly string[]): void {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    // Helmet removes X-Powered-By, which Fastify never sets.
    removeHeader(): void {},
  };
  helmet({ contentSecurityPolicy: CONTENT_SECURITY_POLICY })(
    {} as IncomingMessage,
    collector as unknown as ServerResponse,
    // Helmet hands a bad option to `next` as an Error (at start-up, here, not per request).
    (error?: unknown) => {
      if (error) throw error as Error;
    },
  );
  return Object.freeze(headers);
}
