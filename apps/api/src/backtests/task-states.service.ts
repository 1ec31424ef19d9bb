import { Injectable } from '@nestjs/common';
import { NotFoundError } from '@app/common';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';
import { ResultStore } from '@app/storage';
import { TaskStateStore, TaskStatus } from '@app/task-state';

/** What the API knows of a task at one moment, from Redis or from its run folder. */
export interface TaskSnapshot {
  task_id: string;
  status: TaskStatus;
  progress: number;
  error: string | null;
}

/**
 * A task's state: the task:{id} hash while it lives (TASK_TTL_S after its last change), then
 * the run folder's manifest, which outlives it (SPEC §6, §7).
 */
@Injectable()
export class TaskStates {
  private readonly inlineMaxBytes: number;

  constructor(
    private readonly tasks: TaskStateStore,
    private readonly store: ResultStore,
    @InjectConfig() config: AppConfig,
  ) {
    this.inlineMaxBytes = config.inlineResultMaxBytes;
  }

  async find(taskId: string): Promise<TaskSnapshot | undefined> {
    const state = await this.tasks.getState(taskId);
    if (state) {
      const { status, progress, error } = state;
      return { task_id: state.task_id, status, progress, error };
    }
    const manifest = await this.store.readManifest(taskId);
    if (!manifest) return undefined;
    return {
      task_id: manifest.task_id,
      status: manifest.status,
      // A finished run's folder does not say how far a failed or cancelled run got.
      progress: manifest.status === 'completed' ? 1 : 0,
      error: manifest.error.message,
    };
  }

  async get(taskId: string): Promise<TaskSnapshot> {
    const snapshot = await this.find(taskId);
    if (!snapshot) throw new NotFoundError(`No task ${taskId}`);
    return snapshot;
  }

  /**
   * The state document `{task_id, status, progress, result, error}` as JSON text; a
   * completed task's adds `result_url`, where its result document is. The result is inlined
   * only up to INLINE_RESULT_MAX_MB (issue 10, item 4: a 100 MB result in every status poll
   * and SSE event held the API's memory and event loop); a larger one is null here and read
   * at result_url, which streams it. An inlined result.json is spliced in as it is on disk:
   * neither parsed nor serialised again on the event loop.
   */
  async stateJson(snapshot: TaskSnapshot): Promise<string> {
    const { task_id, status, progress, error } = snapshot;
    const result = status === 'completed' ? await this.inlineResultIfAny(task_id) : undefined;
    const head = JSON.stringify({ task_id, status, progress }).slice(0, -1);
    const url = result?.url === undefined ? '' : `,"result_url":${JSON.stringify(result.url)}`;
    return `${head},"result":${result?.text ?? 'null'},"error":${JSON.stringify(error)}${url}}`;
  }

  /**
   * The run's result.json when small enough to inline, and its URL; undefined when the folder
   * is gone (cleaned up).
   */
  private async inlineResultIfAny(
    taskId: string,
  ): Promise<{ text: string | undefined; url: string } | undefined> {
    const url = `/api/backtests/${taskId}`;
    try {
      const file = await this.store.resultFile(taskId);
      if (file.size_bytes > this.inlineMaxBytes) return { text: undefined, url };
      return { text: (await this.store.readResultText(taskId)).trim(), url };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }
}
