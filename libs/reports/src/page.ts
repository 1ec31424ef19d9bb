import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The report pages (SPEC §14) as one HTML document each, with every script and style inline
 * and a Content-Security-Policy that allows exactly those (by hash) and nothing from another
 * origin. The same pages are served by the API at /ui (live: their data from /api) and written
 * by the CLI's --report (static: their data inside the page).
 */
export type PageKind = 'index' | 'run' | 'sweep';

export interface PageOptions {
  title: string;
  /** `live`: served by the API, reads /api; `static`: a file that carries its data. */
  mode: 'live' | 'static';
  /** What the page's script reads first (a run id, the heatmap's axes): JSON. */
  config?: Record<string, unknown>;
  /** A static page's data (what the live page would fetch). */
  data?: unknown;
}

export interface RenderedPage {
  html: string;
  /** For the HTTP header of a live page; a static page carries its own in a meta element. */
  contentSecurityPolicy: string;
}

interface Assets {
  css: string;
  scripts: Record<PageKind, string[]>;
}

let loaded: Assets | undefined;

/** The standalone build of lightweight-charts, read from its package (a runtime dependency). */
function chartLibrary(): string {
  const require = createRequire(__filename);
  const root = dirname(require.resolve('lightweight-charts/package.json'));
  return readFileSync(join(root, 'dist/lightweight-charts.standalone.production.js'), 'utf8');
}

/** The assets, read once per process (they are the build's, never the user's). */
function assets(): Assets {
  if (loaded) return loaded;
  const read = (name: string): string => readFileSync(join(__dirname, 'assets', name), 'utf8');
  const common = read('common.js');
  loaded = {
    css: read('report.css'),
    scripts: {
      index: [common, read('index-page.js')],
      run: [chartLibrary(), common, read('run-page.js')],
      sweep: [common, read('sweep-page.js')],
    },
  };
  return loaded;
}

const hashes = new Map<string, string>();

/** A CSP source for an inline script or style: the same few texts every time, hashed once. */
function sha256(text: string): string {
  let hash = hashes.get(text);
  if (hash === undefined) {
    hash = `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
    hashes.set(text, hash);
  }
  return hash;
}

/** Text for an HTML element or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** JSON inside <script type="application/json">: no "</script>" can end it early. */
function jsonBlock(id: string, value: unknown): string {
  const json = JSON.stringify(value ?? null)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return `<script type="application/json" id="${id}">${json}</script>`;
}

const BODY: Record<PageKind, string> = {
  index: `<section id="runs" class="card"><h2>Recent runs</h2></section>
<section id="sweeps" class="card"><h2>Recent sweeps</h2></section>`,
  run: '<section id="portfolio" class="card" hidden></section>',
  sweep: '',
};

export function renderPage(kind: PageKind, options: PageOptions): RenderedPage {
  const { css, scripts } = assets();
  const live = options.mode === 'live';
  const directives = [
    "default-src 'none'",
    `script-src ${[...new Set(scripts[kind].map(sha256))].join(' ')}`,
    `style-src ${sha256(css)}`,
    "img-src 'self' data:",
    `connect-src ${live ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    // A meta element cannot say frame-ancestors (browsers ignore it there, with a warning).
    ...(live ? ["frame-ancestors 'none'"] : []),
  ];
  const policy = directives.join('; ');
  const title = escapeHtml(options.title);
  const config = { mode: options.mode, ...options.config };
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
${live ? '' : `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(policy)}">\n`}<title>${title}</title>
<style>${css}</style>
</head>
<body data-state="loading">
<header>
<h1>${title}</h1>
<p class="subtitle" id="subtitle"></p>
${live ? '<nav><a href="/ui">All runs and sweeps</a></nav>' : '<p class="muted">Written by cli --report: the overview and markers of each chart, no zoom detail.</p>'}
</header>
<form id="key-form" class="key" hidden><label><span class="key-message"></span><input type="password" name="api-key" autocomplete="off" aria-label="API key"></label><button type="submit">Use key</button></form>
<p id="status" class="status" hidden></p>
${BODY[kind]}
<main id="content"></main>
<footer>Coin Backtesting API${kind === 'run' ? ' · charts drawn with TradingView Lightweight Charts™ (Apache-2.0), <a href="https://www.tradingview.com/">tradingview.com</a>' : ''}</footer>
${jsonBlock('page-config', config)}
${options.data === undefined ? '' : `${jsonBlock('report-data', options.data)}\n`}${scripts[kind].map((script) => `<script>${script}</script>`).join('\n')}
</body>
</html>
`;
  return { html, contentSecurityPolicy: policy };
}
