import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { ResultDocument } from '@app/backtest';
import { call, TaskAccepted, waitForTask } from './support/api-client';
import { AppProcess, REPO_ROOT, startApp } from './support/app-process';
import { launchChromium, saveScreenshot, watchPage } from './support/browser';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';

/**
 * SPEC §14's size figure, in Chromium against the built API and worker: the report of a year
 * of one-minute candles for ten symbols (seeded data, volume_long_candle defaults) loads at
 * most 5 MB into the browser before its first chart, counted by the page's own resource
 * timing; the time to the first chart is printed, not asserted. Zooming in then reads the
 * candles themselves from /api/data/candles.
 */

jest.setTimeout(300_000);

const SYMBOLS = Array.from({ length: 10 }, (_, i) => `YEAR${i + 1}_KRW`);
const BUDGET_BYTES = 5_000_000;
const execFileAsync = promisify(execFile);

/**
 * Ten seeded year files, one per symbol, written by a node child with the built data library
 * (under Jest the library runs far slower than under node). The KST calendar year 2023.
 */
async function writeYearData(dataRoot: string): Promise<void> {
  const library = join(REPO_ROOT, 'dist/libs/data/src/index.js');
  const script = `
    const { candleFileLocation, generateCandles, TIMEFRAME_MS, writeCandleFile } = require(${JSON.stringify(library)});
    const [dataRoot, ...symbols] = process.argv.slice(1);
    (async () => {
      const startMs = Date.UTC(2022, 11, 31, 15);
      const count = (Date.UTC(2023, 11, 31, 15) - startMs) / TIMEFRAME_MS['1M'];
      for (const [i, symbol] of symbols.entries()) {
        const candles = generateCandles({ count, startMs, stepMs: TIMEFRAME_MS['1M'], seed: 101 + i });
        await writeCandleFile(candleFileLocation(dataRoot, symbol, '1M', 2023).absolutePath, candles);
      }
    })().catch((error) => { console.error(error); process.exit(1); });`;
  await execFileAsync(process.execPath, ['-e', script, dataRoot, ...SYMBOLS]);
}

interface FirstChart {
  /** ms from the navigation's start to the first chart painted. */
  atMs: number;
  /** Response bytes (bodies as sent) of the page and every request done by then. */
  bytes: number;
  requests: number;
  /** Their URLs. */
  names: string[];
}

describe('the report of ten symbols × a year of one-minute candles', () => {
  let redis: PrivateRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let browser: Browser;
  let dataRoot: string;
  let resultsDir: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dataRoot = mkdtempSync(join(tmpdir(), 'coin-size-data-'));
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-size-results-'));
    await writeYearData(dataRoot);
    const env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: 'reports-size',
      WORKER_CONCURRENCY: '1',
    };
    [api, worker, browser] = await Promise.all([
      startApp('api', env),
      startApp('worker', env),
      launchChromium(),
    ]);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([worker?.stop(), api?.stop()]);
    await redis?.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it('loads at most 5 MB before the first chart, every marker drawn, detail read as it zooms', async () => {
    const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
      body: {
        strategy: 'volume_long_candle',
        symbols: SYMBOLS,
        timeframe: '1M',
        start_date: '2023-01-01',
        end_date: '2023-12-31',
      },
    });
    const runId = submitted.body.task_id;
    expect((await waitForTask(api.url, runId, 240_000)).status).toBe('completed');
    const result = (await call<ResultDocument>(api.url, 'GET', `/api/backtests/${runId}`)).body;
    expect(result.symbols.map((symbol) => symbol.candles)).toEqual(SYMBOLS.map(() => 525_600));

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchPage(page);
    await page.goto(`${api.url}/ui/runs/${runId}`);
    await page.waitForFunction(() => performance.getEntriesByName('first-chart').length > 0, null, {
      timeout: 60_000,
    });
    const first = await page.evaluate((): FirstChart => {
      type Timing = { name: string; encodedBodySize: number; responseEnd: number };
      const mark = performance.getEntriesByName('first-chart')[0].startTime;
      const navigation = performance.getEntriesByType(
        'navigation' as never,
      )[0] as unknown as Timing;
      const resources = (performance.getEntriesByType('resource') as unknown as Timing[]).filter(
        (entry) => entry.responseEnd <= mark,
      );
      return {
        atMs: mark,
        bytes: resources.reduce(
          (sum, entry) => sum + entry.encodedBodySize,
          navigation.encodedBodySize,
        ),
        requests: resources.length,
        names: resources.map((entry) => entry.name),
      };
    });
    process.stdout.write(
      `report of ${SYMBOLS.length} symbols × 525,600 one-minute candles: ` +
        `${(first.bytes / 1e6).toFixed(2)} MB in ${first.requests + 1} responses before the first chart, ` +
        `first chart at ${first.atMs.toFixed(0)} ms\n`,
    );
    // What was counted holds the chart data itself.
    expect(first.names.some((name) => name.endsWith(`/api/backtests/${runId}/chart.json`))).toBe(
      true,
    );
    expect(first.bytes).toBeLessThanOrEqual(BUDGET_BYTES);

    await page.waitForSelector(
      'body[data-state="done"][data-charts="drawn"][data-tables="drawn"]',
      {
        timeout: 120_000,
      },
    );
    for (const symbol of result.symbols) {
      const chart = page.locator(`.chart[data-symbol="${symbol.symbol}"]`);
      // Every trade's entry and exit: as markers, or as counts per bar past the cap.
      expect(await chart.getAttribute('data-entry-count')).toBe(String(symbol.samples));
      expect(await chart.getAttribute('data-exit-count')).toBe(String(symbol.samples));
    }

    // Zoomed in on the first chart until its candles fit one window: the candles themselves.
    const chart = page.locator('.chart').first();
    const box = (await chart.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 4);
    for (let wheel = 0; wheel < 120; wheel++) {
      if ((await chart.getAttribute('data-view'))?.startsWith('detail')) break;
      await page.mouse.wheel(0, -400);
      await page.waitForTimeout(60);
    }
    await page.waitForSelector('.chart[data-view^="detail"]', { timeout: 20_000 });
    expect(watch.requests.some((request) => request.url().includes('/api/data/candles?'))).toBe(
      true,
    );
    await saveScreenshot(page, 'run-report-zoomed', { selector: '.chart' });
    expect(watch.errors).toEqual([]);
    await page.close();
  });
});
