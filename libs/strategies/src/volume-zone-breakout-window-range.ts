/**
 * The lowest span low and the highest span high of the last `window` pushed bars, by two
 * monotonic deques of bar indices in power-of-two rings: O(1) amortized per bar, and exact
 * (only comparisons, so pmin and pmax are the very values a naive scan of the window finds).
 *
 * Bars are pushed in order, 0, 1, 2, ...; `low()` and `high()` then cover bars
 * max(0, last - window + 1) .. last, and need at least one push.
 */
export class WindowRange {
  private readonly lowQueue: Int32Array;
  private readonly highQueue: Int32Array;
  private readonly mask: number;
  private lowHead = 0;
  private lowTail = 0;
  private highHead = 0;
  private highTail = 0;

  constructor(
    private readonly spanLow: Float64Array,
    private readonly spanHigh: Float64Array,
    private readonly window: number,
  ) {
    // A deque holds at most window + 1 indices: the new one is added before the oldest leaves.
    const capacity = 2 ** Math.ceil(Math.log2(window + 1));
    this.lowQueue = new Int32Array(capacity);
    this.highQueue = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  push(index: number): void {
    const { spanLow, spanHigh, lowQueue, highQueue, mask } = this;
    const oldest = index - this.window;
    const low = spanLow[index];
    while (this.lowTail !== this.lowHead && spanLow[lowQueue[(this.lowTail - 1) & mask]] >= low) {
      this.lowTail--;
    }
    lowQueue[this.lowTail++ & mask] = index;
    if (lowQueue[this.lowHead & mask] <= oldest) this.lowHead++;
    const high = spanHigh[index];
    while (
      this.highTail !== this.highHead &&
      spanHigh[highQueue[(this.highTail - 1) & mask]] <= high
    ) {
      this.highTail--;
    }
    highQueue[this.highTail++ & mask] = index;
    if (highQueue[this.highHead & mask] <= oldest) this.highHead++;
  }

  low(): number {
    return this.spanLow[this.lowQueue[this.lowHead & this.mask]];
  }

  high(): number {
    return this.spanHigh[this.highQueue[this.highHead & this.mask]];
  }
}
