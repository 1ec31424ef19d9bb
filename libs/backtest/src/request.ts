import { InvalidInputError, ProblemCollector, RUN_REQUEST_FIELDS, RunRequest } from '@app/common';
import { kstDateRange, parseSymbol, parseTimeframe, Timeframe } from '@app/data';
import {
  ExecutionSettings,
  resolveExecution,
  resolveParams,
  ResolvedParams,
} from '@app/strategies';

/** Most symbols one run may cover: keeps a single request's work and result size bounded. */
export const MAX_SYMBOLS_PER_RUN = 100;

/** A validated run request (the contract's RunRequest, its values checked and typed). */
export interface BacktestRequest extends RunRequest {
  params: ResolvedParams;
  execution: ExecutionSettings;
  symbols: string[];
  timeframe: Timeframe;
}

/**
 * Validates a raw request (HTTP body, CLI flags, job data) into a `BacktestRequest`, reporting
 * every failing field at once in one `InvalidInputError`.
 */
export function parseBacktestRequest(raw: unknown): BacktestRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw InvalidInputError.of('body', raw, `an object with ${RUN_REQUEST_FIELDS.join(', ')}`);
  }
  const body = raw as Record<string, unknown>;
  const problems = new ProblemCollector();
  for (const field of Object.keys(body)) {
    if (!(RUN_REQUEST_FIELDS as readonly string[]).includes(field)) {
      problems.add({
        field,
        value: body[field],
        allowed: `no such field; the fields are ${RUN_REQUEST_FIELDS.join(', ')}`,
      });
    }
  }
  const resolved = problems.check(() => resolveParams(body.strategy, body.params));
  const execution = problems.check(() => resolveExecution(body.execution));
  const symbols = problems.check(() => parseSymbols(body.symbols));
  const timeframe = problems.check(() => parseTimeframe(body.timeframe));
  problems.check(() => kstDateRange(body.start_date, body.end_date));
  problems.throwIfAny();
  return {
    strategy: resolved!.strategy.name,
    params: resolved!.params,
    execution: execution!,
    symbols: symbols!,
    timeframe: timeframe!,
    start_date: body.start_date as string,
    end_date: body.end_date as string,
  };
}

export function parseSymbols(value: unknown): string[] {
  const allowed = `a list of 1 to ${MAX_SYMBOLS_PER_RUN} different symbols like ["BTC_KRW", "ETH_KRW"]`;
  if (!Array.isArray(value) || value.length === 0) {
    throw InvalidInputError.of('symbols', value, allowed);
  }
  const problems = new ProblemCollector();
  const symbols = new Set<string>();
  value.forEach((item, index) => {
    const symbol = problems.check(() => parseSymbol(item, `symbols[${index}]`));
    if (symbol !== undefined) symbols.add(symbol);
  });
  problems.throwIfAny();
  // Counted after de-duplication: "eth_btc" and "ETH_BTC" are one symbol, one unit of work.
  if (symbols.size > MAX_SYMBOLS_PER_RUN) {
    throw InvalidInputError.of('symbols', value, `${allowed} (${symbols.size} given)`);
  }
  return [...symbols];
}
