// A one-line progress bar on stderr, drawn only when stderr is a terminal (never in pipes,
// files or CI logs), at most ten times a second, and only for runs longer than half a second.

import { nowMs } from './clock.js';

export interface ProgressTarget {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export class Progress {
  private readonly start = nowMs();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressTarget | null,
    private readonly total: number,
    private readonly label: string,
  ) {}

  /** Whether anything will ever be drawn. */
  get enabled(): boolean {
    return this.out !== null && this.out.isTTY === true && this.total > 0;
  }

  update(done: number, packets: number): void {
    if (!this.enabled) return;
    const now = nowMs();
    if (now - this.start < 500 || now - this.last < 100) return;
    this.last = now;
    const frac = Math.min(1, Math.max(0, done / this.total));
    const width = Math.max(10, Math.min(40, (this.out!.columns ?? 80) - 50));
    const fill = Math.round(frac * width);
    const secs = (now - this.start) / 1000;
    const rate = packets / secs;
    const eta = frac > 0 ? (secs / frac) * (1 - frac) : 0;
    const text =
      `${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}%  ` +
      `${(packets / 1e6).toFixed(2)} M pkts  ${(rate / 1e6).toFixed(2)} M/s  eta ${eta.toFixed(0)} s`;
    this.out!.write(`\r${text}\x1b[K`);
    this.drawn = true;
  }

  /** Erase the bar (before the summary is printed). */
  done(): void {
    if (this.drawn) this.out!.write('\r\x1b[K');
    this.drawn = false;
  }
}
