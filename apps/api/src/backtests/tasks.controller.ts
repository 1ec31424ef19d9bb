import { Controller, Delete, Get, HttpStatus, Param, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors, COMMON_API_ERRORS } from '../http/error-response.dto';
import { RunIdPipe } from '../http/run-id.pipe';
import { API_KEY_SCHEME } from '../openapi/openapi';
import { BacktestTasks } from './backtest-tasks.service';
import { SSE_HEARTBEAT_MS, TaskEventStreams } from './task-event-streams.service';
import { TaskStateDto } from './task.dto';
import { TaskStates } from './task-states.service';

const TASK_ID_PARAM = {
  name: 'task_id',
  format: 'uuid',
  description: 'The task id returned on submission',
  example: '0b9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
};

const JSON_TYPE = 'application/json; charset=utf-8';

@ApiTags('tasks')
@ApiSecurity(API_KEY_SCHEME)
@ApiErrors(COMMON_API_ERRORS)
@Controller('api/backtests')
export class TasksController {
  constructor(
    private readonly states: TaskStates,
    private readonly backtests: BacktestTasks,
    private readonly streams: TaskEventStreams,
  ) {}

  @Get('status/:task_id')
  @ApiOperation({
    summary: 'A task’s state',
    description:
      'From Redis while the task state lives (TASK_TTL_S after its last change), then from the run folder. ' +
      '`result` holds the result document once the task completed.',
  })
  @ApiParam(TASK_ID_PARAM)
  @ApiOkResponse({ type: TaskStateDto })
  @ApiErrors([HttpStatus.NOT_FOUND, HttpStatus.SERVICE_UNAVAILABLE], {
    [HttpStatus.NOT_FOUND]: 'No such task (neither in Redis nor in RESULTS_DIR)',
  })
  async status(
    @Param('task_id', RunIdPipe) taskId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const state = await this.states.get(taskId);
    void reply.type(JSON_TYPE);
    return this.states.stateJson(state);
  }

  @Get('status/:task_id/events')
  @ApiOperation({
    summary: 'A task’s state as a Server-Sent Events stream',
    description:
      'One event per change: the current state first, then each status or progress change, ' +
      'and the final state last (completed: with the result), after which the server ends ' +
      'the stream (an EventSource client should close on a final status instead of ' +
      `reconnecting). Each event's data is the JSON of GET /api/backtests/status/{task_id}. ` +
      `A comment line every ${SSE_HEARTBEAT_MS / 1000} s keeps proxies from closing a quiet stream.`,
  })
  @ApiParam(TASK_ID_PARAM)
  // No @ApiProduces: it would document the JSON errors (404, 503) as an event stream too.
  @ApiOkResponse({
    description: 'text/event-stream; each `data:` line is a TaskState document',
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          example:
            'id: 1\ndata: {"task_id":"…","status":"running","progress":0.5,"result":null,"error":null}\n\n',
        },
      },
    },
  })
  @ApiErrors([HttpStatus.NOT_FOUND, HttpStatus.SERVICE_UNAVAILABLE], {
    [HttpStatus.NOT_FOUND]: 'No such task',
  })
  async events(
    @Param('task_id', RunIdPipe) taskId: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.streams.stream(taskId, reply);
  }

  @Delete('tasks/:task_id')
  @ApiOperation({
    summary: 'Cancel a queued or running task',
    description:
      'A queued task is removed from the queue and recorded as cancelled (200). A running ' +
      'task is marked cancelled at once and its worker stops at the next symbol or data ' +
      'chunk boundary, then records it (202). A finished task cannot be cancelled (409).',
  })
  @ApiParam(TASK_ID_PARAM)
  @ApiOkResponse({ type: TaskStateDto, description: 'Cancelled (it was queued)' })
  @ApiAcceptedResponse({ type: TaskStateDto, description: 'Cancelled; its worker is stopping it' })
  @ApiErrors([HttpStatus.NOT_FOUND, HttpStatus.CONFLICT, HttpStatus.SERVICE_UNAVAILABLE], {
    [HttpStatus.NOT_FOUND]: 'No such task',
    [HttpStatus.CONFLICT]: 'The task has already finished (the message says how)',
  })
  async cancel(
    @Param('task_id', RunIdPipe) taskId: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const { state, settled } = await this.backtests.cancel(taskId);
    void reply.status(settled ? HttpStatus.OK : HttpStatus.ACCEPTED).type(JSON_TYPE);
    return this.states.stateJson(state);
  }
}
