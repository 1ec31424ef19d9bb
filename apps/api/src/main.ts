import { exitOnStartupFailure, listenWithLimits, readConfigOrExit } from '@app/platform';
import { createApiApp } from './api-app';

/** The API process: `node dist/apps/api/src/main.js` (`npm run start:api`). */
async function main(): Promise<void> {
  const config = readConfigOrExit();
  const app = await createApiApp(config);
  await listenWithLimits(app, config, config.port, 'The API');
}

main().catch(exitOnStartupFailure('The API'));
