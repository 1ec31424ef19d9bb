import { AppConfig, loadConfig, loadEnvFile } from '@app/config';
import type { FlagValues } from './args';

/**
 * The configuration a command runs with: the environment (and ENV_FILE, default .env, read the
 * way every process reads it), with --data-root and --results-dir, when given, taking the
 * place of DATA_ROOT and RESULTS_DIR.
 */
export function cliConfig(flags: FlagValues): AppConfig {
  loadEnvFile();
  return loadConfig({
    ...process.env,
    ...(typeof flags['data-root'] === 'string' && { DATA_ROOT: flags['data-root'] }),
    ...(typeof flags['results-dir'] === 'string' && { RESULTS_DIR: flags['results-dir'] }),
  });
}
