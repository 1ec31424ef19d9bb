import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { AppConfig } from '@app/config';
import { InjectConfig } from '../config.module';
import { FilesystemHealthIndicator } from './filesystem.health';
import { RedisHealthIndicator } from './redis.health';

export type HealthStatus = 'healthy' | 'unhealthy';

/** Each check's result, by name: `{status: 'up'|'down', ...details}`. */
export type HealthChecks = HealthCheckResult['details'];

export interface ReadinessReport {
  status: HealthStatus;
  timestamp: string;
  checks: HealthChecks;
  /** Names of the checks that failed (`shutting_down` while the process stops). */
  failed: string[];
  /**
   * When unhealthy: which checks fail and why, in one sentence. The clients of the system
   * this replaces show an error's `detail` and read nothing else (SPEC §10.2).
   */
  detail?: string;
}

/**
 * Readiness: Redis answers, DATA_ROOT is readable, RESULTS_DIR writable with room on its
 * disk. Terminus runs the checks side by side; its own error log is off because a probe
 * every few seconds during an outage would drown the logs — this service logs each change
 * of state once instead.
 */
@Injectable()
export class HealthService {
  private readonly logger = new Logger('Health');
  private lastFailed = '';

  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly filesystem: FilesystemHealthIndicator,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async readiness(): Promise<ReadinessReport> {
    const { dataRoot, resultsDir, minFreeDiskMb } = this.config;
    let result: HealthCheckResult;
    try {
      result = await this.health.check([
        () => this.redis.ping('redis'),
        () => this.filesystem.readable('data_root', dataRoot),
        () => this.filesystem.writable('results_dir', resultsDir),
        () => this.filesystem.freeSpace('disk', resultsDir, minFreeDiskMb),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      result = error.getResponse() as HealthCheckResult;
    }
    const failed =
      result.status === 'shutting_down' ? ['shutting_down'] : Object.keys(result.error ?? {});
    this.logChange(failed, result.details);
    return {
      status: failed.length === 0 ? 'healthy' : 'unhealthy',
      timestamp: new Date().toISOString(),
      checks: result.details,
      failed,
      ...(failed.length > 0 && { detail: unhealthyDetail(failed, result.details) }),
    };
  }

  private logChange(failed: string[], checks: HealthChecks): void {
    const key = failed.join(',');
    if (key === this.lastFailed) return;
    this.lastFailed = key;
    if (failed.length === 0) this.logger.log('Health checks pass again');
    else
      this.logger.warn({
        msg: `Health checks failing: ${failed.join(', ')}`,
        failed,
        checks: Object.fromEntries(failed.map((name) => [name, checks[name]])),
      });
  }
}

/** "Not ready: redis is down (connect ECONNREFUSED …); disk is down (only 3 MB free…)". */
function unhealthyDetail(failed: string[], checks: HealthChecks): string {
  const reasons = failed.map((name) => {
    const message = (checks[name] as { message?: unknown } | undefined)?.message;
    return typeof message === 'string' ? `${name} is down (${message})` : `${name} is down`;
  });
  return `Not ready: ${reasons.join('; ')}`;
}
