// Hand-drawn SVG plots for the demo page: a few small functions that return SVG markup, no
// dependency. Colours come from CSS variables (demo/index.html).

import type { Timeline } from './protocol.js';

const NS = 'http://www.w3.org/2000/svg';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Thousands separators. */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function svg(width: number, height: number, body: string, label: string): string {
  return `<svg xmlns="${NS}" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${escapeXml(label)}">${body}</svg>`;
}

/** A "nice" step for an axis reaching `max` with about `ticks` ticks. */
function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Vertical bars with their value on top: e.g. packets before and after. */
export function bars(items: { label: string; value: number; cls: string }[], title: string): string {
  const W = 360;
  const H = 220;
  const top = 24;
  const bottom = 36;
  const max = Math.max(1, ...items.map((i) => i.value));
  const bw = Math.min(90, (W - 40) / items.length - 30);
  let body = '';
  items.forEach((item, k) => {
    const x = 30 + k * ((W - 40) / items.length) + ((W - 40) / items.length - bw) / 2;
    const h = ((H - top - bottom) * item.value) / max;
    const y = H - bottom - h;
    body += `<rect class="${item.cls}" x="${x}" y="${y}" width="${bw}" height="${h}"><title>${escapeXml(item.label)}: ${int(item.value)}</title></rect>`;
    body += `<text x="${x + bw / 2}" y="${y - 6}" text-anchor="middle" class="value">${int(item.value)}</text>`;
    body += `<text x="${x + bw / 2}" y="${H - bottom + 18}" text-anchor="middle">${escapeXml(item.label)}</text>`;
  });
  body += `<line class="axis" x1="20" x2="${W - 10}" y1="${H - bottom}" y2="${H - bottom}"/>`;
  return svg(W, H, body, title);
}

/** Histogram: counts[n] aggregates of n segments (n ≥ 1), one bar per n. */
export function histogram(counts: number[], title: string): string {
  const W = 560;
  const H = 220;
  const left = 50;
  const bottom = 34;
  const top = 12;
  const n = Math.max(2, counts.length);
  const max = Math.max(1, ...counts.map((c) => c ?? 0));
  const step = niceStep(max, 4);
  const plotW = W - left - 10;
  const bw = plotW / (n - 1);
  let body = '';
  for (let v = 0; v <= max; v += step) {
    const y = H - bottom - ((H - top - bottom) * v) / max;
    body += `<line class="grid" x1="${left}" x2="${W - 10}" y1="${y}" y2="${y}"/><text x="${left - 6}" y="${y + 4}" text-anchor="end">${int(v)}</text>`;
  }
  for (let s = 1; s < n; s++) {
    const c = counts[s] ?? 0;
    const x = left + (s - 1) * bw;
    const h = ((H - top - bottom) * c) / max;
    if (c > 0) {
      body += `<rect class="agg" x="${x + 0.5}" y="${H - bottom - h}" width="${Math.max(1, bw - 1)}" height="${h}"><title>${s} segment${s === 1 ? '' : 's'}: ${int(c)} aggregates</title></rect>`;
    }
    const every = n > 40 ? 5 : n > 20 ? 2 : 1;
    if (s === 1 || s % every === 0) body += `<text x="${x + bw / 2}" y="${H - bottom + 14}" text-anchor="middle">${s}</text>`;
  }
  body += `<text x="${left + plotW / 2}" y="${H - 4}" text-anchor="middle">segments per aggregate</text>`;
  body += `<line class="axis" x1="${left}" x2="${W - 10}" y1="${H - bottom}" y2="${H - bottom}"/>`;
  return svg(W, H, body, title);
}

/** Horizontal bars, one per reason with a non-zero count, largest first. */
export function reasons(counts: Record<string, number>, title: string): string {
  const rows = Object.entries(counts)
    .filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1]);
  const W = 560;
  const rowH = 22;
  const left = 130;
  const H = Math.max(1, rows.length) * rowH + 10;
  const max = Math.max(1, ...rows.map(([, c]) => c));
  let body = '';
  rows.forEach(([reason, c], i) => {
    const y = 5 + i * rowH;
    const w = ((W - left - 80) * c) / max;
    body += `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escapeXml(reason)}</text>`;
    body += `<rect class="${reason === 'pass-through' ? 'pass' : 'agg'}" x="${left}" y="${y + 3}" width="${Math.max(1, w)}" height="${rowH - 6}"><title>${escapeXml(reason)}: ${int(c)}</title></rect>`;
    body += `<text x="${left + w + 6}" y="${y + 15}" class="value">${int(c)}</text>`;
  });
  if (rows.length === 0) body = `<text x="10" y="20">no packets</text>`;
  return svg(W, H, body, title);
}

