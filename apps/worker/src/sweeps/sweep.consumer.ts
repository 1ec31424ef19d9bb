import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConnectionOptions, Job, UnrecoverableError, Worker } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Catalogue, sweepRowFromManifest } from '@app/catalogue';
import { AppConfig } from '@app/config';
import {
  InjectCatalogue,
  InjectConfig,
  MetricsService,
  redisClientOptions,
  SweepQueue,
} from '@app/platform';
import {
  ChunkResult,
  completedSweepDocument,
  encodeSweepResults,
  planOf,
  sweepDir,
  SweepRequest,
  sweepCatalogueRow,
  writeSweepFolder,
} from '@app/sweeps';
import { SweepRecord, SweepStateStore } from '@app/task-state';
import { rm } from 'node:fs/promises';
import { SweepChunkPool } from './sweep-chunk-pool';

/** The parent job of a sweep's flow: its id is the sweep id. */
export interface SweepJobData {
  sweep_id: string;
  request: SweepRequest;
}

/** A chunk job: combinations `from .. to-1` of the sweep. */
export interface ChunkJobData {
  sweep_id: string;
  chunk: number;
  from: number;
  to: number;
  request: SweepRequest;
}

export const SWEEP_JOB = 'sweep';
export const CHUNK_JOB = 'chunk';

/** How often a running chunk re-reads its sweep's status, to stop on a cancel or a failure. */
const STATUS_POLL_MS = 250;

const ACTIVE: SweepRecord['status'][] = ['queued', 'running'];

/**
 * The worker's consumer of the sweep queue (SPEC §13). A chunk job runs on a sweep thread and
 * is counted once (completeChunk); its figures are its return value, which BullMQ keeps with
 * the parent. The parent job runs once every chunk has completed: it ranks, writes
 * `sweeps/{id}/` and marks the sweep completed. A chunk that fails fails the sweep, with the
 * chunk's reason; a cancelled sweep's chunks stop within STATUS_POLL_MS and nothing is written.
 */
