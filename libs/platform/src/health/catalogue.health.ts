import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Catalogue } from '@app/catalogue';
import { CatalogueRebuildOnStart } from '../catalogue-rebuild';
import { CATALOGUE } from '../catalogue.token';
import { errorMessage, withTimeout } from './with-timeout';

/** Longest a readiness probe waits for the catalogue (a PostgreSQL away, a SQLite file locked). */
export const CATALOGUE_CHECK_TIMEOUT_MS = 2000;

/**
 * The run catalogue answers (SPEC §11): history, latest and cleanup read it, so a process
 * whose catalogue does not answer cannot serve. One cheap read (the counts, kept by triggers);
 * the details say the backend, how many runs, and how the start-up rebuild went. A rebuild
 * still going is no reason to be unready: the catalogue serves what it holds meanwhile.
 */
@Injectable()
export class CatalogueHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    // Every app has one (platformModules); a HealthModule mounted alone (its spec) has none.
    @Optional() @Inject(CATALOGUE) private readonly catalogue?: Catalogue,
    @Optional() private readonly rebuild?: CatalogueRebuildOnStart,
  ) {}

  get present(): boolean {
    return this.catalogue !== undefined;
  }

  async check(key = 'catalogue') {
    const check = this.indicators.check(key);
    if (!this.catalogue) return check.up({ message: 'no catalogue in this process' });
    const rebuild = this.rebuild?.state.state;
    try {
      const counts = await withTimeout(
        this.catalogue.counts(),
        CATALOGUE_CHECK_TIMEOUT_MS,
        'the run catalogue',
      );
      const runs = Object.values(counts.runs).reduce((sum, n) => sum + n, 0);
      return check.up({ backend: this.catalogue.backend, runs, ...(rebuild && { rebuild }) });
    } catch (error) {
      return check.down({ backend: this.catalogue.backend, message: errorMessage(error) });
    }
  }
}
