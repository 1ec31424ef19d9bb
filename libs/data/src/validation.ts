import { InvalidInputError } from '@app/common';

/** Candle intervals with data on disk; M = minutes. The directory name is this exact form. */
export const TIMEFRAMES = ['1M', '3M', '5M', '10M', '15M', '30M', '1H', '4H', '1D', '1W'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Length of one candle of each timeframe, in milliseconds. */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1M': MINUTE_MS,
  '3M': 3 * MINUTE_MS,
  '5M': 5 * MINUTE_MS,
  '10M': 10 * MINUTE_MS,
  '15M': 15 * MINUTE_MS,
  '30M': 30 * MINUTE_MS,
  '1H': HOUR_MS,
  '4H': 4 * HOUR_MS,
  '1D': DAY_MS,
  '1W': 7 * DAY_MS,
};

/**
 * A market symbol in any letter case, `BASE_QUOTE` with each part 1–20 of A-Z0-9.
 * Case-insensitive so request DTOs can reuse it on raw input (`btc_krw` is valid);
 * {@link parseSymbol} returns the upper-case form that names the directory. Both cases are
 * spelled out rather than an `i` flag: the OpenAPI document publishes `.source`, and JSON
 * Schema patterns carry no flags. ASCII only (no Kelvin sign for K).
 */
export const SYMBOL_PATTERN = /^[A-Za-z0-9]{1,20}_[A-Za-z0-9]{1,20}$/;

/** What a valid symbol looks like, for error messages. */
export const SYMBOL_RULE =
  'BASE_QUOTE: two parts of 1-20 letters A-Z or digits 0-9 joined by "_", e.g. BTC_KRW';

const TIMEFRAME_RULE = `one of ${TIMEFRAMES.join(', ')} (M = minutes; lower case accepted)`;

/** Validates a symbol and returns its upper-case form; the only way a symbol reaches a path. */
export function parseSymbol(value: unknown, field = 'symbol'): string {
  if (typeof value !== 'string' || !SYMBOL_PATTERN.test(value)) {
    throw InvalidInputError.of(field, value, SYMBOL_RULE);
  }
  return value.toUpperCase();
}

/** Validates a timeframe (`1m` or `1M`) and returns the upper-case form. */
export function parseTimeframe(value: unknown, field = 'timeframe'): Timeframe {
  const upper = typeof value === 'string' ? value.toUpperCase() : undefined;
  const timeframe = TIMEFRAMES.find((candidate) => candidate === upper);
  if (timeframe === undefined) throw InvalidInputError.of(field, value, TIMEFRAME_RULE);
  return timeframe;
}

/** A year as it names a year file: four digits. */
export function parseYear(value: unknown, field = 'year'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 9999) {
    throw InvalidInputError.of(field, value, 'an integer from 0 to 9999');
  }
  return value;
}
