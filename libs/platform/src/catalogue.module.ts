import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Catalogue, openCatalogue } from '@app/catalogue';
import { AppConfig } from '@app/config';
import { CatalogueRebuildOnStart } from './catalogue-rebuild';
import { CATALOGUE } from './catalogue.token';
import { APP_CONFIG } from './config.module';

export { CATALOGUE, InjectCatalogue } from './catalogue.token';

/** Closes the catalogue last, once everything that writes to it has stopped. */
@Injectable()
class CatalogueLifecycle implements OnApplicationShutdown {
  constructor(@Inject(CATALOGUE) private readonly catalogue: Catalogue) {}

  async onApplicationShutdown(): Promise<void> {
    await this.catalogue.close();
  }
}

/**
 * The run catalogue of every process: the SQLite file at CATALOG_PATH (shared by the
 * processes of one host), or PostgreSQL when DATABASE_URL is set; opened and migrated at
 * start-up (a catalogue that cannot be opened stops the process with the reason), then healed
 * from RESULTS_DIR in the background (CatalogueRebuildOnStart).
 */
@Global()
@Module({
  providers: [
    {
      provide: CATALOGUE,
      useFactory: (config: AppConfig): Promise<Catalogue> =>
        openCatalogue({ catalogPath: config.catalogPath, databaseUrl: config.databaseUrl }),
      inject: [APP_CONFIG],
    },
    CatalogueLifecycle,
    CatalogueRebuildOnStart,
  ],
  exports: [CATALOGUE, CatalogueRebuildOnStart],
})
export class CatalogueModule {}
