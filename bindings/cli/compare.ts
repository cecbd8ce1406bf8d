// `lro compare WIRE OURS [LINUX]`: the per-connection comparison of pipeline/compare.ts as tables a
// person reads (one per connection, largest first, then totals), or one JSON object.

import {
  type CompareResult,
  type ConnectionReport,
  type SideReport,
  type TotalsReport,
  SEGMENT_BUCKETS,
  compareCaptures,
} from '../pipeline/compare.js';
import type { EngineOptions, Reason } from '../engine/types.js';
import { UsageError, type Parsed } from './args.js';
import { ENGINE_FLAGS, engineFactory, engineOptionsFromFlags } from './engine-flags.js';
import type { CliIo } from './io.js';
import { int } from './summary.js';

export const COMPARE_LABELS = ['WIRE', 'OURS', 'LINUX'] as const;

/** The `--json` object: sides keyed by their lowercase labels (wire, ours, linux). */
export function compareJson(r: CompareResult): Record<string, unknown> {
  const keyed = <T>(values: T[]) => Object.fromEntries(values.map((v, k) => [r.files[k].label.toLowerCase(), v]));
  return {
    files: keyed(r.files.map(({ label: _label, ...f }) => f)),
    histogramBuckets: SEGMENT_BUCKETS.map((b) => b.label),
    connections: r.connections.map(({ sides, rerun, ...c }) => ({ ...c, ...keyed(sides), ...(rerun ? { rerun } : {}) })),
    totals: keyed(r.totals),
    ...(r.rerun ? { rerun: r.rerun } : {}),
  };
}

const dot = (n: number) => (n === 0 ? '·' : int(n));
const fixed = (x: number, digits: number) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Rows of label + one cell per file, aligned: the label left, the cells right. */
function table(head: string[], rows: string[][]): string[] {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  return all.map((row) =>
    row
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('   ')
      .trimEnd(),
  );
}

/** The rows every side has, `missing` for a file without the connection. */
function sideRows(sides: (SideReport | TotalsReport | null)[], missing: string): string[][] {
  const row = (label: string, cell: (s: SideReport | TotalsReport) => string) => [label, ...sides.map((s) => (s ? cell(s) : missing))];
  return [
    row('packets', (s) => int(s.packets)),
    row('data packets', (s) => int(s.dataPackets)),
    row('segments/aggregate', (s) => (s.dataPackets ? fixed(s.meanSegments, 2) : '·')),
    ...SEGMENT_BUCKETS.map((b, i) => row(`  ${b.label.replace('-', '–')}`, (s) => dot(s.histogram[i]))),
    row('  largest', (s) => dot(s.maxSegments)),
    row('payload mean', (s) => (s.dataPackets ? int(s.meanPayload) : '·')),
    row('payload max', (s) => dot(s.maxPayload)),
    row('payload bytes', (s) => int(s.payloadBytes)),
  ];
}

function reasonText(reasons: Partial<Record<Reason, number>>): string {
  const parts = Object.entries(reasons)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0) || (a[0] < b[0] ? -1 : 1))
    .map(([r, n]) => `${r} ${int(n ?? 0)}`);
  return parts.length ? parts.join(' · ') : 'none';
}

/** Why a stream is not WIRE's, in words. */
function streamDifference(label: string, s: SideReport | null, wire: SideReport): string {
  if (s === null || s.stream.bytes === 0) return `${label}: none of the connection's ${int(wire.stream.bytes)} stream bytes`;
  const parts: string[] = [];
  if (s.stream.start !== wire.stream.start) parts.push(`starts at ${signed(s.stream.start)} (WIRE at ${signed(wire.stream.start)})`);
  if (s.stream.bytes !== wire.stream.bytes) parts.push(`${int(s.stream.bytes)} stream bytes, WIRE ${int(wire.stream.bytes)}`);
  if (s.stream.gaps > 0) {
    parts.push(
      `${int(s.stream.missingBytes)} bytes missing in ${int(s.stream.gaps)} hole${s.stream.gaps === 1 ? '' : 's'}, the first at ${signed(s.stream.firstGapAt ?? 0)}`,
    );
  }
  if (s.firstDifference !== null) parts.push(`first differs in stream bytes ${int(s.firstDifference)}–${int(s.firstDifference + 65535)}`);
  return `${label}: stream differs from WIRE's: ${parts.join('; ')}`;
}

const signed = (n: number) => `seq +${int(n)}`;

function connectionText(r: ConnectionReport, labels: string[], n: number, rerunIsOurs: boolean | null): string[] {
  const lines: string[] = [];
  const mss = r.mss !== null ? `MSS ${int(r.mss)} on WIRE` : 'no data on WIRE';
  lines.push(`${n}. ${r.flow}   (IPv${r.ipVersion}, ${mss})`);
  const rows = sideRows(r.sides, '–');
  const wire = r.sides[0];
  rows.push(['stream bytes', ...r.sides.map((s) => (s ? int(s.stream.bytes) : '–'))]);
  rows.push([
    'bytes missing (holes)',
    ...r.sides.map((s) => (s ? (s.stream.gaps ? `${int(s.stream.missingBytes)} (${int(s.stream.gaps)})` : '·') : '–')),
  ]);
  rows.push(['stream sha256', ...r.sides.map((s) => (s ? (s.stream.bytes ? s.stream.sha256.slice(0, 12) : '·') : '–'))]);
  rows.push(['same stream as WIRE', ...r.sides.map((s, k) => (k === 0 ? '' : wire === null ? '–' : s?.identical ? 'yes' : 'NO'))]);
  for (const line of table(['', ...labels], rows)) lines.push(`  ${line}`);
  if (wire !== null) {
    r.sides.forEach((s, k) => {
      if (k > 0 && !s?.identical && (wire.payloadBytes > 0 || (s?.payloadBytes ?? 0) > 0))
        lines.push(`  ${streamDifference(labels[k], s, wire)}`);
    });
  }
  r.sides.forEach((s, k) => {
    if (k > 0 && s && s.estimated > 0)
      lines.push(
        `  ${labels[k]}: ${int(s.estimated)} data packet${s.estimated === 1 ? '' : 's'} not made of WIRE segments: their segments are estimated as bytes / MSS`,
      );
  });
  if (r.rerun)
    lines.push(`  ${rerunIsOurs ? `${labels[1]} sent because` : 're-run sent because'} (--rerun): ${reasonText(r.rerun.reasons)}`);
  return lines;
}