/** A connection's timeline as the worker sends it (protocol.ts), its key and cap flag aside. */
export type TimelineData = Omit<Timeline, 'key' | 'truncated'>;

/**
 * Sequence space against time for one connection: each input segment a thin grey tick (its bytes
 * at its arrival), each output packet a coloured bar at its send time spanning the bytes it
 * carries — so a bar standing right of a run of ticks is those segments, coalesced.
 */
export function timeline(d: TimelineData, title: string, from = 0, to = Number.POSITIVE_INFINITY): string {
  const W = 900;
  const H = 340;
  const left = 70;
  const bottom = 36;
  const top = 10;
  const right = 12;
  const ins: number[] = [];
  const outs: number[] = [];
  for (let i = 0; i < d.inT.length; i++) if (d.inT[i] >= from && d.inT[i] <= to) ins.push(i);
  for (let i = 0; i < d.outT.length; i++) if (d.outT[i] >= from && d.outT[i] <= to) outs.push(i);
  let tMax = from + 1;
  let sMin = Number.POSITIVE_INFINITY;
  let sMax = 0;
  for (const i of ins) {
    tMax = Math.max(tMax, d.inT[i]);
    sMin = Math.min(sMin, d.inSeq[i]);
    sMax = Math.max(sMax, d.inSeq[i] + d.inLen[i]);
  }
  for (const i of outs) {
    tMax = Math.max(tMax, d.outT[i]);
    sMin = Math.min(sMin, d.outSeq[i]);
    sMax = Math.max(sMax, d.outSeq[i] + d.outLen[i]);
  }
  if (Number.isFinite(to)) tMax = to;
  if (!Number.isFinite(sMin)) sMin = 0;
  sMax = Math.max(sMax, sMin + 1);
  const x = (t: number) => left + ((W - left - right) * (t - from)) / (tMax - from);
  const y = (s: number) => H - bottom - ((H - top - bottom) * (s - sMin)) / (sMax - sMin);
  let body = '';
  const ts = niceStep(tMax - from, 6);
  for (let t = Math.ceil(from / ts) * ts; t <= tMax; t += ts) {
    body += `<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${H - bottom}"/><text x="${x(t)}" y="${H - bottom + 14}" text-anchor="middle">${fmtTime(t)}</text>`;
  }
  const ss = niceStep(sMax - sMin, 5);
  for (let s = Math.ceil(sMin / ss) * ss; s <= sMax; s += ss) {
    body += `<line class="grid" x1="${left}" x2="${W - right}" y1="${y(s)}" y2="${y(s)}"/><text x="${left - 6}" y="${y(s) + 4}" text-anchor="end">${fmtBytes(s)}</text>`;
  }
  let ticks = '';
  for (const i of ins) {
    ticks += `M${x(d.inT[i]).toFixed(1)} ${y(d.inSeq[i]).toFixed(1)}V${y(d.inSeq[i] + d.inLen[i]).toFixed(1)}`;
  }
  body += `<path class="in" d="${ticks}"/>`;
  for (const i of outs) {
    const y0 = y(d.outSeq[i]);
    const y1 = y(d.outSeq[i] + d.outLen[i]);
    const cls = d.outReason[i] === 'pass-through' ? 'pass' : 'agg';
    body += `<rect class="${cls} out" x="${(x(d.outT[i]) - 1.5).toFixed(1)}" y="${y1.toFixed(1)}" width="3" height="${Math.max(1, y0 - y1).toFixed(1)}"><title>${d.outSegments[i]} segment${d.outSegments[i] === 1 ? '' : 's'}, ${int(d.outLen[i])} bytes, ${escapeXml(d.outReason[i])}, sent at ${fmtTime(d.outT[i])}</title></rect>`;
  }
  body += `<text x="${left + (W - left - right) / 2}" y="${H - 4}" text-anchor="middle">time since the capture's first packet (µs, ms, s)</text>`;
  body += `<text transform="translate(14 ${top + (H - top - bottom) / 2}) rotate(-90)" text-anchor="middle">sequence offset</text>`;
  return svg(W, H, body, title);
}

function fmtTime(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(us % 1e6 === 0 ? 0 : 2)} s`;
  if (us >= 1e3) return `${+(us / 1e3).toFixed(2)} ms`;
  return `${+us.toFixed(0)} µs`;
}

function fmtBytes(b: number): string {
  if (b >= 1e6) return `${+(b / 1e6).toFixed(2)} MB`;
  if (b >= 1e3) return `${+(b / 1e3).toFixed(1)} kB`;
  return `${b} B`;
}
