import { kstDateRange, loadCandles } from '@app/data';
import {
  computePortfolio,
  DEFAULT_EXECUTION,
  ExecutionSettings,
  PortfolioMember,
  rebuildPortfolioMember,
} from '@app/strategies';
import { Manifest, ResultStore } from '@app/storage';
import type { ResultDocument } from './result-document';

export type SymbolActivityOutcome =
  | { kind: 'changed'; manifest: Manifest; isActive: boolean }
  | { kind: 'no-run' }
  | { kind: 'no-symbol' };

/**
 * SPEC §10.6: switches one symbol of a completed run in or out of its portfolio. result.json
 * is rewritten atomically with the symbol's `is_active` and the portfolio recomputed over the
 * active symbols from their stored trades (and, with positions single, their candles read
 * again: the account's equity needs every bar); then the manifest follows (size, md5, the
 * summary's portfolio). The caller serialises writers of one run (a lock across replicas);
 * this runs off any event loop that serves requests (it parses and writes the whole result).
 */
export async function setSymbolActive(options: {
  store: ResultStore;
  dataRoot: string;
  runId: string;
  symbol: string;
  isActive: boolean;
}): Promise<SymbolActivityOutcome> {
  const { store, dataRoot, runId, symbol, isActive } = options;
  const manifest = await store.readManifest(runId);
  if (manifest?.status !== 'completed') return { kind: 'no-run' };
  const result = JSON.parse(await store.readResultText(runId)) as ResultDocument;
  const entry = result.symbols.find((candidate) => candidate.symbol === symbol);
  if (!entry) return { kind: 'no-symbol' };
  entry.is_active = isActive;
  // A document written before SPEC §12 has no trades' fills to rebuild a portfolio from.
  if (result.portfolio !== undefined) {
    result.portfolio = await recomputePortfolio(result, dataRoot);
  }
  const written = await store.replaceResult(runId, JSON.stringify(result), {
    ...manifest.summary,
    portfolio: result.portfolio === undefined ? null : { ...result.portfolio },
  });
  return { kind: 'changed', manifest: written, isActive };
}

async function recomputePortfolio(
  result: ResultDocument,
  dataRoot: string,
): Promise<ResultDocument['portfolio']> {
  const execution: ExecutionSettings = result.execution ?? DEFAULT_EXECUTION;
  const range = kstDateRange(result.start_date, result.end_date);
  const members: PortfolioMember[] = [];
  // Readers take a missing is_active as true (SPEC part two).
  for (const symbol of result.symbols.filter((candidate) => candidate.is_active !== false)) {
    const candles =
      execution.positions === 'single'
        ? await loadCandles(dataRoot, symbol.symbol, result.timeframe, range)
        : undefined;
    members.push(rebuildPortfolioMember(symbol.signals, execution, candles));
  }
  return computePortfolio(members, execution, result.timeframe);
}