export function compareText(r: CompareResult, top: number): string {
  const labels = r.files.map((f) => f.label);
  const lines: string[] = [];
  lines.push(`lro compare: ${r.files.map((f) => `${f.label} ${f.path} (${f.format}, ${int(f.records)} records)`).join(' · ')}`);
  const withPayload = r.connections.filter((c) => c.sides.some((s) => s !== null && s.payloadBytes > 0));
  const shown = top > 0 ? withPayload.slice(0, top) : withPayload;
  lines.push(
    `${int(r.connections.length)} TCP connection directions, ${int(withPayload.length)} with payload` +
      (shown.length < withPayload.length ? `; the largest ${shown.length} below, by WIRE payload bytes` : ', largest first'),
  );
  const rerunIsOurs = r.rerun ? r.rerun.matchesFirst : null;
  if (r.rerun) {
    const opts = Object.keys(r.rerun.options).length ? JSON.stringify(r.rerun.options) : 'default options';
    lines.push(
      r.rerun.matchesFirst
        ? `--rerun: WIRE coalesced again in memory (${opts}) gives ${labels[1]}'s packets in every connection; the reasons are ${labels[1]}'s`
        : `--rerun: WIRE coalesced again in memory (${opts}) does NOT give ${labels[1]}'s packets (${r.rerun.mismatches.join(', ')}): ` +
            `${labels[1]} was made otherwise; the reasons shown are the re-run's`,
    );
  }
  shown.forEach((c, i) => {
    lines.push('');
    lines.push(...connectionText(c, labels, i + 1, rerunIsOurs));
  });
  if (shown.length < withPayload.length)
    lines.push('', `… ${int(withPayload.length - shown.length)} more with payload (--top 0 shows all)`);
  const quiet = r.connections.length - withPayload.length;
  if (quiet > 0)
    lines.push(
      `${shown.length < withPayload.length ? '' : '\n'}${int(quiet)} direction${quiet === 1 ? '' : 's'} without payload (ACKs, handshakes) ${quiet === 1 ? 'counts' : 'count'} in the totals only`,
    );

  lines.push('', `totals (${int(r.connections.length)} connection directions)`);
  const body = [
    ['records', ...r.files.map((f) => int(f.records))],
    ['non-TCP records', ...r.files.map((f) => dot(f.otherPackets))],
    ...sideRows(r.totals, '–'),
    ['same streams as WIRE', ...r.totals.map((t, k) => (k === 0 ? '' : `${int(t.identicalStreams)} of ${int(t.comparedStreams)}`))],
  ];
  for (const line of table(['', ...labels], body)) lines.push(`  ${line}`);
  if (r.rerun)
    lines.push(`  ${rerunIsOurs ? `${labels[1]} sent because` : 're-run sent because'} (--rerun): ${reasonText(r.rerun.reasons)}`);
  lines.push(
    '',
    'segments/aggregate: WIRE segments per data packet, from sequence numbers (histogram below it);',
    "stream: the payload in sequence order, as tshark's Follow TCP Stream reassembles it",
  );
  return lines.join('\n');
}

export async function run(parsed: Parsed, io: CliIo): Promise<number> {
  const files = parsed.positionals;
  if (files.length < 2 || files.length > 3)
    throw new UsageError(`lro compare: ${files.length < 2 ? 'missing' : 'too many'} capture files (usage: lro compare WIRE OURS [LINUX])`);
  // Each file is read to its end in turn: standard input can be one of them, not two.
  if (files.filter((x) => x === '-').length > 1) throw new UsageError("lro compare: standard input ('-') can be only one of the files");
  const f = parsed.flags;
  const top = (f.get('top') as number | undefined) ?? 10;
  if (!Number.isInteger(top) || top < 0) throw new UsageError(`lro compare: --top must be an integer ≥ 0, got ${top}`);
  const engineFlags = ENGINE_FLAGS.map((s) => s.name).filter((name) => f.has(name));
  if (engineFlags.length > 0 && !f.get('rerun'))
    throw new UsageError(`lro compare: --${engineFlags[0]} is for --rerun (the options OURS was made with)`);
  let rerun: EngineOptions | null = null;
  if (f.get('rerun')) rerun = engineOptionsFromFlags('compare', parsed);
  const result = await compareCaptures({
    wire: { label: COMPARE_LABELS[0], path: files[0] },
    others: files.slice(1).map((path, i) => ({ label: COMPARE_LABELS[i + 1], path })),
    skipBad: f.get('skip-bad') === true,
    rerun,
    createEngine: engineFactory('compare'),
  });
  io.out(f.get('json') ? JSON.stringify(compareJson(result)) : compareText(result, top));
  return 0;
}
