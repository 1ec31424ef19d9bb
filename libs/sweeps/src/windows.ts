import { InvalidInputError } from '@app/common';
import type { SweepValidation } from './sweep-request';

/**
 * SPEC §13's windows: the date ranges each combination is run over, each a separate run with
 * its own dates (indicators start afresh, exits stop at the window's last candle).
 */
export interface SweepWindow {
  /** `full`, `in_sample`, `out_of_sample`, or `fold_1` .. `fold_{folds+1}`. */
  name: string;
  /** KST calendar dates, both inclusive. */
  start_date: string;
  end_date: string;
}

const DAY_MS = 86_400_000;

/** The KST calendar date `days` after `date` (dates are calendar days: UTC arithmetic is exact). */
function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** D of SPEC §13: the number of KST days in start..end, both inclusive. */
export function kstDayCount(startDate: string, endDate: string): number {
  return (
    Math.round(
      (Date.parse(`${endDate}T00:00:00Z`) - Date.parse(`${startDate}T00:00:00Z`)) / DAY_MS,
    ) + 1
  );
}

/**
 * none: the range. holdout: the first floor(D·(1 − test_ratio)) days in-sample, the rest
 * out-of-sample. walk_forward: the range (for `top` and `best`), then folds + 1 consecutive
 * windows of floor(D/(folds+1)) days, the remainder added to the last.
 */
export function sweepWindows(
  startDate: string,
  endDate: string,
  validation: SweepValidation,
): SweepWindow[] {
  const days = kstDayCount(startDate, endDate);
  const full: SweepWindow = { name: 'full', start_date: startDate, end_date: endDate };
  if (validation.method === 'none') return [full];
  if (validation.method === 'holdout') {
    const inSampleDays = Math.floor(days * (1 - validation.test_ratio));
    if (inSampleDays < 1 || inSampleDays >= days) {
      throw InvalidInputError.of(
        'validation.test_ratio',
        validation.test_ratio,
        `a ratio that leaves both windows at least one day: the range has ${days} KST day(s), giving ${inSampleDays} in-sample and ${days - inSampleDays} out-of-sample; widen the range`,
      );
    }
    return [
      { name: 'in_sample', start_date: startDate, end_date: addDays(startDate, inSampleDays - 1) },
      { name: 'out_of_sample', start_date: addDays(startDate, inSampleDays), end_date: endDate },
    ];
  }
  const count = validation.folds + 1;
  const size = Math.floor(days / count);
  if (size < 1) {
    throw InvalidInputError.of(
      'validation.folds',
      validation.folds,
      `at most ${days - 1} folds for a range of ${days} KST day(s): each of the folds + 1 windows needs a day; widen the range or use fewer folds`,
    );
  }
  const windows = [full];
  for (let w = 0; w < count; w++) {
    const start = addDays(startDate, w * size);
    const end = w === count - 1 ? endDate : addDays(startDate, (w + 1) * size - 1);
    windows.push({ name: `fold_${w + 1}`, start_date: start, end_date: end });
  }
  return windows;
}

/** The window combinations are ranked on for `top` and `best`. */
export function rankingWindowOf(validation: SweepValidation): string {
  return validation.method === 'holdout' ? 'in_sample' : 'full';
}
