import { FieldProblem, InvalidInputError } from '@app/common';
import { kstDateRange, parseSymbol, parseTimeframe, Timeframe } from '@app/data';
import { resolveParams, ResolvedParams } from '@app/strategies';

/** Most symbols one run may cover: keeps a single request's work and result size bounded. */
export const MAX_SYMBOLS_PER_RUN = 100;

/** A validated backtest request: every parameter present (defaults filled in). */
export interface BacktestRequest {
  strategy: string;
  params: ResolvedParams;
  /** Upper case, de-duplicated, in the order given. */
  symbols: string[];
  timeframe: Timeframe;
  /** KST calendar dates, both inclusive. */
  start_date: string;
  end_date: string;
}

export const REQUEST_FIELDS = [
  'strategy',
  'params',
  'symbols',
  'timeframe',
  'start_date',
  'end_date',
] as const;

/**
 * Validates a raw request (HTTP body, CLI flags, job data) into a `BacktestRequest`, reporting
 * every failing field at once in one `InvalidInputError`.
 */
export function parseBacktestRequest(raw: unknown): BacktestRequest {
  const problems: FieldProblem[] = [];
  const collect = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw InvalidInputError.of('body', raw, `an object with ${REQUEST_FIELDS.join(', ')}`);
  }
  const body = raw as Record<string, unknown>;
  for (const field of Object.keys(body)) {
    if (!(REQUEST_FIELDS as readonly string[]).includes(field)) {
      problems.push({
        field,
        value: body[field],
        allowed: `no such field; the fields are ${REQUEST_FIELDS.join(', ')}`,
      });
    }
  }
  const resolved = collect(() => resolveParams(body.strategy, body.params));
  const symbols = collect(() => parseSymbols(body.symbols));
  const timeframe = collect(() => parseTimeframe(body.timeframe));
  collect(() => kstDateRange(body.start_date, body.end_date));
  if (problems.length > 0 || !resolved || !symbols || !timeframe)
    throw new InvalidInputError(problems);
  return {
    strategy: resolved.strategy.name,
    params: resolved.params,
    symbols,
    timeframe,
    start_date: body.start_date as string,
    end_date: body.end_date as string,
  };
}

function parseSymbols(value: unknown): string[] {
  const allowed = `a list of 1 to ${MAX_SYMBOLS_PER_RUN} symbols like ["BTC_KRW", "ETH_KRW"]`;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SYMBOLS_PER_RUN) {
    throw InvalidInputError.of('symbols', value, allowed);
  }
  const problems: FieldProblem[] = [];
  const symbols: string[] = [];
  value.forEach((item, index) => {
    try {
      const symbol = parseSymbol(item, `symbols[${index}]`);
      if (!symbols.includes(symbol)) symbols.push(symbol);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problems.push(...error.problems);
    }
  });
  if (problems.length > 0) throw new InvalidInputError(problems);
  return symbols;
}
