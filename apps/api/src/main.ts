import { existsSync } from 'node:fs';
import { AppConfig, ConfigError, loadConfig } from '@app/config';
import { createApiApp } from './api-app';

/**
 * Reads `.env` (when there is one) into the environment, then the configuration once. A bad
 * value stops the process here with a message naming each variable, before anything starts.
 */
export function loadConfigOrExit(envFile = '.env'): AppConfig {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createApiApp(config);
  await app.listen({ port: config.port, host: '0.0.0.0' });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `The API failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  });
}
