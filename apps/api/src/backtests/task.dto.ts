import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { TASK_STATUSES, TaskStatus } from '@app/task-state';
import { nullableRef } from '../openapi/nullable';
import { ResultDocumentDto } from './result-document.dto';

const EXAMPLE_TASK_ID = '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';

/** 202 of a submission: the task to poll or stream. */
export class TaskAcceptedDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_TASK_ID })
  task_id!: string;

  @ApiProperty({ enum: TASK_STATUSES, example: 'queued' })
  status!: TaskStatus;

  @ApiProperty({ example: '2026-01-05T10:00:00.000Z' })
  created_at!: string;
}

/** A task's state, as GET /api/backtests/status/{task_id} and each SSE event give it. */
export class TaskStateDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_TASK_ID })
  task_id!: string;

  @ApiProperty({ enum: TASK_STATUSES, example: 'running' })
  status!: TaskStatus;

  @ApiProperty({ minimum: 0, maximum: 1, example: 0.5, description: 'Share of symbols done, 0..1' })
  progress!: number;

  @ApiProperty({
    ...nullableRef(ResultDocumentDto),
    // The example's status is running: no result yet.
    example: null,
    description:
      'The result document once the task completed, when its result.json is at most INLINE_RESULT_MAX_MB (default 8); null before, otherwise, and for a larger result: read that at result_url',
  })
  result!: ResultDocumentDto | null;

  @ApiProperty({
    type: 'string',
    nullable: true,
    example: null,
    description: 'Why the task failed or was cancelled; null otherwise',
  })
  error!: string | null;

  @ApiPropertyOptional({
    example: `/api/backtests/${EXAMPLE_TASK_ID}`,
    description: 'Once completed: where the result document is (streamed, any size)',
  })
  result_url?: string;
}
