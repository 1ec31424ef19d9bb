import { seededRandom } from '@app/data';
import { createIsoFormatter } from './iso-time';

describe('createIsoFormatter', () => {
  it('writes what toISOString writes, across days, months, leap days and years', () => {
    const format = createIsoFormatter();
    const random = seededRandom(11);
    const times: number[] = [
      0,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2024, 2, 1),
      Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(2000, 0, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
    ];
    // Ascending minute bars with jumps, then random times in any order.
    let ms = Date.UTC(2017, 10, 4, 23, 2);
    for (let k = 0; k < 5_000; k++) {
      ms += random() < 0.01 ? Math.floor(random() * 40 * 86_400_000) : 60_000 + (k % 7);
      times.push(ms);
    }
    for (let k = 0; k < 5_000; k++) times.push(Math.floor((random() - 0.3) * 4e12));
    for (const time of times) expect(format(time)).toBe(new Date(time).toISOString());
  });

  it('leaves unusual times to toISOString: fractions, years past 9999, invalid', () => {
    const format = createIsoFormatter();
    expect(format(1.5)).toBe(new Date(1.5).toISOString());
    expect(format(Date.UTC(10_000, 0, 1))).toBe('+010000-01-01T00:00:00.000Z');
    expect(format(Date.UTC(-1, 0, 1, 5))).toBe(new Date(Date.UTC(-1, 0, 1, 5)).toISOString());
    expect(() => format(Number.NaN)).toThrow(RangeError);
  });
});
