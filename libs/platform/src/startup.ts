import type { Server } from 'node:http';
import { INestApplication, Logger } from '@nestjs/common';
import { AppConfig, ConfigError, loadConfig, loadEnvFile } from '@app/config';

/**
 * A process's start: reads the variables of ENV_FILE (default `.env`, when it exists; empty
 * for none) into the environment without overriding what is set, then the configuration,
 * once. A bad value stops the process here, with a message naming each variable, before
 * anything starts.
 */
export function readConfigOrExit(): AppConfig {
  loadEnvFile();
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** The last word of a process that could not start: the reason, never a half-started service. */
export function exitOnStartupFailure(what: string): (error: unknown) => never {
  return (error: unknown) => {
    process.stderr.write(
      `${what} failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  };
}

/**
 * Fastify's server options for the HTTP limits of the configuration (issue 10, item 9):
 * headers within HTTP_HEADERS_TIMEOUT_S and the whole request, body included, within
 * HTTP_REQUEST_TIMEOUT_S, each answered 408 and closed. Fastify's default requestTimeout of 0
 * let a client trickling a body hold its connection for as long as it liked. Node checks the
 * timeouts every connectionsCheckingInterval (30 s by default): once a second here, so that
 * a timeout means what it says.
 */
export function httpServerOptions(config: AppConfig): {
  requestTimeout: number;
  http: { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number };
} {
  // Node requires requestTimeout ≥ headersTimeout.
  const requestTimeout = Math.max(config.httpRequestTimeoutMs, config.httpHeadersTimeoutMs);
  return {
    requestTimeout,
    http: {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout,
      connectionsCheckingInterval: Math.min(1000, config.httpHeadersTimeoutMs),
    },
  };
}

/**
 * Listens on HOST:PORT with at most HTTP_MAX_CONNECTIONS open connections (the timeouts are
 * the server's options, httpServerOptions), and says so (issue 10, item 9): "listening on
 * HOST:PORT", and the signal that starts a shutdown when it comes.
 */
export async function listenWithLimits(
  app: INestApplication,
  config: AppConfig,
  port: number,
  what: string,
): Promise<void> {
  const server = app.getHttpServer() as Server;
  server.maxConnections = config.httpMaxConnections;
  await app.listen(port, config.host);
  const logger = new Logger('Startup');
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  logger.log(`${what} listening on ${config.host}:${bound}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () =>
      logger.log(`${signal} received: ${what} stops taking requests and shuts down`),
    );
  }
}
