import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { ResultDocument } from '@app/backtest';
import { renderSweepReport, SweepCombination, SweepReportInput } from '@app/reports';
import { call, TaskAccepted, TaskState } from './support/api-client';
import { AppProcess, ENTRY, REPO_ROOT, startApp } from './support/app-process';
import {
  launchChromium,
  PageWatch,
  recordedStates,
  recordStates,
  REPORT_COLOURS,
  sampleCanvases,
  saveScreenshot,
  watchPage,
} from './support/browser';
import { PrivateRedis, startPrivateRedis } from './support/redis-server';
import { sampleDataRoot } from './support/sample-data';
import { eventually, longTask, writeLongTaskData } from './support/task-harness';

/**
 * The report pages as a person sees them (SPEC §14), in Debian's headless Chromium against the
 * built API and worker with API_KEY set and a private redis-server: the key asked for once and
 * sent only as a header, charts drawn, one marker per entry and exit, the stats as the result
 * document has them, a running task's page turning into its report, no console errors. Each
 * kind of page leaves a screenshot (in docs/screenshots/ with UPDATE_SCREENSHOTS=1).
 */

jest.setTimeout(180_000);

const API_KEY = 'report-pages-key-0123456789';
const KEY_STORAGE = 'coin-backtest-api-key';
const REQUEST = {
  strategy: 'volume_long_candle',
  symbols: ['ETH_BTC', 'LTC_BTC', 'ADA_BTC'],
  timeframe: '5M',
  start_date: '2018-01-10',
  end_date: '2018-01-31',
};

/** Console errors that are the network's, expected by the test: Chrome logs each 4xx answer. */
function unexpected(watch: PageWatch, allowed: RegExp[] = []): string[] {
  return watch.errors.filter((error) => !allowed.some((pattern) => pattern.test(error)));
}

/** The figures a page shows under `selector`: the exact value (data-value) and the text. */
async function figuresShown(
  page: Page,
  selector: string,
): Promise<{ values: Record<string, unknown>; texts: Record<string, string> }> {
  const values: Record<string, unknown> = {};
  const texts: Record<string, string> = {};
  for (const cell of await page.locator(`${selector} dd[data-figure]`).all()) {
    const name = (await cell.getAttribute('data-figure'))!;
    values[name] = JSON.parse((await cell.getAttribute('data-value'))!);
    texts[name] = (await cell.textContent())!;
  }
  return { values, texts };
}

function expectShownAs(shown: Record<string, string>, figures: object): void {
  for (const [name, value] of Object.entries(figures)) {
    const text = shown[name];
    if (value === null) expect(text).toBe('—');
    else if (typeof value === 'number') {
      const read = Number(text.replace(/,/g, ''));
      expect(Math.abs(read - value)).toBeLessThanOrEqual(Math.abs(value) * 1e-5 + 1e-12);
    } else expect(text).toBe(JSON.stringify(value));
  }
}

/** A symbol's figures as the result document has them: its metrics and stats, by name. */
function figuresOf(symbol: ResultDocument['symbols'][number]): Record<string, unknown> {
  const { signals: _s, performance_curve: _c, stats, symbol: _name, ...metrics } = symbol;
  return { ...metrics, ...stats };
}

async function expectChartsMatch(page: Page, result: ResultDocument): Promise<void> {
  for (const symbol of result.symbols) {
    const chart = page.locator(`.chart[data-symbol="${symbol.symbol}"]`);
    // Not capped here: one entry and one exit marker per trade.
    expect(await chart.getAttribute('data-entry-markers')).toBe(String(symbol.samples));
    expect(await chart.getAttribute('data-exit-markers')).toBe(String(symbol.samples));
    const ink = await sampleCanvases(
      page,
      `.chart[data-symbol="${symbol.symbol}"] canvas`,
      REPORT_COLOURS,
    );
    expect(ink.inked).toBeGreaterThan(2000);
    expect(ink.colours).toBeGreaterThan(10);
    expect(ink.found).toEqual({ up: true, down: true, equity: true });
    const shown = await figuresShown(page, `#symbol-${symbol.symbol} .stats`);
    expect(shown.values).toEqual(figuresOf(symbol));
    expectShownAs(shown.texts, figuresOf(symbol));
  }
  const portfolio = await figuresShown(page, '#portfolio');
  expect(portfolio.values).toEqual(result.portfolio);
  expectShownAs(portfolio.texts, result.portfolio);
}

