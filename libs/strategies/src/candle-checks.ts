import { Candles, FieldProblem, InvalidInputError } from '@app/common';
import { CHUNK_BARS } from './signals';

/**
 * Magnitudes inside which the strategies' fast paths may use relative error bounds (each
 * rounding off by at most 2^-53 of its result), which hold only while no intermediate value
 * underflows or overflows. With prices in [2^-128, 2^512] and volumes 0 or in [2^-128, 2^128]:
 * distinct prices differ by at least 2^-181; window sums of up to 500 volumes stay within
 * [2^-128, 2^137] and their means times a multiplier <= 10 within [2^-137, 2^141]; densities
 * v / (hi - lo) lie in [2^-640, 2^309], products v * overlap below 2^640, and profile
 * contributions v * overlap / (hi - lo) and density * (hi - e) in [2^-821, 2^128]: all far
 * inside the normal doubles [2^-1022, 2^1024). Real markets sit well inside the ranges
 * (prices ~1e-9..1e9, volumes ~1e-8..1e15); data outside them takes the exact paths.
 */
const PRICE_MIN = 2 ** -128;
const PRICE_MAX = 2 ** 512;
const VOLUME_MIN = 2 ** -128;
const VOLUME_MAX = 2 ** 128;

export interface CandleCheck {
  /** Every value inside the ranges above: the fast paths' error bounds hold. */
  readonly ordinaryMagnitudes: boolean;
}

/**
 * Throws InvalidInputError unless every candle has finite positive prices, a finite
 * non-negative volume and low <= high: the strategies' formulas divide by prices and compare
 * spans, and corrupt rows are better reported (the first offending row per column) than
 * turned into NaN returns. Chunked for the reason given at CHUNK_BARS.
 */
export function checkCandles(candles: Candles): CandleCheck {
  let ordinaryMagnitudes = true;
  for (let from = 0; from < candles.length; from += CHUNK_BARS) {
    const to = Math.min(from + CHUNK_BARS, candles.length);
    ordinaryMagnitudes = checkChunk(candles, from, to) && ordinaryMagnitudes;
  }
  return { ordinaryMagnitudes };
}

/** Whether candles [from, to) have ordinary magnitudes; throws on corrupt ones. The common case is one predictable branch. */
function checkChunk(candles: Candles, from: number, to: number): boolean {
  const { open, high, low, close, volume } = candles;
  let ordinaryMagnitudes = true;
  for (let i = from; i < to; i++) {
    const barOpen = open[i];
    const barHigh = high[i];
    const barLow = low[i];
    const barClose = close[i];
    const barVolume = volume[i];
    if (
      barLow >= PRICE_MIN &&
      barLow <= barHigh &&
      barHigh <= PRICE_MAX &&
      barOpen >= PRICE_MIN &&
      barOpen <= PRICE_MAX &&
      barClose >= PRICE_MIN &&
      barClose <= PRICE_MAX &&
      ((barVolume >= VOLUME_MIN && barVolume <= VOLUME_MAX) || barVolume === 0)
    ) {
      continue;
    }
    const valid =
      isPrice(barOpen) &&
      isPrice(barHigh) &&
      isPrice(barLow) &&
      isPrice(barClose) &&
      barLow <= barHigh &&
      isVolume(barVolume);
    if (!valid) throw new InvalidInputError(describeInvalidCandles(candles));
    ordinaryMagnitudes = false;
  }
  return ordinaryMagnitudes;
}

function isPrice(value: number): boolean {
  return value > 0 && value < Infinity;
}

function isVolume(value: number): boolean {
  return value >= 0 && value < Infinity;
}

function describeInvalidCandles(candles: Candles): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const rules = [
    ['open', isPrice, 'a finite price > 0'],
    ['high', isPrice, 'a finite price > 0'],
    ['low', isPrice, 'a finite price > 0'],
    ['close', isPrice, 'a finite price > 0'],
    ['volume', isVolume, 'a finite volume >= 0'],
  ] as const;
  for (const [column, isValid, allowed] of rules) {
    const index = candles[column].findIndex((value) => !isValid(value));
    if (index >= 0 && index < candles.length) {
      problems.push({
        field: candleField(candles, column, index),
        value: candles[column][index],
        allowed,
      });
    }
  }
  const inverted = candles.low.findIndex((value, i) => value > candles.high[i]);
  if (inverted >= 0 && inverted < candles.length) {
    problems.push({
      field: candleField(candles, 'low', inverted),
      value: candles.low[inverted],
      allowed: `a low <= the candle's high (${candles.high[inverted]})`,
    });
  }
  return problems;
}

function candleField(candles: Candles, column: string, index: number): string {
  const time = candles.timestamp[index];
  const when = Number.isFinite(time) ? ` (${new Date(time).toISOString()})` : '';
  return `candles.${column}[${index}]${when}`;
}
