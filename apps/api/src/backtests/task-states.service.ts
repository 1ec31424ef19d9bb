import { Injectable } from '@nestjs/common';
import { NotFoundError } from '@app/common';
import { ResultStore } from '@app/storage';
import { TaskStateStore, TaskStatus } from '@app/task-state';
import { RunResults } from './run-results.service';

/** What the API knows of a task at one moment, from Redis or from its run folder. */
export interface TaskSnapshot {
  task_id: string;
  status: TaskStatus;
  progress: number;
  error: string | null;
}

/**
 * A task's state: the task:{id} hash while it lives (TASK_TTL_S after its last change), then
 * the run's catalogue row (or, without one yet, its manifest), which outlive it (SPEC §6, §7).
 */
@Injectable()
export class TaskStates {
  constructor(
    private readonly tasks: TaskStateStore,
    private readonly store: ResultStore,
    private readonly runs: RunResults,
  ) {}

  async find(taskId: string): Promise<TaskSnapshot | undefined> {
    const state = await this.tasks.getState(taskId);
    if (state) {
      const { status, progress, error } = state;
      return { task_id: state.task_id, status, progress, error };
    }
    const ending = await this.runs.ending(taskId);
    if (!ending) return undefined;
    return {
      task_id: taskId.toLowerCase(),
      status: ending.status,
      // A finished run's folder does not say how far a failed or cancelled run got.
      progress: ending.status === 'completed' ? 1 : 0,
      error: ending.error,
    };
  }

  async get(taskId: string): Promise<TaskSnapshot> {
    const snapshot = await this.find(taskId);
    if (!snapshot) throw new NotFoundError(`No task ${taskId}`);
    return snapshot;
  }

  /**
   * The state document `{task_id, status, progress, result, error}` as JSON text. A completed
   * task's result.json is spliced in as it is on disk: a large result is neither parsed nor
   * serialised again on the event loop.
   */
  async stateJson(snapshot: TaskSnapshot): Promise<string> {
    const { task_id, status, progress, error } = snapshot;
    const result = status === 'completed' ? await this.resultTextIfAny(task_id) : undefined;
    const head = JSON.stringify({ task_id, status, progress }).slice(0, -1);
    return `${head},"result":${result ?? 'null'},"error":${JSON.stringify(error)}}`;
  }

  /** The run's result.json, or undefined when the folder is gone (cleaned up). */
  private async resultTextIfAny(taskId: string): Promise<string | undefined> {
    try {
      return (await this.store.readResultText(taskId)).trim();
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }
}
