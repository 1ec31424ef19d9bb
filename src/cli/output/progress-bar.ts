/**
 * A one-line progress bar on a terminal stream. It appears only when the run has taken more
 * than a moment and the stream is a terminal, so quick runs and pipes stay clean.
 */
export class ProgressBar {
  private readonly startedAt = Date.now();
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly delayMs = 300,
    private readonly width = 30,
  ) {}

  update(fraction: number, label: string): void {
    if (!this.stream.isTTY || Date.now() - this.startedAt < this.delayMs) return;
    const clamped = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(clamped * this.width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}`;
    this.stream.write(`\r[${bar}] ${(clamped * 100).toFixed(0).padStart(3)}% ${label}`.padEnd(70));
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}
