import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './redis-server';

export const REPO_ROOT = join(__dirname, '..', '..');

/** The built entry points (npm test builds first; e2e tests run the real compiled apps). */
export const ENTRY = {
  api: join(REPO_ROOT, 'dist/apps/api/src/main.js'),
  /** `npm start`: the API and a worker in one process. */
  standalone: join(REPO_ROOT, 'dist/apps/standalone/src/main.js'),
  worker: join(REPO_ROOT, 'dist/apps/worker/src/main.js'),
  cli: join(REPO_ROOT, 'dist/src/cli/main.js'),
} as const;

export interface AppProcess {
  readonly child: ChildProcess;
  /** The HTTP port it listens on (PORT for the API, WORKER_HEALTH_PORT for a worker). */
  readonly port: number;
  readonly url: string;
  /** Everything it printed so far (stdout + stderr). */
  output(): string;
  /** Lines of its JSON logs, parsed (non-JSON lines skipped). */
  logLines(): Array<Record<string, unknown>>;
  /** SIGTERM (or the given signal) and wait for the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** Resolves when it exits. */
  exited: Promise<number | null>;
}

function waitForPort(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) {
        reject(new Error(`process exited with ${child.exitCode} before listening:\n${output()}`));
        return;
      }
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`nothing listens on ${port} after ${timeoutMs} ms:\n${output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Starts a built app (`api`, `worker` or both in one `standalone` process) as a child process
 * with the given environment and waits until its HTTP port accepts connections. Ports are
 * free ones unless given. A developer's `.env` is never read (ENV_FILE is empty).
 */
export async function startApp(
  kind: 'api' | 'worker' | 'standalone',
  env: Record<string, string>,
  options: {
    timeoutMs?: number;
    args?: string[];
    /** Start it under `ulimit -n` this low (through bash), as a host with few descriptors. */
    maxOpenFiles?: number;
  } = {},
): Promise<AppProcess> {
  const entry = ENTRY[kind];
  if (!existsSync(entry))
    throw new Error(`${entry} is missing: run "npm run build" first (npm test does)`);
  const portVariable = kind === 'worker' ? 'WORKER_HEALTH_PORT' : 'PORT';
  const port = env[portVariable] ? Number(env[portVariable]) : await freePort();
  let output = '';
  const [command, args] =
    options.maxOpenFiles === undefined
      ? [process.execPath, [entry, ...(options.args ?? [])]]
      : // exec: the child is node itself (signals, exit code), under the lowered limit.
        [
          'bash',
          [
            '-c',
            `ulimit -n ${options.maxOpenFiles} && exec "$0" "$@"`,
            process.execPath,
            entry,
            ...(options.args ?? []),
          ],
        ];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LOG_LEVEL: 'info',
      ENVIRONMENT: 'test',
      ENV_FILE: '',
      ...env,
      [portVariable]: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  await waitForPort(port, child, options.timeoutMs ?? 20_000, () => output);
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    logLines: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exited,
    stop: async (signal = 'SIGTERM', timeoutMs = 30_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
