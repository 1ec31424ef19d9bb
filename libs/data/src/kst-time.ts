import { FieldProblem, InvalidInputError } from '@app/common';

/**
 * The domain's clock is Korea Standard Time, UTC+9 all year (no daylight saving): request
 * dates are KST calendar dates and a timestamp written without a zone is KST wall time.
 * Inside, every instant is UTC epoch milliseconds.
 */
export const KST_OFFSET_MS = 9 * 3_600_000;

const DAY_MS = 86_400_000;
const MIN_YEAR = 1970;
const MAX_YEAR = 9999;
const KST_DATE_RULE = `a KST calendar date YYYY-MM-DD from ${MIN_YEAR}-01-01 to ${MAX_YEAR}-12-31`;

/** A half-open instant range `[startMs, endMs)` in UTC epoch milliseconds. */
export interface EpochRange {
  startMs: number;
  endMs: number;
}

/** Validates a KST calendar date (strict `YYYY-MM-DD`, a day that exists) and returns it. */
export function parseKstDate(value: unknown, field: string): string {
  if (typeof value !== 'string' || kstDateStartMs(value) === undefined) {
    throw InvalidInputError.of(field, value, KST_DATE_RULE);
  }
  return value;
}

/**
 * The instants of the KST dates `startDate..endDate`, both inclusive:
 * `startDate 00:00 KST <= t < (endDate + 1 day) 00:00 KST`. Reports every bad field at once.
 */
export function kstDateRange(
  startDate: unknown,
  endDate: unknown,
  fields: { start: string; end: string } = { start: 'start_date', end: 'end_date' },
): EpochRange {
  const startMs = typeof startDate === 'string' ? kstDateStartMs(startDate) : undefined;
  const endDayMs = typeof endDate === 'string' ? kstDateStartMs(endDate) : undefined;
  const problems: FieldProblem[] = [];
  if (startMs === undefined)
    problems.push({ field: fields.start, value: startDate, allowed: KST_DATE_RULE });
  if (endDayMs === undefined)
    problems.push({ field: fields.end, value: endDate, allowed: KST_DATE_RULE });
  if (startMs !== undefined && endDayMs !== undefined && startMs > endDayMs) {
    problems.push(
      {
        field: fields.start,
        value: startDate,
        allowed: `a date on or before ${fields.end} (${String(endDate)})`,
      },
      {
        field: fields.end,
        value: endDate,
        allowed: `a date on or after ${fields.start} (${String(startDate)})`,
      },
    );
  }
  if (problems.length > 0 || startMs === undefined || endDayMs === undefined) {
    throw new InvalidInputError(problems);
  }
  return { startMs, endMs: endDayMs + DAY_MS };
}

/** The calendar year of an instant on the KST clock. */
export function kstYear(epochMs: number): number {
  return new Date(epochMs + KST_OFFSET_MS).getUTCFullYear();
}

/** The calendar year of an instant on the UTC clock. */
export function utcYear(epochMs: number): number {
  return new Date(epochMs).getUTCFullYear();
}

/** ISO-8601 in UTC with milliseconds and `Z`, the form every output of the service uses. */
export function formatUtcIso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Parses an ISO-8601 date-time to UTC epoch ms; undefined when it is not one.
 * With `Z` or an offset (`+09:00`, `+0900`, `+09`) the offset is applied; without a zone the
 * wall time is KST (the domain rule). A date alone is midnight KST. The separator may be `T`
 * or a space (as SQL engines print). Digits beyond milliseconds are truncated.
 */
export function parseIsoTimestamp(text: string): number | undefined {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
  const dayStartMs = utcDayStartMs(Number(year), Number(month), Number(day));
  const offsetMs = zone === undefined ? KST_OFFSET_MS : parseZoneOffsetMs(zone);
  if (
    dayStartMs === undefined ||
    offsetMs === undefined ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59
  ) {
    return undefined;
  }
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  const timeOfDayMs = ((Number(hour) * 60 + Number(minute)) * 60 + Number(second)) * 1000 + millis;
  return dayStartMs + timeOfDayMs - offsetMs;
}

function parseZoneOffsetMs(zone: string): number | undefined {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes) * 60_000;
}

/** Start of a KST date as UTC epoch ms, or undefined when the text is not such a date. */
function kstDateStartMs(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  if (year < MIN_YEAR || year > MAX_YEAR) return undefined;
  const dayStartMs = utcDayStartMs(year, Number(match[2]), Number(match[3]));
  return dayStartMs === undefined ? undefined : dayStartMs - KST_OFFSET_MS;
}

/** Midnight UTC of a calendar date, or undefined when that day does not exist (2023-02-29). */
function utcDayStartMs(year: number, month: number, day: number): number | undefined {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  const exists =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return exists ? date.getTime() : undefined;
}
