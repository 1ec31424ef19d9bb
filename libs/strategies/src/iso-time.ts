const DAY_MS = 86_400_000;

/**
 * A formatter of UTC epoch milliseconds as `Date.prototype.toISOString` writes them
 * ("2024-01-01T00:03:00.000Z"), for the many times of one result: Date writes the date part
 * once per UTC day, arithmetic the time of day. In a profile of building a result document
 * with thousands of signals, toISOString was the largest part, and each signal now carries two
 * times. Anything unusual (a fractional or invalid time, a year outside 0000–9999) is left to
 * toISOString itself.
 */
export function createIsoFormatter(): (ms: number) => string {
  let dayStart = Number.NaN;
  let datePart = '';
  return (ms: number): string => {
    let offset = ms - dayStart;
    if (!(offset >= 0 && offset < DAY_MS)) {
      if (!Number.isInteger(ms)) return new Date(ms).toISOString();
      const start = Math.floor(ms / DAY_MS) * DAY_MS;
      const iso = new Date(start).toISOString();
      if (iso.length !== 24) return new Date(ms).toISOString();
      dayStart = start;
      datePart = iso.slice(0, 11);
      offset = ms - start;
    }
    const hours = Math.floor(offset / 3_600_000);
    const minutes = Math.floor(offset / 60_000) % 60;
    const seconds = Math.floor(offset / 1000) % 60;
    const millis = offset % 1000;
    return (
      datePart +
      (hours < 10 ? '0' : '') +
      hours +
      (minutes < 10 ? ':0' : ':') +
      minutes +
      (seconds < 10 ? ':0' : ':') +
      seconds +
      (millis < 10 ? '.00' : millis < 100 ? '.0' : '.') +
      millis +
      'Z'
    );
  };
}
