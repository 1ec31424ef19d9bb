import type { ResultDocument } from './result-document';

/** SPEC §12's trades export: this header, one row per trade. */
export const TRADES_CSV_HEADER =
  'symbol,entry_time,exit_time,entry_price,exit_price,entry_fill,exit_fill,hold_bars,return_pct,confidence';

/**
 * The trades of a result document as CSV (SPEC §12): times as the document has them (ISO-8601
 * UTC with ms and `Z`), numbers in their shortest round-trip form (JavaScript's own
 * Number-to-string, which reads back to the same double). Symbols are `A-Z0-9_` and need no
 * quoting. Yields the text in pieces, so a large result never becomes one huge string.
 */
export function* tradesCsvLines(result: Pick<ResultDocument, 'symbols'>): Generator<string> {
  yield `${TRADES_CSV_HEADER}\n`;
  for (const symbol of result.symbols) {
    let chunk = '';
    for (const trade of symbol.signals) {
      chunk += `${trade.symbol},${trade.timestamp},${trade.exit_timestamp},${trade.entry_price},${trade.exit_price},${trade.entry_fill},${trade.exit_fill},${trade.hold_bars},${trade.return_pct},${trade.confidence}\n`;
      if (chunk.length > 64 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk !== '') yield chunk;
  }
}

export function tradesCsv(result: Pick<ResultDocument, 'symbols'>): string {
  return [...tradesCsvLines(result)].join('');
}
