import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, roundMs } from './stats';

export interface StartupTiming {
  command: string;
  median_ms: number;
  runs_ms: number[];
}

export interface StartupBenchResult {
  node: StartupTiming;
  cli_help: StartupTiming;
  /** cli_help median - node median: what the CLI adds to starting Node itself. */
  overhead_ms: number;
  target: { overhead_ms_max: number; met: boolean };
}

/** The built CLI entry (dist/src/cli/main.js), beside this file's folder. */
const CLI_MAIN = join(__dirname, '..', 'main.js');
/** "Starts in a blink" (ARCHITECTURE.md), as a number: at most this much over `node -e ''`. */
const OVERHEAD_TARGET_MS = 100;

/**
 * How long `node dist/src/cli/main.js --help` takes, process start to exit, beside an empty
 * `node -e ''` on the same machine: the two alternate, `runs` times each, medians reported.
 */
export function benchCliStartup(runs: number): StartupBenchResult | { skipped: string } {
  if (!existsSync(CLI_MAIN))
    return { skipped: `${CLI_MAIN} is missing: run "npm run build" first` };
  const node = ['-e', ''];
  const help = [CLI_MAIN, '--help'];
  const nodeMs: number[] = [];
  const helpMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    nodeMs.push(wallMs(node));
    helpMs.push(wallMs(help));
  }
  const overhead = roundMs(median(helpMs) - median(nodeMs));
  return {
    node: {
      command: `node -e ''`,
      median_ms: roundMs(median(nodeMs)),
      runs_ms: nodeMs.map(roundMs),
    },
    cli_help: {
      command: `node ${relative(process.cwd(), CLI_MAIN)} --help`,
      median_ms: roundMs(median(helpMs)),
      runs_ms: helpMs.map(roundMs),
    },
    overhead_ms: overhead,
    target: { overhead_ms_max: OVERHEAD_TARGET_MS, met: overhead <= OVERHEAD_TARGET_MS },
  };
}

function wallMs(args: string[]): number {
  const started = performance.now();
  const child = spawnSync(process.execPath, args, {
    env: { ...process.env, ENV_FILE: '' },
    stdio: 'ignore',
  });
  const elapsed = performance.now() - started;
  if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${child.status}`);
  return elapsed;
}
