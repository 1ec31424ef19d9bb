import { Candles, sliceCandles } from '@app/common';
import { DeltaSeconds, encodeDeltaSeconds } from '@app/backtest';
import { CandleFileCache, loadCandles } from '@app/data';

/** The most candles one window answers with (SPEC §14). */
export const MAX_WINDOW_CANDLES = 20_000;

/** A validated window request: times are UTC epoch ms, `from` inclusive, `to` exclusive. */
export interface CandleWindowQuery {
  symbol: string;
  timeframe: string;
  fromMs: number;
  toMs: number;
  limit: number;
}

/**
 * GET /api/data/candles's answer: the first `limit` candles of [from, to), as columns with
 * the times encoded as in chart.json (delta seconds), so a report decodes both alike.
 */
export interface CandleWindow {
  symbol: string;
  timeframe: string;
  from: string;
  to: string;
  limit: number;
  count: number;
  /** More candles lie in [from, to) past the limit; the next window starts at `next_from`. */
  truncated: boolean;
  next_from: string | null;
  time_encoding: 'delta_seconds';
  time: DeltaSeconds;
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
}

/**
 * Reads a window of candles and returns it as JSON text: the Parquet decoding and the
 * serialising both happen on the caller's thread, which in the API is a reader thread, never
 * the event loop.
 */
export async function readCandleWindowJson(
  dataRoot: string,
  query: CandleWindowQuery,
  cache?: CandleFileCache,
): Promise<string> {
  const candles = await loadCandles(
    dataRoot,
    query.symbol,
    query.timeframe,
    { startMs: query.fromMs, endMs: query.toMs },
    { cache },
  );
  return JSON.stringify(candleWindowOf(query, candles));
}

export function candleWindowOf(query: CandleWindowQuery, candles: Candles): CandleWindow {
  const window = sliceCandles(candles, 0, Math.min(candles.length, query.limit));
  const truncated = candles.length > window.length;
  return {
    symbol: query.symbol,
    timeframe: query.timeframe,
    from: new Date(query.fromMs).toISOString(),
    to: new Date(query.toMs).toISOString(),
    limit: query.limit,
    count: window.length,
    truncated,
    next_from: truncated ? new Date(candles.timestamp[window.length]).toISOString() : null,
    time_encoding: 'delta_seconds',
    time: encodeDeltaSeconds(window.timestamp),
    open: Array.from(window.open),
    high: Array.from(window.high),
    low: Array.from(window.low),
    close: Array.from(window.close),
    volume: Array.from(window.volume),
  };
}
