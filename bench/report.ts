// Markdown for RESULTS.md: tables and the way every figure is printed (median, then spread).
import type { Timing } from './harness.js';

/** A measured runner over a workload. */
export interface Figure {
  frames: number;
  bytes: number;
  t: Timing;
}

export function nsPerFrame(f: Figure): number {
  return f.t.p50 / f.frames;
}

export function mpps(f: Figure): number {
  return (f.frames / f.t.p50) * 1e3;
}

export function gbps(f: Figure): number {
  return (f.bytes * 8) / f.t.p50;
}

/** Half the interquartile range, relative to the median. */
export function spread(t: Timing): number {
  return (t.p75 - t.p25) / 2 / t.p50;
}

export function num(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  const d = a >= 100 ? 0 : a >= 10 ? Math.max(0, digits - 1) : digits;
  return x.toFixed(d);
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

export function ratio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '—';
}

/** "12.3 Mpps ±1.2 %" */
export function rateCell(f: Figure): string {
  return `${num(mpps(f))} ±${(spread(f.t) * 100).toFixed(1)} %`;
}

export function nsCell(f: Figure): string {
  return `${num(nsPerFrame(f), 1)} (${num(f.t.p25 / f.frames, 1)}–${num(f.t.p75 / f.frames, 1)})`;
}

export function verdict(ok: boolean): string {
  return ok ? '**met**' : '**not met**';
}

export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c)).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export class Markdown {
  private readonly parts: string[] = [];

  h(level: number, text: string): void {
    this.parts.push(`${'#'.repeat(level)} ${text}`);
  }

  p(text: string): void {
    this.parts.push(text);
  }

  table(head: string[], rows: (string | number)[][]): void {
    this.parts.push(table(head, rows));
  }

  /** Everything of `other`, after what is here. */
  append(other: Markdown): void {
    this.parts.push(...other.parts);
  }

  toString(): string {
    return `${this.parts.join('\n\n')}\n`;
  }
}
