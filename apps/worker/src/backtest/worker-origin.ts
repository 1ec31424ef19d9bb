import { Provider } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { RunOrigin, workerIdOf } from '@app/backtest';
import { APP_CONFIG } from '@app/platform';

/** Injection token of this worker process's RunOrigin (host, environment, worker id). */
export const WORKER_ORIGIN = Symbol('WORKER_ORIGIN');

export const workerOriginProvider: Provider = {
  provide: WORKER_ORIGIN,
  useFactory: (config: AppConfig): RunOrigin => ({
    executionHost: config.executionHost,
    environment: config.environment,
    workerId: workerIdOf(config.executionHost),
  }),
  inject: [APP_CONFIG],
};
