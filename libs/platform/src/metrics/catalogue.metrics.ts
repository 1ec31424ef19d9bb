import { Inject, Injectable, Optional } from '@nestjs/common';
import { Gauge } from 'prom-client';
import type { Catalogue, CatalogueCounts } from '@app/catalogue';
import { CATALOGUE } from '../catalogue.token';
import { withTimeout } from '../health/with-timeout';
import { MetricsService } from './metrics.service';

/** A scrape must answer even while the catalogue does not. */
export const CATALOGUE_COUNT_TIMEOUT_MS = 1000;

/**
 * `backtest_catalogue_runs{status}`, `backtest_catalogue_presets`,
 * `backtest_catalogue_sweeps{status}`: what the run catalogue holds, read when Prometheus
 * scrapes (one cheap read: the counts are kept by triggers, not counted). One read serves the
 * three gauges of a scrape. While the catalogue does not answer the series are absent.
 */
@Injectable()
export class CatalogueMetrics {
  private pending: Promise<CatalogueCounts> | undefined;

  constructor(
    metrics: MetricsService,
    // Every app has one (platformModules); a MetricsModule mounted alone has none.
    @Optional() @Inject(CATALOGUE) catalogue?: Catalogue,
  ) {
    if (!catalogue) return;
    const read = (): Promise<CatalogueCounts> => {
      this.pending ??= withTimeout(
        catalogue.counts(),
        CATALOGUE_COUNT_TIMEOUT_MS,
        'catalogue counts',
      ).finally(() => setImmediate(() => (this.pending = undefined)));
      return this.pending;
    };
    const byStatus = (name: string, help: string, pick: (c: CatalogueCounts) => object) =>
      new Gauge({
        name,
        help,
        labelNames: ['status'] as const,
        registers: [metrics.registry],
        async collect() {
          try {
            for (const [status, n] of Object.entries(pick(await read())))
              this.set({ status }, n as number);
          } catch {
            this.reset();
          }
        },
      });
    byStatus('backtest_catalogue_runs', 'Runs in the run catalogue, by status', (c) => c.runs);
    byStatus(
      'backtest_catalogue_sweeps',
      'Sweeps in the run catalogue, by status',
      (c) => c.sweeps,
    );
    new Gauge({
      name: 'backtest_catalogue_presets',
      help: 'Presets in the run catalogue',
      registers: [metrics.registry],
      async collect() {
        try {
          this.set((await read()).presets);
        } catch {
          this.reset();
        }
      },
    });
  }
}
