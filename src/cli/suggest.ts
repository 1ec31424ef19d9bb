/**
 * Edit distance between two words (optimal string alignment): one per letter inserted,
 * deleted or replaced, and one per two neighbouring letters swapped, which is most typos.
 */
export function editDistance(a: string, b: string): number {
  // Rows i-2, i-1 and i of the dynamic-programming table.
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        current[j] = Math.min(current[j], beforePrevious[j - 2] + 1);
      }
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}

/**
 * The candidate the user most likely meant by `given`, or undefined when none is close: at
 * most one edit per three letters (at least one), or `given` is the start of the candidate
 * (three letters or more). Case does not matter; ties go to the earlier candidate.
 */
export function closestMatch(given: string, candidates: readonly string[]): string | undefined {
  const typed = given.toLowerCase();
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const name = candidate.toLowerCase();
    const distance = typed.length >= 3 && name.startsWith(typed) ? 0 : editDistance(typed, name);
    if (distance <= allowed && (best === undefined || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}
