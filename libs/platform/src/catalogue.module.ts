import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Catalogue, openCatalogue } from '@app/catalogue';
import { AppConfig } from '@app/config';
import { APP_CONFIG } from './config.module';

/** Injection token of the process's run catalogue (SPEC §11). */
export const CATALOGUE = Symbol('CATALOGUE');

/** Injects the catalogue: `@InjectCatalogue() catalogue: Catalogue`. */
export const InjectCatalogue = (): ParameterDecorator => Inject(CATALOGUE);

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
 * start-up (a catalogue that cannot be opened stops the process with the reason).
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
  ],
  exports: [CATALOGUE],
})
export class CatalogueModule {}
