import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { REPO_ROOT } from './support/app-process';
import { copySampleData } from './support/sample-data';
import { OpsSystem, run, SMALL_REQUEST, startOpsSystem } from './ops-support/system';

/**
 * docs/OPERATIONS.md must be true. Every ```bash runbook block is run, in order, with bash
 * (-euo pipefail) against a real system: a private Redis, the built API and a worker, their
 * addresses in the variables the runbook tells operators to set. Blocks that need Docker,
 * Kubernetes, systemd or root are plain ```bash and are checked otherwise (the files and npm
 * scripts they name exist; deploy files have their own tests).
 */

jest.setTimeout(180_000);

const RUNBOOK = readFileSync(join(REPO_ROOT, 'docs/OPERATIONS.md'), 'utf8');
const RUNBOOK_BLOCK = /^```bash runbook\n([\s\S]*?)^```$/gm;
const runbookBlocks = [...RUNBOOK.matchAll(RUNBOOK_BLOCK)].map((match) => match[1]);

describe('docs/OPERATIONS.md', () => {
  let system: OpsSystem;
  let env: Record<string, string>;
  let dataCopy: string;

  beforeAll(async () => {
    // The runbook uploads a file: into a copy of the sample data, never the checkout's data/.
    dataCopy = copySampleData(mkdtempSync(join(tmpdir(), 'coin-runbook-data-')));
    // A cleanup every second, so its records exist for the commands that read them.
    system = await startOpsSystem({
      env: { DATA_ROOT: dataCopy },
      workerEnv: { CLEANUP_CRON: '* * * * * *' },
    });
    // A failed job for the commands that list failures (no candles for this symbol).
    const failing = await fetch(`${system.api!.url}/api/backtests/run-async`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...SMALL_REQUEST, symbols: ['NODATA_BTC'] }),
    });
    expect(failing.status).toBe(202);
    env = {
      API: system.api!.url,
      WORKER: system.workers[0].url,
      REDIS_URL: system.env.REDIS_URL,
      QUEUE: 'backtests',
      DATA_ROOT: system.dataRoot,
      RESULTS_DIR: system.resultsDir,
      WORKER_LOG: join(system.scratch, 'worker.log'),
      BACKUP_DIR: join(system.scratch, 'backups'),
      TMPDIR: system.scratch,
    };
    mkdirSync(env.BACKUP_DIR);
  });
  afterAll(async () => {
    await system?.stop();
    if (dataCopy) rmSync(dataCopy, { recursive: true, force: true });
  });

  it('marks the commands that can run here', () => {
    expect(runbookBlocks.length).toBeGreaterThanOrEqual(15);
  });

  it('runs every runbook command block without an error', async () => {
    const failures: string[] = [];
    for (const [index, block] of runbookBlocks.entries()) {
      // The worker's log as an operator would have it in a file.
      writeFileSync(env.WORKER_LOG, system.workers[0].output());
      const result = await run('bash', ['-euo', 'pipefail', '-c', block], env, 60_000);
      if (result.code !== 0) {
        failures.push(
          `block ${index + 1} exited ${result.code}:\n${block}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
        );
      }
    }
    if (failures.length > 0) {
      // What the processes said about their health meanwhile, to tell a broken command from
      // a broken system.
      const healthLines = [system.api!, ...system.workers]
        .flatMap((process) => process.output().split('\n'))
        .filter((line) => line.includes('Health checks'));
      failures.push(`health log lines:\n${healthLines.join('\n')}`);
    }
    expect(failures).toEqual([]);
  });

  it('prints what its lines say they print: attempts made (atm), the number of workers', async () => {
    const lineOf = (pattern: RegExp): string => {
      const line = RUNBOOK.split('\n').find((candidate) => pattern.test(candidate));
      if (!line) throw new Error(`no runbook line matches ${String(pattern)}`);
      return line;
    };
    const finished = await fetch(`${env.API}/api/backtests/latest`);
    const taskId = ((await finished.json()) as { run_id: string }).run_id;
    const attempts = await run(
      'bash',
      ['-euo', 'pipefail', '-c', lineOf(/HMGET "bull:\$QUEUE:\$TASK"/)],
      { ...env, TASK: taskId },
      10_000,
    );
    // Three lines: attempts made, finished at, no failure. attemptsMade printed nothing.
    expect(attempts.stdout.split('\n').slice(0, 2)).toEqual([
      '1',
      expect.stringMatching(/^\d{13}$/),
    ]);
    const workers = await run(
      'bash',
      ['-euo', 'pipefail', '-c', lineOf(/CLIENT LIST \| grep -c/)],
      env,
      10_000,
    );
    expect(workers.stdout.trim()).toBe(String(system.workers.length));
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys(
      (
        JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
          scripts: Record<string, string>;
        }
      ).scripts,
    );
    const named = new Set(
      [...RUNBOOK.matchAll(/\bnpm (?:run (?:-s )?([\w:-]+)|(start|test)\b)/g)].map(
        (match) => match[1] ?? match[2],
      ),
    );
    expect(named.size).toBeGreaterThan(0);
    expect([...named].filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it('names only files of this repository that exist', () => {
    const paths = new Set(
      [...RUNBOOK.matchAll(/\b((?:deploy|scripts|docs|dist\/apps)\/[\w./-]*[\w/])/g)].map(
        (match) => match[1],
      ),
    );
    expect(paths.size).toBeGreaterThan(5);
    expect([...paths].filter((path) => !existsSync(join(REPO_ROOT, path)))).toEqual([]);
  });

  it("gives BullMQ's keys the Redis types they have", async () => {
    const rows = [
      ...RUNBOOK.matchAll(/^\| ((?:`bull:backtests:[^`]+`(?:, )?)+)\s*\| ([a-z ]+?)\s*\|/gm),
    ];
    expect(rows.length).toBeGreaterThanOrEqual(7);
    const redis = new Redis(system.env.REDIS_URL);
    const connection = { host: '127.0.0.1', port: system.redis.port };
    const queue = new Queue('runbook-keys', { connection });
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const worker = new Worker(
      'runbook-keys',
      async (job) => {
        if (job.id === 'failing') throw new Error('fails on purpose');
        if (job.id === 'running') await held;
      },
      { connection },
    );
    try {
      // A job in every state the table names.
      await queue.add('job', {}, { jobId: 'done' });
      await queue.add('job', {}, { jobId: 'failing' });
      await queue.add('job', {}, { jobId: 'running' });
      const until = Date.now() + 10_000;
      while ((await queue.getJobState('running')) !== 'active' && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await worker.pause(true);
      await queue.add('job', {}, { jobId: 'waiting' });
      await queue.add('job', {}, { jobId: 'later', delay: 3_600_000 });
      await queue.add('job', {}, { jobId: 'urgent', priority: 1 });

      const typeNames: Record<string, string> = {
        list: 'list',
        'sorted set': 'zset',
        'sorted sets': 'zset',
        hash: 'hash',
        stream: 'stream',
      };
      for (const [, keys, documentedType] of rows) {
        for (const [, key] of keys.matchAll(/`bull:backtests:([^`]+)`/g)) {
          const actual = `bull:runbook-keys:${key.replace('{id}', 'running')}`;
          expect({ key, type: await redis.type(actual) }).toEqual({
            key,
            type: typeNames[documentedType.trim()],
          });
        }
      }
    } finally {
      release();
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      redis.disconnect();
    }
  });
});
