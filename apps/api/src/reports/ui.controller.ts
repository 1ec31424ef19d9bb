import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '@app/common';
import { RenderedPage, renderPage } from '@app/reports';
import { RunIdPipe } from '../http/run-id.pipe';

/** A sweep id as a path segment may hold it; anything else is no sweep of ours. */
const SWEEP_ID = /^[A-Za-z0-9_-]{1,100}$/;
/** A parameter name (the heatmap's axes); anything else is ignored. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function paramName(value: unknown): string | null {
  return typeof value === 'string' && PARAM_NAME.test(value) ? value : null;
}

/**
 * The report pages (SPEC §14): static shells that need no key; their scripts read /api with
 * the key the person gives them. Each page's CSP replaces the API's (which allows no inline
 * script) with one that allows exactly the page's own inline scripts and style, by hash.
 */
@ApiExcludeController()
@Controller('ui')
export class UiController {
  @Get()
  index(@Res({ passthrough: true }) reply: FastifyReply): string {
    return send(reply, renderPage('index', { title: 'Backtests and sweeps', mode: 'live' }));
  }

  @Get('runs/:id')
  run(@Param('id', RunIdPipe) id: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    return send(
      reply,
      renderPage('run', { title: `Run ${id}`, mode: 'live', config: { runId: id } }),
    );
  }

  @Get('sweeps/:id')
  sweep(
    @Param('id') id: string,
    @Query('x') x: unknown,
    @Query('y') y: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): string {
    if (!SWEEP_ID.test(id)) throw new NotFoundError(`No sweep ${JSON.stringify(id)}`);
    return send(
      reply,
      renderPage('sweep', {
        title: `Sweep ${id}`,
        mode: 'live',
        config: { sweepId: id, x: paramName(x), y: paramName(y) },
      }),
    );
  }
}

function send(reply: FastifyReply, page: RenderedPage): string {
  void reply
    .type('text/html; charset=utf-8')
    .header('Content-Security-Policy', page.contentSecurityPolicy)
    .header('Cache-Control', 'no-cache');
  return page.html;
}
