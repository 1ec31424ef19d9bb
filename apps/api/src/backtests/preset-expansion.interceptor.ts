import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable } from 'rxjs';
import { InvalidInputError, NotFoundError } from '@app/common';
import { applyPreset, parsePresetName } from '@app/backtest';
import { Presets } from '../strategies/presets.service';

/**
 * SPEC §10.7: a run request may name `preset` instead of `strategy`. Interceptors run before
 * the validation pipe, so the preset's strategy and parameters (under the request's own) are
 * put into the body here, and the body is then validated like any other request. A name that
 * is no preset is the `preset` field's 422.
 */
@Injectable()
export class PresetExpansion implements NestInterceptor {
  constructor(private readonly presets: Presets) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const body = request.body as Record<string, unknown> | undefined;
    if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'preset' in body) {
      request.body = applyPreset(body, await this.presetNamed(body.preset));
    }
    return next.handle();
  }

  private async presetNamed(value: unknown): Promise<Awaited<ReturnType<Presets['get']>>> {
    const name = parsePresetName(value, 'preset');
    try {
      return await this.presets.get(name);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      throw InvalidInputError.of(
        'preset',
        value,
        'the name of a saved preset (GET /api/strategies/presets)',
      );
    }
  }
}
