import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppConfig } from '@app/config';
import {
  exitOnStartupFailure,
  httpServerOptions,
  listenWithLimits,
  readConfigOrExit,
} from '@app/platform';
import { WorkerModule } from './worker.module';

/**
 * The worker process: `node dist/apps/worker/src/main.js`. Reads `.env` when there is one,
 * the configuration once (a bad value stops start-up naming it), then consumes the queue and
 * serves /health and /metrics on WORKER_HEALTH_PORT. SIGTERM/SIGINT drain it (see
 * BacktestProcessor) and it exits 0.
 */
export async function bootstrapWorker(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    WorkerModule.forRoot(config),
    new FastifyAdapter(httpServerOptions(config)),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  // process.exit(0) once the hooks ran, rather than re-raising the signal (exit code 143).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await listenWithLimits(app, config, config.workerHealthPort, 'The worker’s probes');
  return app;
}

if (require.main === module) {
  bootstrapWorker(readConfigOrExit()).catch(exitOnStartupFailure('The worker'));
}
