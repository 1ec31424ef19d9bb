const NEXT = 0;
const FAILED = 1;

/**
 * The symbols of a run as a queue that every lane (this thread and each worker thread) takes
 * from directly: an index counter and a failure flag in shared memory. A worker thread starts
 * its next symbol the moment it is free, without a round trip to the main thread, which may
 * be busy computing a symbol of its own.
 */
export class SymbolQueue {
  /** Shared memory for a new queue, to hand to every lane (it crosses threads as it is). */
  static allocate(): Int32Array {
    return new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  }

  constructor(
    private readonly shared: Int32Array,
    readonly symbols: readonly string[],
  ) {}

  /** The index of the next symbol in the request's order; none once all are taken or one failed. */
  take(): number | undefined {
    if (Atomics.load(this.shared, FAILED) !== 0) return undefined;
    const index = Atomics.add(this.shared, NEXT, 1);
    return index < this.symbols.length ? index : undefined;
  }

  /** No lane takes another symbol after this. */
  fail(): void {
    Atomics.store(this.shared, FAILED, 1);
  }
}

/** What a lane did with one symbol it took. */
export type LaneOutcome<T, E> = { index: number; outcome: T } | { index: number; error: E };

/**
 * One lane: takes symbols from the queue and runs them until none is left or any lane has
 * failed. A failure is kept (as `describe` makes it: plain data when it must cross threads)
 * and stops every lane.
 */
export async function runLane<T, E>(
  queue: SymbolQueue,
  run: (symbol: string) => Promise<T>,
  describe: (error: unknown) => E,
): Promise<Array<LaneOutcome<T, E>>> {
  const done: Array<LaneOutcome<T, E>> = [];
  for (let index = queue.take(); index !== undefined; index = queue.take()) {
    try {
      done.push({ index, outcome: await run(queue.symbols[index]) });
    } catch (error) {
      queue.fail();
      done.push({ index, error: describe(error) });
    }
  }
  return done;
}

/**
 * The lanes' outcomes in the symbols' order; or, when a symbol failed, the error of the first
 * failing one in that order. Symbols are taken in order, so every symbol before it was taken
 * and ran: it is the error a sequential run, which stops at its first failure, throws.
 */
export function inSymbolOrder<T>(done: ReadonlyArray<LaneOutcome<T, Error>>): T[] {
  const failures = done.flatMap((entry) => ('error' in entry ? [entry] : []));
  if (failures.length > 0) {
    throw failures.reduce((first, entry) => (entry.index < first.index ? entry : first)).error;
  }
  const outcomes: T[] = [];
  for (const entry of done) if ('outcome' in entry) outcomes[entry.index] = entry.outcome;
  return outcomes;
}
