import type { BundleProgress } from '@killtrace/bundle';

/** A one-line progress indicator on a terminal stream; silent when the stream is not a terminal. */
export class ProgressMeter {
  private shown = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  /** Redraws the line for the latest progress. */
  update(progress: BundleProgress): void {
    if (!this.stream.isTTY || progress.bytesTotal < 16 * 1024 * 1024) return;
    const pct = progress.bytesTotal > 0 ? Math.floor((progress.bytesRead / progress.bytesTotal) * 100) : 100;
    const text = `reading ${progress.phase} ${pct}% (${mb(progress.bytesRead)} / ${mb(progress.bytesTotal)}) ${progress.file}`;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    this.stream.write(`\r${text.slice(0, width).padEnd(width)}`);
    this.shown = true;
  }

  /** Clears the line. */
  done(): void {
    if (this.shown) this.stream.write(`\r${' '.repeat(Math.max(20, (this.stream.columns ?? 80) - 1))}\r`);
    this.shown = false;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
