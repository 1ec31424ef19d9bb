import { InfrastructureFault, infrastructureFault, ResultsDirError } from '@app/common';

/**
 * Why a run could not finish that says nothing about the task: never the task's failure.
 * - Redis unreachable or full: the job is put back (no attempt used) and runs once Redis
 *   accepts writes again.
 * - RESULTS_DIR unusable (read-only, full): the job is put back for another worker, and this
 *   worker stops taking jobs until its disk check passes.
 * - A busy file or no file handles left: retried with backoff, as an attempt.
 */
export type RunFault = InfrastructureFault | 'results-dir';

export function runFaultOf(error: unknown): RunFault | undefined {
  const fault = infrastructureFault(error);
  if (fault !== undefined) return fault;
  return error instanceof ResultsDirError ? 'results-dir' : undefined;
}

/** Faults after which the job is put back rather than retried as an attempt. */
export function postponesTheJob(fault: RunFault): boolean {
  return fault !== 'io-busy';
}
