import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import { InjectConfig } from '../config.module';
import { HealthService, HealthStatus, ReadinessReport } from './health.service';

/** The part of a Fastify reply or an Express response the controller needs. */
interface StatusCodeSetter {
  status(code: number): unknown;
}

const HTTP_OK = 200;
const HTTP_SERVICE_UNAVAILABLE = 503;

export interface LivenessReport {
  status: HealthStatus;
  timestamp: string;
  uptime_s: number;
}

export interface HealthReport extends ReadinessReport {
  data_root: string;
  results_dir: string;
  redis: string;
  queue: string;
  environment: string;
  host: string;
  uptime_s: number;
}

/** The documented shapes (issue 10, item 8: the API's own e2e test checks responses by them). */
const STATUS_SCHEMA = { type: 'string', enum: ['healthy', 'unhealthy'], example: 'healthy' };
const LIVENESS_SCHEMA = {
  type: 'object',
  required: ['status', 'timestamp', 'uptime_s'],
  properties: {
    status: STATUS_SCHEMA,
    timestamp: { type: 'string', format: 'date-time', example: '2026-12-02T01:00:00.000Z' },
    uptime_s: { type: 'integer', example: 42 },
  },
};
const READINESS_PROPERTIES = {
  status: STATUS_SCHEMA,
  timestamp: { type: 'string', format: 'date-time', example: '2026-12-02T01:00:00.000Z' },
  checks: {
    type: 'object',
    description: 'Each check by name: {status: "up"|"down", ...its figures, message when down}',
    additionalProperties: { type: 'object', properties: { status: { type: 'string' } } },
    example: { redis: { status: 'up' } },
  },
  failed: { type: 'array', items: { type: 'string' }, example: [] },
  detail: {
    type: 'string',
    description: 'When unhealthy: which checks fail and why (SPEC §10.2: clients read detail)',
    example: 'Not ready: redis is down (connect ECONNREFUSED 127.0.0.1:6379)',
  },
};
const READINESS_SCHEMA = {
  type: 'object',
  required: ['status', 'timestamp', 'checks', 'failed'],
  properties: READINESS_PROPERTIES,
};
const HEALTH_SCHEMA = {
  type: 'object',
  required: [...READINESS_SCHEMA.required, 'data_root', 'results_dir', 'redis', 'queue'],
  properties: {
    ...READINESS_PROPERTIES,
    data_root: { type: 'string', example: './data' },
    results_dir: { type: 'string', example: './data/tasks' },
    redis: { type: 'string', example: 'redis://127.0.0.1:6379/0' },
    queue: { type: 'string', example: 'backtests' },
    environment: { type: 'string', example: 'production' },
    host: { type: 'string', example: 'api-1' },
    uptime_s: { type: 'integer', example: 42 },
  },
};

/**
 * Probes for orchestrators and people (SPEC §5). Served by the API on PORT and by each worker
 * on WORKER_HEALTH_PORT; open without an API key. Liveness checks nothing outside the process,
 * so a Redis outage makes pods unready, never restarts them all.
 */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  // /api/health too: the clients of the system this replaces look there (SPEC §10.1); like
  // /health it needs no API key.
  @Get(['health', 'api/health'])
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Service health with every check',
    description:
      'status "healthy" (200) or "unhealthy" (503) with the failing checks named in `failed`; ' +
      'checks: redis (PING), data_root (readable), results_dir (writable), disk (free space ≥ MIN_FREE_DISK_MB).',
  })
  @ApiResponse({ status: 200, description: 'Every check passes.', schema: HEALTH_SCHEMA })
  @ApiResponse({
    status: 503,
    description: 'A check fails; `failed` names it.',
    schema: HEALTH_SCHEMA,
  })
  async overall(@Res({ passthrough: true }) reply: StatusCodeSetter): Promise<HealthReport> {
    const readiness = await this.answer(reply);
    return {
      ...readiness,
      data_root: this.config.dataRoot,
      results_dir: this.config.resultsDir,
      redis: this.config.redis.displayUrl,
      queue: this.config.queueName,
      environment: this.config.environment,
      host: this.config.executionHost,
      uptime_s: Math.round(process.uptime()),
    };
  }

  @Get('health/live')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Liveness probe',
    description: 'The process serves requests. Checks no dependency: restart only a stuck process.',
  })
  @ApiResponse({ status: 200, description: 'The process answers.', schema: LIVENESS_SCHEMA })
  live(): LivenessReport {
    return {
      status: 'healthy',
      timestamp: new Date().toISOString(),
      uptime_s: Math.round(process.uptime()),
    };
  }

  @Get('health/ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Readiness probe',
    description: 'Redis answers, DATA_ROOT is readable, the results dir writable with free space.',
  })
  @ApiResponse({
    status: 200,
    description: 'Ready for traffic and jobs.',
    schema: READINESS_SCHEMA,
  })
  @ApiResponse({
    status: 503,
    description: 'Not ready; `failed` names the failing checks.',
    schema: READINESS_SCHEMA,
  })
  ready(@Res({ passthrough: true }) reply: StatusCodeSetter): Promise<ReadinessReport> {
    return this.answer(reply);
  }

  private async answer(reply: StatusCodeSetter): Promise<ReadinessReport> {
    const readiness = await this.health.readiness();
    reply.status(readiness.status === 'healthy' ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE);
    return readiness;
  }
}
