import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBacktestRequest, runBacktest } from '@app/backtest';
import { ENTRY, REPO_ROOT } from './support/app-process';

/** `cli sweep` (built): in-process on worker threads, no Redis, no Nest, no BullMQ. */

const SAMPLE_DATA = join(REPO_ROOT, 'data');
const ARGS = [
  'sweep',
  '--strategy',
  'volume_long_candle',
  '--symbols',
  'ETH_BTC,LTC_BTC',
  '--timeframe',
  '5M',
  '--start',
  '2018-01-10',
  '--end',
  '2018-01-31',
  '--grid',
  '{"vol_multiplier":{"from":1,"to":3,"step":0.5},"body_pct":[0.005,0.01,0.02],"hold_period_bars":[1,6]}',
  '--validation',
  'holdout',
  '--data-root',
  SAMPLE_DATA,
];

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [ENTRY.cli, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ENV_FILE: '', REDIS_URL: 'redis://127.0.0.1:1/0' },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The document without what differs between two runs of the same sweep. */
function comparable(stdout: string): unknown {
  const { sweep_id, created_at, started_at, finished_at, execution_time, ...rest } = JSON.parse(
    stdout,
  ) as Record<string, unknown>;
  void [sweep_id, created_at, started_at, finished_at, execution_time];
  return rest;
}

describe('cli sweep (built)', () => {
  jest.setTimeout(120_000);
  let out: string;
  beforeAll(() => (out = mkdtempSync(join(tmpdir(), 'coin-cli-sweep-'))));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('one thread or two: the same document; the best is a single run’s figures; --out writes the folder', async () => {
    const one = cli([...ARGS, '--json', '--workers', '1']);
    const two = cli([
      ...ARGS,
      '--json',
      '--workers',
      '2',
      '--out',
      join(out, 'sweep'),
      '--report',
      join(out, 'sweep.html'),
    ]);
    expect([one.code, two.code]).toEqual([0, 0]);
    expect(comparable(two.stdout)).toEqual(comparable(one.stdout));
    expect(two.stderr).toMatch(
      /30 combinations in [\d.]+ s on 2 thread\(s\): [\d.]+ combinations\/s/,
    );
    const document = JSON.parse(one.stdout) as {
      top: Array<{
        index: number;
        params: Record<string, unknown>;
        in_sample: unknown;
        out_of_sample: unknown;
      }>;
    };
    expect(document.top).toHaveLength(30);
    const best = document.top[0];
    const origin = { environment: 'test', executionHost: 'here', workerId: null };
    const single = async (start_date: string, end_date: string) =>
      (
        await runBacktest(
          parseBacktestRequest({
            strategy: 'volume_long_candle',
            params: best.params,
            symbols: ['ETH_BTC', 'LTC_BTC'],
            timeframe: '5M',
            start_date,
            end_date,
          }),
          { dataRoot: SAMPLE_DATA, runId: 'x', origin },
        )
      ).result.portfolio;
    expect(best.in_sample).toEqual(await single('2018-01-10', '2018-01-24'));
    expect(best.out_of_sample).toEqual(await single('2018-01-25', '2018-01-31'));

    // The report: one page carrying the sweep, drawn by the same script as /ui/sweeps/{id}.
    const html = readFileSync(join(out, 'sweep.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain((JSON.parse(two.stdout) as { sweep_id: string }).sweep_id);
    const manifest = JSON.parse(readFileSync(join(out, 'sweep', 'manifest.json'), 'utf8')) as {
      result_files: Array<{ path: string; checksum: string }>;
    };
    for (const file of manifest.result_files) {
      expect(
        createHash('md5')
          .update(readFileSync(join(out, 'sweep', file.path)))
          .digest('hex'),
      ).toBe(file.checksum);
    }
  });

  it('prints the top table on stdout; bad input is exit 2 naming the flag', () => {
    const table = cli(ARGS);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(
      /rank\s+index\s+vol_multiplier\s+body_pct\s+hold_period_bars\s+total_return_pct\s+trades/,
    );
    const bad = cli([...ARGS.slice(0, 12), '{"vol_multiplier":[0.5]}', '--data-root', SAMPLE_DATA]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--grid vol_multiplier[0]: got 0.5; expected a number from 1.0 to 10.0',
    );
  });

  it('loads neither Nest, BullMQ nor a Redis client', () => {
    const script = `
      const { registerHooks } = require('node:module');
      const resolved = new Set();
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.add(r.url); return r; } });
      require(${JSON.stringify(ENTRY.cli)}).main(${JSON.stringify([...ARGS, '--json'])}).then((code) => {
        process.exitCode = code;
        process.stderr.write('\\nRESOLVED ' + JSON.stringify([...resolved]) + '\\n');
      });`;
    const result = spawnSync(process.execPath, ['-e', script], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ENV_FILE: '' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const urls = JSON.parse(result.stderr.split('\nRESOLVED ')[1]) as string[];
    const packages = new Set(
      urls.flatMap((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []),
    );
    for (const name of ['@nestjs/core', '@nestjs/common', 'bullmq', 'ioredis'])
      expect(packages.has(name)).toBe(false);
  });
});