@Injectable()
export class SweepConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private worker: Worker | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly sweeps: SweepStateStore,
    private readonly queue: SweepQueue,
    private readonly pool: SweepChunkPool,
    private readonly metrics: MetricsService,
    @InjectCatalogue() private readonly catalogue: Catalogue,
    @InjectPinoLogger(SweepConsumer.name) private readonly logger: PinoLogger,
  ) {
    // Every outcome's series exists from the start, so a dashboard shows 0, not "no data".
    for (const outcome of ['completed', 'failed', 'stopped'])
      metrics.sweepChunks.inc({ outcome }, 0);
  }

  onApplicationBootstrap(): void {
    const { workerConcurrency, lockDurationMs } = this.config;
    this.worker = new Worker(this.queue.name, (job) => this.process(job), {
      connection: redisClientOptions(this.config, 'worker') as ConnectionOptions,
      concurrency: workerConcurrency,
      lockDuration: lockDurationMs,
      // A dead worker's chunk is back in the queue between one and two lock durations later.
      stalledInterval: lockDurationMs,
      maxStalledCount: 1,
    });
    this.worker.on('error', () => undefined);
    this.worker.on('failed', (job) => void this.onFailed(job));
    this.worker.on('stalled', (jobId) =>
      this.logger.warn(
        { job_id: jobId, stalled: true },
        `Sweep job ${jobId}: its worker stopped renewing the lock; back in the queue for another worker`,
      ),
    );
    this.logger.info({ queue: this.queue.name }, `Consuming sweep queue ${this.queue.name}`);
  }

  /**
   * SIGTERM: running chunks (a second or two each) get SHUTDOWN_GRACE_S to finish; one cut
   * short after that is taken again by another worker once its lock expires.
   */
  async onModuleDestroy(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      worker.close().then(
        () => true,
        () => false,
      ),
      new Promise<false>(
        (resolve) => (timer = setTimeout(() => resolve(false), this.config.shutdownGraceS * 1000)),
      ),
    ]);
    clearTimeout(timer);
    // Past the grace (or with Redis unreachable, where BullMQ's close never returns): drop the
    // connections without waiting, as the backtest consumer does.
    if (!graceful) worker.disconnect().catch(() => undefined);
  }

  private process(job: Job): Promise<unknown> {
    if (job.name === CHUNK_JOB) return this.runChunk(job as Job<ChunkJobData>);
    return this.finishSweep(job as Job<SweepJobData>);
  }

  private async runChunk(job: Job<ChunkJobData>): Promise<ChunkResult | null> {
    const { sweep_id: sweepId, chunk, from, to, request } = job.data;
    const state = await this.stateOf(sweepId, request, job.timestamp);
    // Cancelled or failed meanwhile: nothing to do; the parent writes nothing.
    if (!state || !ACTIVE.includes(state.status)) return null;
    this.metrics.sweepChunksRunning.inc();
    const run = this.pool.run({ sweepId, request, from, to });
    const poll = setInterval(() => {
      this.sweeps.get(sweepId).then(
        (current) => current && !ACTIVE.includes(current.status) && run.stop(),
        () => undefined,
      );
    }, STATUS_POLL_MS);
    let outcome;
    try {
      outcome = await run.outcome;
    } finally {
      clearInterval(poll);
      this.metrics.sweepChunksRunning.dec();
    }
    if (outcome.kind === 'stopped') {
      this.metrics.sweepChunks.inc({ outcome: 'stopped' });
      return null;
    }
    if (outcome.kind === 'failed') {
      this.metrics.sweepChunks.inc({ outcome: 'failed' });
      const reason = `chunk ${chunk} (combinations ${from}–${to - 1}): ${outcome.message}`;
      await this.fail(sweepId, reason);
      // Not retried: the same combinations over the same files fail the same way.
      throw new UnrecoverableError(reason);
    }
    if (await this.sweeps.completeChunk(sweepId, chunk, to - from)) {
      this.metrics.sweepCombinations.inc(to - from);
      // The first chunk counted made it running (completeChunk): the row says so too, or
      // GET /api/sweeps?status=running would never list it (the row is written at submit
      // and at the end only otherwise).
      if (state.status === 'queued') await this.indexRunning(sweepId);
    }
    this.metrics.sweepChunks.inc({ outcome: 'completed' });
    this.logger.info(
      { sweep_id: sweepId, chunk, combinations: to - from, ms: Math.round(outcome.result.ms) },
      `[Sweep ${sweepId}] Chunk ${chunk} done: ${to - from} combinations in ${Math.round(outcome.result.ms)} ms`,
    );
    return outcome.result;
  }

  private async finishSweep(job: Job<SweepJobData>): Promise<{ status: string }> {
    const { sweep_id: sweepId, request } = job.data;
    const state = await this.stateOf(sweepId, request, job.timestamp);
    if (!state || !ACTIVE.includes(state.status)) return { status: state?.status ?? 'missing' };
    const values = Object.values(await job.getChildrenValues<ChunkResult | null>());
    if (values.some((value) => value === null)) {
      // A chunk that stopped while the sweep is still active found no state (it expired, or
      // Redis lost it): the sweep cannot be whole, so it fails rather than hang.
      await this.fail(
        sweepId,
        'a chunk found no sweep state (expired or lost); submit the sweep again',
      );
      return { status: 'failed' };
    }
    const chunks = (values as ChunkResult[]).sort((a, b) => a.from - b.from);
    const results = chunks.flatMap((chunk) => chunk.combinations);
    const plan = planOf(request);
    if (results.length !== plan.combinations || results.some((r, k) => r.index !== k)) {
      await this.fail(
        sweepId,
        `the chunks gave ${results.length} of ${plan.combinations} combinations`,
      );
      throw new UnrecoverableError('incomplete sweep');
    }
    const finishedAt = new Date().toISOString();
    const document = completedSweepDocument(sweepId, plan, results, {
      createdAt: state.created_at,
      startedAt: state.started_at,
      finishedAt,
      executionTime:
        (Date.parse(finishedAt) - Date.parse(state.started_at ?? state.created_at)) / 1000,
    });
    // The folder first, then the status: a reader that sees `completed` finds the files.
    const manifest = await writeSweepFolder(
      this.config.resultsDir,
      document,
      encodeSweepResults(plan, results),
    );
    const moved = await this.sweeps.transition(sweepId, 'completed', ACTIVE, {
      progress: '1',
      done: String(plan.combinations),
      finished_at: finishedAt,
    });
    if (!moved.ok) {
      // Cancelled while the files were written: no result files remain (SPEC §13).
      await rm(sweepDir(this.config.resultsDir, sweepId), { recursive: true, force: true });
      return { status: 'cancelled' };
    }
    // The row a rebuild would read from this manifest: one definition of it.
    await this.catalogue
      .upsertSweep(sweepRowFromManifest(JSON.parse(JSON.stringify(manifest))))
      .catch((error: unknown) =>
        this.logger.warn({ err: error, sweep_id: sweepId }, 'Could not index the sweep'),
      );
    this.logger.info(
      { sweep_id: sweepId },
      `[Sweep ${sweepId}] Completed: ${plan.combinations} combinations`,
    );
    return { status: 'completed' };
  }

  /**
   * The sweep's hash; one that expired while its jobs waited (a queue longer than TASK_TTL_S)
   * is made again from the job, as task hashes are, unless the catalogue says the sweep has
   * ended. Its count starts afresh (the done-chunks set expired with it): progress then
   * understates until the sweep completes, which the parent records whole.
   */
  private async stateOf(
    sweepId: string,
    request: SweepRequest,
    submittedMs: number,
  ): Promise<SweepRecord | undefined> {
    const state = await this.sweeps.get(sweepId);
    if (state) return state;
    const row = await this.catalogue.getSweep(sweepId);
    if (row && !ACTIVE.includes(row.status)) return undefined;
    await this.sweeps.create({
      sweep_id: sweepId,
      combinations: planOf(request).combinations,
      chunks: 0,
      strategy: request.strategy,
      objective: request.objective,
      request: JSON.stringify(request),
      created_at: row?.created_at ?? new Date(submittedMs).toISOString(),
    });
    this.logger.warn(
      { sweep_id: sweepId },
      `[Sweep ${sweepId}] Its state had expired while it waited: made again from the job`,
    );
    return this.sweeps.get(sweepId);
  }

  /**
   * Writes the row of a sweep that has just become running, from its hash. Read again after
   * the write: a cancel or failure that wrote its own row in between is written back, so a
   * late "running" never stands over an ended sweep.
   */
  private async indexRunning(sweepId: string): Promise<void> {
    try {
      const state = await this.sweeps.get(sweepId);
      if (state?.status !== 'running') return;
      await this.catalogue.upsertSweep(sweepCatalogueRow(state));
      const now = await this.sweeps.get(sweepId);
      if (now && now.status !== 'running' && now.status !== 'completed')
        await this.catalogue.upsertSweep(sweepCatalogueRow(now));
    } catch (error) {
      // Only the listing's status lags: the hash, which GET /api/sweeps/{id} reads, is right.
      this.logger.warn({ err: error, sweep_id: sweepId }, 'Could not index the running sweep');
    }
  }

  /** A chunk or the parent failed for good: the sweep fails with that reason (once). */
  private async fail(sweepId: string, reason: string): Promise<void> {
    const moved = await this.sweeps.transition(sweepId, 'failed', ACTIVE, {
      finished_at: new Date().toISOString(),
      error: reason,
    });
    if (!moved.ok) return;
    this.logger.warn({ sweep_id: sweepId }, `[Sweep ${sweepId}] Failed: ${reason}`);
    const state = await this.sweeps.get(sweepId);
    if (state) await this.catalogue.upsertSweep(sweepCatalogueRow(state)).catch(() => undefined);
  }

  /** BullMQ failed a job without the processor's say (stalled too often): fail its sweep. */
  private async onFailed(job: Job | undefined): Promise<void> {
    if (!job || !(await job.isFailed().catch(() => false))) return;
    const sweepId = (job.data as { sweep_id?: string }).sweep_id;
    if (sweepId)
      await this.fail(sweepId, job.failedReason || 'a job of the sweep failed').catch(
        () => undefined,
      );
  }
}
