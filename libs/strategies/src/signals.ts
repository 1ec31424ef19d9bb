import { CancellationCheck, throwIfCancelled } from '@app/common';

/** What a strategy run produces for one symbol: its entries and the exit rule. */
export interface StrategySignals {
  /** Bar index of each signal, ascending. */
  readonly indices: Int32Array;
  /** Confidence (0..1) of each signal, parallel to `indices`. */
  readonly confidence: Float64Array;
  /** Every trade exits this many bars after its entry, or at the last bar. */
  readonly holdPeriodBars: number;
}

export interface StrategyRunOptions {
  /** Polled every {@link CHUNK_BARS} bars; a true answer throws `CancelledError`. */
  readonly isCancelled?: CancellationCheck;
}

/**
 * Strategies scan a series in chunks of this many bars and check cancellation between
 * chunks: about 130 checks per year of one-minute bars, so a run stops within milliseconds.
 * The chunking is also for speed: V8 optimizes a method called once per chunk as a whole,
 * while one loop over the whole series gets compiled on the stack mid-loop (OSR), which is
 * slower; to see it, run `npm run bench` with CHUNK_BARS set to the series length.
 */
export const CHUNK_BARS = 4096;

export function scanInChunks(
  length: number,
  isCancelled: CancellationCheck | undefined,
  scanChunk: (from: number, to: number) => void,
): void {
  for (let from = 0; from < length; from += CHUNK_BARS) {
    throwIfCancelled(isCancelled);
    scanChunk(from, Math.min(from + CHUNK_BARS, length));
  }
}

/** Collects signals into growing typed arrays, so a run allocates O(signals), not O(bars). */
export class SignalCollector {
  private indices = new Int32Array(1024);
  private confidence = new Float64Array(1024);
  private count = 0;

  push(index: number, confidence: number): void {
    if (this.count === this.indices.length) this.grow();
    this.indices[this.count] = index;
    this.confidence[this.count] = confidence;
    this.count++;
  }

  finish(holdPeriodBars: number): StrategySignals {
    return {
      indices: this.indices.slice(0, this.count),
      confidence: this.confidence.slice(0, this.count),
      holdPeriodBars,
    };
  }

  private grow(): void {
    const indices = new Int32Array(this.indices.length * 2);
    indices.set(this.indices);
    this.indices = indices;
    const confidence = new Float64Array(this.confidence.length * 2);
    confidence.set(this.confidence);
    this.confidence = confidence;
  }
}
