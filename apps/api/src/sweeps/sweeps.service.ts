import { FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { Catalogue, SweepRow } from '@app/catalogue';
import { ConflictError, NotFoundError } from '@app/common';
import { AppConfig } from '@app/config';
import { InjectCatalogue, InjectConfig, SweepQueue } from '@app/platform';
import {
  chunkSizeOf,
  chunksOf,
  parseSweepRequest,
  readSweepDocument,
  sweepCatalogueRow,
  sweepDir,
  SWEEP_RESULTS_FILE,
  SweepRequest,
} from '@app/sweeps';
import { RESULT_READ_FLAGS } from '@app/storage';
import {
  checkQueueRoom,
  FINAL_SWEEP_STATE_STATUSES,
  SweepRecord,
  SweepStateStore,
} from '@app/task-state';
import type { SweepAcceptedDto, SweepStateDto } from './sweep.dto';

/** Where the parent job and chunk jobs of a sweep live, and how they behave. */
const CHUNK_JOB_OPTIONS = {
  // A chunk's figures stay with the parent (BullMQ keeps children's values there).
  removeOnComplete: true,
  removeOnFail: 1000,
  // A failed chunk fails the sweep: its parent never runs.
  failParentOnFailure: true,
  // A chunk's own failures are final (UnrecoverableError); what else throws is the
  // infrastructure (a Redis blip while counting it): tried again, and counted once anyway.
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
};

/**
 * The parent job: it runs once, after every chunk, and writes the sweep's folder. A transient
 * fault there (a Redis blip, a busy disk) is tried again with backoff rather than failing a
 * sweep whose chunks are all done; finishSweep is idempotent (the folder is rewritten whole,
 * the status moves once). A sweep that cannot be whole fails with UnrecoverableError instead.
 */
const SWEEP_JOB_OPTIONS = {
  removeOnComplete: true,
  removeOnFail: 1000,
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
};

/**
 * Submitting, reading, following and cancelling sweeps (SPEC §13). State lives in the
 * sweep:{id} hash while it lasts (TASK_TTL_S after its last change), then in the sweep's
 * folder (completed) or the catalogue (failed, cancelled).
 */
@Injectable()
export class Sweeps {
  private readonly logger = new Logger(Sweeps.name);

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly states: SweepStateStore,
    private readonly queue: SweepQueue,
    @InjectCatalogue() private readonly catalogue: Catalogue,
  ) {}

  async submit(body: unknown): Promise<SweepAcceptedDto> {
    const plan = parseSweepRequest(body, this.config.maxSweepCombinations);
    // The same cap as runs (MAX_QUEUED_TASKS), on the sweeps' own queue: a 503 with
    // Retry-After rather than an unbounded backlog of chunk jobs in Redis.
    await checkQueueRoom(this.queue.queue, this.config.maxQueuedTasks);
    const sweepId = randomUUID();
    const chunks = chunksOf(plan.combinations, chunkSizeOf(plan));
    const createdAt = new Date().toISOString();
    const record = {
      sweep_id: sweepId,
      combinations: plan.combinations,
      chunks: chunks.length,
      strategy: plan.request.strategy,
      objective: plan.request.objective,
      request: JSON.stringify(plan.request),
      created_at: createdAt,
    };
    await this.states.create(record);
    // Listed at once (GET /api/sweeps); the row follows the sweep to its end.
    const state = (await this.states.get(sweepId))!;
    await this.catalogue.upsertSweep(sweepCatalogueRow(state));
    try {
      await this.addFlow(sweepId, plan.request, chunks);
    } catch (error) {
      // Not queued after all: the state says so rather than "queued" for ever.
      await this.states
        .transition(sweepId, 'failed', ['queued'], {
          finished_at: new Date().toISOString(),
          error: 'The sweep could not be queued',
        })
        .catch(() => undefined);
      const failed = await this.states.get(sweepId).catch(() => undefined);
      if (failed)
        await this.catalogue.upsertSweep(sweepCatalogueRow(failed)).catch(() => undefined);
      throw error;
    }
    return { sweep_id: sweepId, status: 'queued', combinations: plan.combinations };
  }

  /** One flow: a parent job (its id the sweep id) whose children are the chunks. */
  private async addFlow(
    sweepId: string,
    request: SweepRequest,
    chunks: ReturnType<typeof chunksOf>,
  ): Promise<void> {
    await this.queue.flows.add({
      name: 'sweep',
      queueName: this.queue.name,
      data: { sweep_id: sweepId, request },
      opts: { jobId: sweepId, ...SWEEP_JOB_OPTIONS },
      children: chunks.map(({ chunk, from, to }) => ({
        name: 'chunk',
        queueName: this.queue.name,
        data: { sweep_id: sweepId, chunk, from, to, request },
        opts: { jobId: `${sweepId}-chunk-${chunk}`, ...CHUNK_JOB_OPTIONS },
      })),
    });
  }

  /** The sweep as GET /api/sweeps/{id} answers it; 404 when it is known nowhere. */
  async get(sweepId: string): Promise<SweepStateDto> {
    const state = await this.states.get(sweepId);
    if (state) {
      const view = viewOfState(state);
      if (state.status !== 'completed') return view;
      const document = await readSweepDocument(this.config.resultsDir, sweepId);
      return document
        ? {
            ...view,
            best: document.best as never,
            top: document.top as never,
            validation: document.validation,
          }
        : view;
    }
    const document = await readSweepDocument(this.config.resultsDir, sweepId);
    if (document) {
      return {
        sweep_id: sweepId,
        status: 'completed',
        progress: 1,
        combinations: document.combinations,
        done: document.done,
        chunks: 0,
        objective: document.objective,
        best: document.best as never,
        top: document.top as never,
        validation: document.validation,
        request: document.request as never,
        created_at: document.created_at,
        started_at: document.started_at,
        finished_at: document.finished_at,
        error: null,
      };
    }
    const row = await this.catalogue.getSweep(sweepId);
    if (row) return viewOfRow(row);
    throw new NotFoundError(`No sweep ${sweepId}`);
  }

  list(query: { limit: number; offset: number; strategy?: string; status?: SweepRow['status'] }) {
    return this.catalogue.listSweeps(query);
  }

  /** Cancels every part of a queued or running sweep; 409 once it has ended. */
  async cancel(sweepId: string): Promise<SweepStateDto> {
    const moved = await this.states.transition(sweepId, 'cancelled', ['queued', 'running'], {
      finished_at: new Date().toISOString(),
      error: 'Cancelled by request',
    });
    if (!moved.ok && moved.reason === 'missing') {
      // The hash expired while the sweep waited (a queue longer than TASK_TTL_S): its row is
      // then its only state. Cancelled there, the worker's stateOf sees it ended and runs
      // nothing more of it.
      const row = await this.catalogue.getSweep(sweepId);
      if (row && (row.status === 'queued' || row.status === 'running')) {
        await this.catalogue.upsertSweep({
          ...row,
          status: 'cancelled',
          finished_at: new Date().toISOString(),
          error: 'Cancelled by request',
        });
        await this.removeUnprocessed(sweepId);
        return this.get(sweepId);
      }
    }
    if (!moved.ok) {
      if (moved.reason === 'conflict')
        throw new ConflictError(
          `Sweep ${sweepId} has already ${moved.current === 'cancelled' ? 'been cancelled' : moved.current}`,
        );
      const known = await this.get(sweepId); // 404 when unknown
      throw new ConflictError(
        `Sweep ${sweepId} has already ${known.status === 'cancelled' ? 'been cancelled' : known.status}`,
      );
    }
    await this.removeUnprocessed(sweepId);
    await rm(sweepDir(this.config.resultsDir, sweepId), { recursive: true, force: true });
    const state = await this.states.get(sweepId);
    if (state) await this.catalogue.upsertSweep(sweepCatalogueRow(state));
    return this.get(sweepId);
  }

  /**
   * Chunk jobs not yet taken go now; a running chunk sees the status within a moment and
   * stops, and the parent, once they are done, finds the sweep ended. Not queue.remove with
   * removeChildren: that refuses (removes nothing) while any chunk holds its lock.
   */
  private async removeUnprocessed(sweepId: string): Promise<void> {
    try {
      const job = await Job.fromId(this.queue.queue, sweepId);
      if (!job) return;
      await job.removeUnprocessedChildren();
      // No child left running: the parent is now waiting to run for nothing (it would find the
      // sweep ended) and would count against MAX_QUEUED_TASKS; it goes too. With chunks still
      // running it waits for them, then runs and writes nothing.
      if (await job.isWaiting()) await job.remove();
    } catch (error) {
      // The cancel stands (the chunks check the status); what is left runs as no-ops.
      this.logger.warn(
        `Sweep ${sweepId}: could not remove its waiting chunk jobs: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /**
   * The results file of a completed sweep, opened once, never through a link (O_NOFOLLOW):
   * no check-then-open window for a cleanup or a swapped-in link. The caller streams from the
   * handle, which the stream closes.
   */
  async openResults(sweepId: string): Promise<FileHandle> {
    const path = join(sweepDir(this.config.resultsDir, sweepId), SWEEP_RESULTS_FILE);
    try {
      return await open(path, RESULT_READ_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ELOOP' && code !== 'ENOTDIR') throw error;
      const sweep = await this.get(sweepId); // 404 when unknown
      throw new NotFoundError(
        `Sweep ${sweepId} is ${sweep.status}: results.parquet exists once it has completed`,
      );
    }
  }

  isFinal(status: SweepRecord['status']): boolean {
    return FINAL_SWEEP_STATE_STATUSES.includes(status);
  }
}

function viewOfState(state: SweepRecord): SweepStateDto {
  const request = JSON.parse(state.request) as Record<string, unknown>;
  return {
    sweep_id: state.sweep_id,
    status: state.status,
    progress: state.progress,
    combinations: state.combinations,
    done: state.done,
    chunks: state.chunks,
    objective: state.objective,
    best: null,
    top: [],
    validation: null,
    request,
    created_at: state.created_at,
    started_at: state.started_at,
    finished_at: state.finished_at,
    error: state.error,
  };
}

function viewOfRow(row: SweepRow): SweepStateDto {
  return {
    sweep_id: row.sweep_id,
    status: row.status,
    progress: row.combinations > 0 ? row.done / row.combinations : 0,
    combinations: row.combinations,
    done: row.done,
    chunks: 0,
    objective: row.objective,
    best: row.best,
    top: [],
    validation: null,
    request: {
      strategy: row.strategy,
      symbols: row.symbols,
      timeframe: row.timeframe,
      start_date: row.start_date,
      end_date: row.end_date,
      objective: row.objective,
    },
    created_at: row.created_at,
    started_at: null,
    finished_at: row.finished_at,
    error: row.error,
  };
}
