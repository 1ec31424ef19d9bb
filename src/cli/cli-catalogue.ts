import { Catalogue, openCatalogue } from '@app/catalogue';
import type { AppConfig } from '@app/config';

/**
 * The run catalogue as a command opens it (imported only by the commands that use it): the
 * connection in this thread (`inline`: a command has no event loop to keep free), no answers
 * cached, one PostgreSQL connection.
 */
export function openCliCatalogue(config: AppConfig): Promise<Catalogue> {
  return openCatalogue({
    catalogPath: config.catalogPath,
    databaseUrl: config.databaseUrl,
    sqliteMode: 'inline',
    readCacheEntries: 0,
    poolSize: 2,
  });
}

/** Where the catalogue is, for messages (never a PostgreSQL password). */
export function catalogueLocation(config: AppConfig): string {
  if (config.databaseUrl === undefined || config.databaseUrl === '') return config.catalogPath;
  try {
    const url = new URL(config.databaseUrl);
    url.password = '';
    return url.toString();
  } catch {
    return 'DATABASE_URL';
  }
}
