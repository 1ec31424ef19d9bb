import { exitOnStartupFailure, listenWithLimits, readConfigOrExit } from '@app/platform';
import { createApiApp } from '../../api/src/api-app';
import { WorkerModule } from '../../worker/src/worker.module';

/**
 * `npm start`: the API and a worker in one process, for small installs. This composition root
 * is the one place that knows both apps: the worker's consumer, reconciler and cleanup run on
 * the API's infrastructure (configuration, logger, Redis, queue); everything is served on
 * PORT. To scale, run `start:api` and any number of `start:worker` processes instead.
 */
async function main(): Promise<void> {
  const config = readConfigOrExit();
  const app = await createApiApp(config, [WorkerModule.features(config)]);
  await listenWithLimits(app, config, config.port, 'The service (API and worker)');
}

main().catch(exitOnStartupFailure('The service'));
