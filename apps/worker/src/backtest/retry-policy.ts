import type { Job } from 'bullmq';

/** A fault worth another try, handed to BullMQ to retry the job with backoff. */
export class TransientFault extends Error {
  override readonly name = 'TransientFault';
}

/** BullMQ counts attempts made before this one; the job fails for good after the last. */
export function isLastAttempt(job: Pick<Job, 'attemptsMade' | 'opts'>): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}