describe('report pages in Chromium (real API with API_KEY, worker, Redis)', () => {
  let redis: PrivateRedis;
  let api: AppProcess;
  let worker: AppProcess;
  let browser: Browser;
  let dataRoot: string;
  let resultsDir: string;
  let runId: string;
  let result: ResultDocument;
  const headers = { 'x-api-key': API_KEY };

  /** Polls the task (with the key) until it has finished. */
  async function finished(taskId: string): Promise<TaskState> {
    let state: TaskState | undefined;
    await eventually(
      async () => {
        state = (
          await call<TaskState>(api.url, 'GET', `/api/backtests/status/${taskId}`, { headers })
        ).body;
        return ['completed', 'failed', 'cancelled'].includes(state.status);
      },
      60_000,
      `task ${taskId} to finish`,
    );
    return state!;
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    dataRoot = mkdtempSync(join(tmpdir(), 'coin-ui-data-'));
    cpSync(await sampleDataRoot(), dataRoot, { recursive: true });
    await writeLongTaskData(dataRoot);
    resultsDir = mkdtempSync(join(tmpdir(), 'coin-ui-results-'));
    const env = {
      REDIS_URL: redis.url,
      DATA_ROOT: dataRoot,
      RESULTS_DIR: resultsDir,
      QUEUE_NAME: 'reports-ui',
      WORKER_CONCURRENCY: '1',
      API_KEY,
    };
    [api, worker, browser] = await Promise.all([
      startApp('api', env),
      startApp('worker', env),
      launchChromium(),
    ]);
    const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
      body: REQUEST,
      headers,
    });
    runId = submitted.body.task_id;
    expect((await finished(runId)).status).toBe('completed');
    result = (await call<ResultDocument>(api.url, 'GET', `/api/backtests/${runId}`, { headers }))
      .body;
    expect(result.symbols.every((symbol) => symbol.samples > 0)).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([worker?.stop(), api?.stop()]);
    await redis?.dispose();
    rmSync(resultsDir, { recursive: true, force: true });
    rmSync(dataRoot, { recursive: true, force: true });
  });

  /** A page whose tab already holds the key (as after the prompt), so it is never asked. */
  async function pageWithKey(): Promise<{ page: Page; watch: PageWatch }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript(([name, key]) => sessionStorage.setItem(name, key), [
      KEY_STORAGE,
      API_KEY,
    ] as const);
    return { page, watch: watchPage(page) };
  }

  it('asks for the key once, sends it only as X-API-Key, and draws the run as the document says', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const watch = watchPage(page);
    await page.goto(`${api.url}/ui/runs/${runId}`);
    const form = page.locator('#key-form');
    await form.waitFor({ state: 'visible' });
    expect(await form.textContent()).toMatch(/needs an API key/);
    await page.fill('#key-form input', API_KEY);
    await page.click('#key-form button');
    await page.waitForSelector('body[data-state="done"][data-charts="drawn"][data-tables="drawn"]');
    expect(await form.isHidden()).toBe(true);

    const apiRequests = watch.requests.filter((request) =>
      new URL(request.url()).pathname.startsWith('/api/'),
    );
    // The first request went without a key (401), every one after it with the key, in the header.
    expect(apiRequests[0].headers()['x-api-key']).toBeUndefined();
    expect(apiRequests.slice(1).length).toBeGreaterThan(2);
    for (const request of apiRequests.slice(1))
      expect(request.headers()['x-api-key']).toBe(API_KEY);
    for (const request of watch.requests) expect(request.url()).not.toContain(API_KEY);
    expect(await page.evaluate((name) => sessionStorage.getItem(name), KEY_STORAGE)).toBe(API_KEY);
    // Zoomed to a window the candles fit in, the chart shows the candles themselves.
    expect(apiRequests.some((request) => request.url().includes('/api/data/candles?'))).toBe(true);

    await expectChartsMatch(page, result);
    // The trades table sorts: by return, lowest first, then highest first.
    const busiest = [...result.symbols].sort((a, b) => b.samples - a.samples)[0];
    const returns = busiest.signals.map((signal) => signal.return_pct * 100);
    const table = page.locator(`#symbol-${busiest.symbol} .trades table`);
    expect(await table.locator('tbody tr').count()).toBe(Math.min(100, busiest.samples));
    await table.locator('th button', { hasText: 'return %' }).click();
    const firstReturn = async () =>
      Number(
        (await table.locator('tbody tr').first().locator('td').nth(6).textContent())!.replace(
          /,/g,
          '',
        ),
      );
    expect(await firstReturn()).toBeCloseTo(Math.min(...returns), 4);
    await table.locator('th button', { hasText: 'return %' }).click();
    expect(await firstReturn()).toBeCloseTo(Math.max(...returns), 4);

    expect(unexpected(watch, [/status of 401/])).toEqual([]);
    expect(watch.errors.filter((error) => /status of 401/.test(error))).toHaveLength(1);
    await saveScreenshot(page, 'run-report', { height: 1400 });
    await page.close();
  });

  it('follows a running task live and turns into its report when it completes, without a reload', async () => {
    const submitted = await call<TaskAccepted>(api.url, 'POST', '/api/backtests/run-async', {
      body: longTask(12),
      headers,
    });
    const taskId = submitted.body.task_id;
    const { page, watch } = await pageWithKey();
    await recordStates(page);
    await page.goto(`${api.url}/ui/runs/${taskId}`);
    await page.waitForSelector('body[data-state="running"]', { timeout: 60_000 });
    const progress = page.locator('#status progress');
    await eventually(
      async () => Number(await progress.getAttribute('value')) > 0,
      60_000,
      'the progress bar to move',
    );
    await saveScreenshot(page, 'run-progress', { height: 300 });
    await page.waitForSelector('body[data-state="done"][data-charts="drawn"]', {
      timeout: 120_000,
    });
    const states = await recordedStates(page);
    expect(states.indexOf('running')).toBeGreaterThanOrEqual(0);
    expect(states.at(-1)).toBe('done');
    expect(states.indexOf('running')).toBeLessThan(states.indexOf('done'));
    expect(
      await page.evaluate(() => performance.getEntriesByType('navigation' as never).length),
    ).toBe(1);
    const events = watch.requests.filter((request) =>
      request.url().endsWith(`/status/${taskId}/events`),
    );
    expect(events.length).toBeGreaterThanOrEqual(1);
    for (const request of events) expect(request.headers()['x-api-key']).toBe(API_KEY);
    const done = (
      await call<ResultDocument>(api.url, 'GET', `/api/backtests/${taskId}`, { headers })
    ).body;
    expect(await page.locator('.chart').count()).toBe(done.symbols.length);
    // Before it completed, the run had no chart.json yet: the page asked, then followed the task.
    expect(unexpected(watch, [/status of 404.*chart\.json/])).toEqual([]);
    await page.close();
  });

  it('lists the recent runs on /ui, each linking its report', async () => {
    const { page, watch } = await pageWithKey();
    await page.goto(`${api.url}/ui`);
    await page.waitForSelector('body[data-state="done"]');
    const link = page.locator(`a[href="/ui/runs/${runId}"]`);
    expect(await link.count()).toBe(1);
    // The sweeps API may not be on this server: the page says so instead of failing.
    const sweeps = (await page.locator('#sweeps').textContent())!;
    const answer = await call(api.url, 'GET', '/api/sweeps?limit=50', { headers });
    if (answer.status === 404) expect(sweeps).toMatch(/no parameter sweeps/);
    else expect(sweeps).toMatch(/sweep\(s\)/);
    expect(unexpected(watch, [/status of 404.*\/api\/sweeps/])).toEqual([]);
    await saveScreenshot(page, 'index', { height: 600 });
    await link.click();
    await page.waitForSelector('body[data-state="done"][data-charts="drawn"]');
    await page.close();
  });

  describe('the sweep report, on answers shaped as SPEC §13 says', () => {
    const SWEEP_ID = '5b1f7e2a-9c3d-4e8f-a1b2-c3d4e5f60718';
    const windows = [10, 20, 30, 40];
    const multipliers = [1.5, 2, 2.5];
    const holds = [1, 2];
    const combinations: SweepCombination[] = [];
    for (const vol_ma_window of windows) {
      for (const vol_multiplier of multipliers) {
        for (const hold_period_bars of holds) {
          const index = combinations.length;
          const total =
            Math.round((vol_ma_window / 10 - vol_multiplier + hold_period_bars) * 100) / 100;
          combinations.push({
            index,
            params: { vol_ma_window, vol_multiplier, body_pct: 0.02, hold_period_bars },
            total_return_pct: total,
            trades: 10 + index,
            in_sample: { total_return_pct: total, trades: 7 + index },
            out_of_sample: { total_return_pct: Math.round(total * 60) / 100, trades: 3 },
          });
        }
      }
    }
    const ranked = (done: number) =>
      combinations
        .slice(0, done)
        .sort(
          (a, b) =>
            (b.total_return_pct as number) - (a.total_return_pct as number) || a.index - b.index,
        );
    const answer = (done: number): SweepReportInput => ({
      sweep_id: SWEEP_ID,
      status: done === combinations.length ? 'completed' : 'running',
      progress: done / combinations.length,
      combinations: combinations.length,
      done,
      best: ranked(done)[0] ?? null,
      top: ranked(done),
      validation: { method: 'holdout', test_ratio: 0.3 },
      error: null,
      objective: 'total_return_pct',
      request: {
        strategy: 'volume_long_candle',
        symbols: ['ETH_BTC'],
        timeframe: '5M',
        start_date: '2018-01-10',
        end_date: '2018-01-31',
        grid: { vol_ma_window: windows, vol_multiplier: multipliers, hold_period_bars: holds },
        objective: 'total_return_pct',
      },
    });

    it('fills in while chunks finish, then runs the best combination and tries to save it as a preset', async () => {
      const { page, watch } = await pageWithKey();
      // The sweeps API is another part of the service: its answers are served here as §13
      // shapes them, the first while half the combinations are done, the rest after an event.
      let reads = 0;
      await page.route(`**/api/sweeps/${SWEEP_ID}`, (route) => {
        reads += 1;
        void route.fulfill({ json: answer(reads === 1 ? 12 : combinations.length) });
      });
      let releaseEvent: () => void = () => undefined;
      const eventSent = new Promise<void>((resolve) => (releaseEvent = resolve));
      await page.route(`**/api/sweeps/${SWEEP_ID}/events`, async (route) => {
        await eventSent;
        await route.fulfill({
          headers: { 'content-type': 'text/event-stream' },
          body: `id: 1\ndata: ${JSON.stringify({ sweep_id: SWEEP_ID, status: 'completed', progress: 1 })}\n\n`,
        });
      });
      await page.goto(`${api.url}/ui/sweeps/${SWEEP_ID}?x=vol_ma_window&y=vol_multiplier`);
      await page.waitForSelector('body[data-heatmap="drawn"]');
      // Half done: the cells of the best's hold_period_bars among the first 12 combinations.
      const halfBest = ranked(12)[0];
      const halfCells = combinations
        .slice(0, 12)
        .filter((item) => item.params.hold_period_bars === halfBest.params.hold_period_bars).length;
      expect(await page.locator('#heatmap').getAttribute('data-cells')).toBe(String(halfCells));
      releaseEvent();
      await page.waitForSelector('body[data-state="done"]');
      expect(await page.locator('#heatmap').getAttribute('data-cells')).toBe(
        String(windows.length * multipliers.length),
      );
      // Every figure of this slice is positive: one hue, the best cell at full strength.
      const ink = await sampleCanvases(page, '#heatmap', { best: REPORT_COLOURS.equity });
      expect(ink.inked).toBeGreaterThan(5000);
      expect(ink.colours).toBeGreaterThan(5);
      expect(ink.found).toEqual({ best: true });
      expect(await page.locator('#top tbody tr').count()).toBe(combinations.length);
      expect(await page.locator('#scatter').getAttribute('data-points')).toBe(
        String(combinations.length),
      );
      expect(await page.locator('#summary').textContent()).toMatch(/24 of 24 combinations/);

      // Save as preset: whatever the presets route answers, the page says it.
      const saved = page.waitForResponse((response) =>
        response.url().endsWith('/api/strategies/presets'),
      );
      await page.click('#save-preset');
      const presetAnswer = await saved;
      const outcome = page.locator('#action-outcome');
      await outcome.filter({ hasText: /preset/ }).waitFor();
      if (presetAnswer.ok()) expect(await outcome.textContent()).toMatch(/Saved as preset/);
      else expect(await outcome.textContent()).toContain(`HTTP ${presetAnswer.status()}`);

      // Run the best combination: a real run of the API, linked from the page.
      const queued = page.waitForResponse((response) =>
        response.url().endsWith('/api/backtests/run-async'),
      );
      await page.click('#run-best');
      const runAnswer = await queued;
      expect(runAnswer.status()).toBe(202);
      const sent = runAnswer.request().postDataJSON() as { params: Record<string, number> };
      expect(sent.params).toEqual(ranked(combinations.length)[0].params);
      const { task_id } = (await runAnswer.json()) as TaskAccepted;
      expect(await page.locator(`#action-outcome a[href="/ui/runs/${task_id}"]`).count()).toBe(1);
      await saveScreenshot(page, 'sweep-report', { height: 1300 });
      expect(
        unexpected(
          watch,
          presetAnswer.ok() ? [] : [new RegExp(`status of ${presetAnswer.status()}`)],
        ),
      ).toEqual([]);
      await page.close();
      expect((await finished(task_id)).status).toBe('completed');
    });

    it('renders the same report as a file (cli sweep --report) with no server', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'coin-sweep-report-'));
      try {
        const file = join(dir, 'sweep.html');
        writeFileSync(
          file,
          renderSweepReport(answer(combinations.length), {
            x: 'vol_multiplier',
            y: 'hold_period_bars',
          }),
        );
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const watch = watchPage(page);
        await page.goto(pathToFileURL(file).href);
        await page.waitForSelector('body[data-state="done"][data-heatmap="drawn"]');
        expect(await page.locator('#heatmap').getAttribute('data-cells')).toBe(
          String(multipliers.length * holds.length),
        );
        expect(await page.locator('#actions').isHidden()).toBe(true);
        expect(watch.requests.every((request) => request.url().startsWith('file:'))).toBe(true);
        expect(unexpected(watch)).toEqual([]);
        await page.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('cli backtest --report writes a page that draws the same run with nothing but the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coin-cli-report-'));
    try {
      const file = join(dir, 'report.html');
      const run = spawnSync(
        process.execPath,
        [
          ENTRY.cli,
          'backtest',
          ...['--strategy', REQUEST.strategy, '--symbols', REQUEST.symbols.join(',')],
          ...[
            '--timeframe',
            REQUEST.timeframe,
            '--start',
            REQUEST.start_date,
            '--end',
            REQUEST.end_date,
          ],
          ...['--data-root', dataRoot, '--results-dir', dir, '--json', '--report', file],
        ],
        { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ENV_FILE: '' } },
      );
      expect(run.status).toBe(0);
      expect(run.stderr).toContain('Report:');
      const cliResult = JSON.parse(run.stdout) as ResultDocument;
      expect(readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const watch = watchPage(page);
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector(
        'body[data-state="done"][data-charts="drawn"][data-tables="drawn"]',
      );
      await expectChartsMatch(page, cliResult);
      expect(watch.requests.every((request) => request.url().startsWith('file:'))).toBe(true);
      expect(unexpected(watch)).toEqual([]);
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
