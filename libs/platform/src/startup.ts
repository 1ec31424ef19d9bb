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
