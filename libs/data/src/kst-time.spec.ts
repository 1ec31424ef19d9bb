import { InvalidInputError } from '@app/common';
import {
  formatUtcIso,
  kstDateRange,
  kstYear,
  parseIsoTimestamp,
  parseKstDate,
  utcYear,
} from './kst-time';

const utc = (iso: string) => Date.parse(iso);

describe('kstDateRange', () => {
  it('covers start 00:00 KST up to (end + 1 day) 00:00 KST', () => {
    expect(kstDateRange('2024-01-01', '2024-01-01')).toEqual({
      startMs: utc('2023-12-31T15:00:00Z'),
      endMs: utc('2024-01-01T15:00:00Z'),
    });
    expect(kstDateRange('2024-02-28', '2024-03-01')).toEqual({
      startMs: utc('2024-02-27T15:00:00Z'),
      endMs: utc('2024-03-01T15:00:00Z'),
    });
  });

  it('rejects start after end, naming both fields', () => {
    try {
      kstDateRange('2024-02-01', '2024-01-31');
      throw new Error('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).problems.map(({ field }) => field)).toEqual([
        'start_date',
        'end_date',
      ]);
      expect((error as InvalidInputError).message).toContain('on or before end_date (2024-01-31)');
    }
  });

  it('lists every malformed date at once, under the caller’s field names', () => {
    try {
      kstDateRange('2024-13-01', 20240101, { start: 'start', end: 'end' });
      throw new Error('expected an error');
    } catch (error) {
      expect((error as InvalidInputError).problems).toEqual([
        { field: 'start', value: '2024-13-01', allowed: expect.stringContaining('YYYY-MM-DD') },
        { field: 'end', value: 20240101, allowed: expect.stringContaining('YYYY-MM-DD') },
      ]);
    }
  });
});

describe('parseKstDate', () => {
  it('accepts real calendar dates only', () => {
    expect(parseKstDate('2024-02-29', 'start_date')).toBe('2024-02-29');
    for (const bad of [
      '2023-02-29',
      '2024-04-31',
      '2024-00-10',
      '2024-1-01',
      '2024-01-01T00:00',
      ' 2024-01-01',
      '24-01-01',
      '1969-12-31',
    ]) {
      expect(() => parseKstDate(bad, 'start_date')).toThrow(InvalidInputError);
    }
    expect(() => parseKstDate(undefined, 'end_date')).toThrow(/end_date: got nothing/);
  });
});

describe('parseIsoTimestamp', () => {
  it('reads a time without a zone as KST', () => {
    expect(parseIsoTimestamp('2024-01-01T00:30:00')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2024-01-01 00:30:00')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2024-01-01 00:30')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2024-01-01')).toBe(utc('2023-12-31T15:00:00Z'));
  });

  it('applies Z and offsets in every common spelling', () => {
    expect(parseIsoTimestamp('2023-12-31T15:30:00Z')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2023-12-31t15:30:00z')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2024-01-01T00:30:00+09:00')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2024-01-01T00:30:00+0900')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2023-12-31 15:30:00+00')).toBe(utc('2023-12-31T15:30:00Z'));
    expect(parseIsoTimestamp('2023-12-31T10:00:00-05:30')).toBe(utc('2023-12-31T15:30:00Z'));
  });

  it('keeps milliseconds and truncates finer digits', () => {
    expect(parseIsoTimestamp('2023-12-31T15:30:00.123Z')).toBe(utc('2023-12-31T15:30:00.123Z'));
    expect(parseIsoTimestamp('2023-12-31T15:30:00.5Z')).toBe(utc('2023-12-31T15:30:00.500Z'));
    expect(parseIsoTimestamp('2023-12-31T15:30:00.123999999Z')).toBe(
      utc('2023-12-31T15:30:00.123Z'),
    );
  });

  it('rejects what is not a real ISO-8601 time', () => {
    for (const bad of [
      '',
      'yesterday',
      '2024-02-30T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:60:00Z',
      '2024-01-01T00:00:61Z',
      '2024-01-01T00:00:00+25:00',
      '1704067200000',
      '2024-01-01T00:00:00 Z',
      '2024/01/01 00:00',
    ]) {
      expect(parseIsoTimestamp(bad)).toBeUndefined();
    }
  });
});

describe('calendar years and formatting', () => {
  it('puts 2023-12-31T15:30Z in 2023 on the UTC clock and 2024 on the KST clock', () => {
    const instant = utc('2023-12-31T15:30:00Z');
    expect(utcYear(instant)).toBe(2023);
    expect(kstYear(instant)).toBe(2024);
    expect(kstYear(utc('2023-12-31T14:59:59.999Z'))).toBe(2023);
  });

  it('formats UTC with milliseconds and Z', () => {
    expect(formatUtcIso(utc('2024-01-01T00:00:00Z'))).toBe('2024-01-01T00:00:00.000Z');
  });
});
