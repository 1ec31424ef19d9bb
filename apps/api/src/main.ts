import { exitOnStartupFailure, readConfigOrExit } from '@app/platform';
import { createApiApp } from './api-app';

/** The API process: `node dist/apps/api/src/main.js` (`npm run start:api`). */
async function main(): Promise<void> {
  const config = readConfigOrExit();
  const app = await createApiApp(config);
  await app.listen({ port: config.port, host: config.host });
}

main().catch(exitOnStartupFailure('The API'));
