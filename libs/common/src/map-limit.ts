/**
 * `Promise.all(items.map(fn))` with at most `limit` calls in flight: for file work over an
 * unbounded number of entries (run folders, year files), which would otherwise open them all
 * at once and run out of file handles (EMFILE). Results keep the items' order.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** At most this many files open at once by any one scan (SPEC §11). */
export const MAX_OPEN_FILES = 64;
