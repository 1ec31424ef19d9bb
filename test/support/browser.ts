import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium, ConsoleMessage, Page, Request } from 'playwright-core';
import { REPO_ROOT } from './app-process';

// The page callbacks below run in the browser. The project compiles without the DOM library
// (it is a Node service), so these are the few DOM names they use.
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  } | null;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<PageCanvas>;
  body: { dataset: Record<string, string | undefined> } | null;
};
declare const window: { reportStates?: string[] };
declare const MutationObserver: new (callback: () => void) => {
  observe(target: unknown, options: Record<string, unknown>): void;
};

/**
 * Debian's Chromium, headless, driven by playwright-core (a browser download cannot work on
 * these machines). The flags keep it from reaching out to anything but the pages it is given.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** What a page said and asked for while a test watched it. */
export interface PageWatch {
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
  requests: Request[];
}

export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { errors: [], requests: [] };
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') {
      watch.errors.push(`${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => watch.errors.push(`uncaught: ${error.message}`));
  page.on('request', (request) => watch.requests.push(request));
  return watch;
}

/** Records every value body[data-state] takes, from the page's start (see recordedStates). */
export async function recordStates(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const states: string[] = [];
    window.reportStates = states;
    new MutationObserver(() => {
      const state = document.body?.dataset.state;
      if (state && states.at(-1) !== state) states.push(state);
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-state'] });
  });
}

export function recordedStates(page: Page): Promise<string[]> {
  return page.evaluate(() => window.reportStates ?? []);
}

/**
 * Pixels of canvases (those `selector` matches) that are not background: how many (sampled), how many colours,
 * and whether given colours (within a small distance) are among them.
 */
export interface CanvasInk {
  inked: number;
  colours: number;
  found: Record<string, boolean>;
}

export function sampleCanvases(
  page: Page,
  selector: string,
  wanted: Record<string, [number, number, number]>,
): Promise<CanvasInk> {
  return page.evaluate(
    ({ selector, wanted }) => {
      const found: Record<string, boolean> = Object.fromEntries(
        Object.keys(wanted).map((name) => [name, false]),
      );
      const colours = new Set<number>();
      let inked = 0;
      for (const canvas of document.querySelectorAll(selector)) {
        if (canvas.width === 0 || canvas.height === 0) continue;
        const context = canvas.getContext('2d');
        if (!context) continue;
        const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 0; i < data.length; i += 4 * 3) {
          const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
          if (a < 128 || (r > 240 && g > 240 && b > 240)) continue;
          inked += 1;
          colours.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
          for (const [name, [wr, wg, wb]] of Object.entries(wanted)) {
            if (Math.abs(r - wr) + Math.abs(g - wg) + Math.abs(b - wb) < 30) found[name] = true;
          }
        }
      }
      return { inked, colours: colours.size, found };
    },
    { selector, wanted },
  );
}

/**
 * Saves a screenshot of the page. The committed ones in docs/screenshots/ are replaced only
 * with UPDATE_SCREENSHOTS=1: a plain test run must leave the checkout as it found it (PNG
 * bytes differ from run to run), so it writes them under the system's temp folder.
 */
export async function saveScreenshot(
  page: Page,
  name: string,
  options: { selector?: string; height?: number } = {},
): Promise<string> {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? join(REPO_ROOT, 'docs', 'screenshots')
      : join(tmpdir(), 'coin-backtest-screenshots');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  if (options.selector) {
    await page.locator(options.selector).first().screenshot({ path });
  } else {
    const width = page.viewportSize()?.width ?? 1280;
    await page.screenshot({
      path,
      clip: { x: 0, y: 0, width, height: options.height ?? 900 },
      fullPage: true,
    });
  }
  return path;
}

/** The colours the report pages draw with (report.css and run-page.js). */
export const REPORT_COLOURS = {
  up: [38, 166, 154] as [number, number, number],
  down: [239, 83, 80] as [number, number, number],
  equity: [41, 98, 255] as [number, number, number],
};
