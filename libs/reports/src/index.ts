/**
 * @app/reports: the report pages of SPEC §14, for the API's /ui routes (live) and the CLI's
 * --report files (static). Plain TypeScript over the build's assets; no Nest.
 */
export { escapeHtml, renderPage } from './page';
export type { PageKind, PageOptions, RenderedPage } from './page';
export { renderRunReport } from './run-report';
export { renderSweepReport } from './sweep-report';
export type {
  SweepCombination,
  SweepParamValue,
  SweepReportInput,
  SweepReportOptions,
} from './sweep-report';
