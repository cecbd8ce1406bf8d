// Output of `lro coalesce` (and `demo`): one JSON object, or a human summary.

import { PASS_THROUGH_CAUSES, type PassThroughCause, REASONS, type Stats } from '../engine/types.js';
import type { ConversionReport } from '../capture/convert.js';
import type { CoalesceResult } from '../pipeline/coalesce.js';
import { linkTypeName } from '../pipeline/link-types.js';

/** The `--json` object: CONTRACT §7 stats names, summed over interfaces, plus run facts. */
export function summaryJson(r: CoalesceResult, elapsedMs: number): Record<string, unknown> {
  const s = r.stats;
  return {
    input: r.input,
    output: r.output,
    packetsIn: s.packetsIn,
    packetsOut: s.packetsOut,
    aggregates: s.aggregates,
    segmentsAggregated: s.segmentsAggregated,
    passedThrough: s.passedThrough,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    flowsCreated: s.flowsCreated,
    flowsDeleted: s.flowsDeleted,
    flowsActive: s.flowsActive,
    tableFull: s.tableFull,
    clockClamped: s.clockClamped,
    reasons: { ...s.reasons },
    passThroughCauses: { ...s.passThroughCauses },
    elapsedMs: round(elapsedMs, 3),
    format: r.format,
    inputFormat: r.inputFormat,
    conversion: r.conversion,
    engine: r.engine,
    interfaces: r.interfaces.length,
    skippedRecords: r.skipped,
    unsupportedRecords: r.unsupportedRecords,
  };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** 1234567 → "1,234,567". */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes with a binary-free SI unit: "1.47 GB". */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[u]}`;
}

/** Rate with an SI prefix: "3.2 M". */
export function si(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return `${n.toFixed(0)} `;
}

/** Reasons with a non-zero count, most frequent first: "threshold 2,210 · psh 12". */
export function reasonList(s: Stats, skipPassThrough: boolean): string {
  const parts = REASONS.filter((r) => s.reasons[r] > 0 && !(skipPassThrough && r === 'pass-through'))
    .sort((a, b) => s.reasons[b] - s.reasons[a])
    .map((r) => `${r} ${int(s.reasons[r])}`);
  return parts.length ? parts.join(' · ') : 'none';
}

/** Pass-through causes with a non-zero count, most frequent first: "no-payload 1,200 · bad-tcp-checksum 3". */
export function causeList(s: Stats): string {
  const parts = PASS_THROUGH_CAUSES.filter((k) => s.passThroughCauses[k] > 0)
    .sort((a, b) => s.passThroughCauses[b] - s.passThroughCauses[a])
    .map((k) => `${k} ${int(s.passThroughCauses[k])}`);
  return parts.join(' · ');
}

/** Causes of TCP segments with payload whose headers parsed (the rest went into aggregates). */
const DATA_CAUSES: readonly PassThroughCause[] = ['bad-tcp-checksum', 'flags', 'table-full', 'too-large', 'tcp-options'];

/**
 * The checksum-offload hint: more than half of the TCP segments with payload (aggregated, or passed
 * through for a cause decided after their headers parsed) passed through for a bad TCP checksum.
 */
export function checksumOffloadLikely(s: Stats): boolean {
  const bad = s.passThroughCauses['bad-tcp-checksum'];
  const data = s.segmentsAggregated + DATA_CAUSES.reduce((n, k) => n + s.passThroughCauses[k], 0);
  return bad > 0 && bad > data / 2;
}

/** "n thing" / "n things". */
function count(n: number, what: string, plural = `${what}s`): string {
  return `${int(n)} ${n === 1 ? what : plural}`;
}

/** The `converted` row: the formats, the output's resolution, and what the output could not hold. */
export function conversionText(c: ConversionReport): string {
  const dropped = [
    c.nameResolutionBlocks && count(c.nameResolutionBlocks, 'name resolution block'),
    c.statisticsBlocks && count(c.statisticsBlocks, 'statistics block'),
    c.customBlocks && count(c.customBlocks, 'custom block'),
    c.otherBlocks && count(c.otherBlocks, 'other block'),
    c.packetOptions && `the options of ${count(c.packetOptions, 'packet')}`,
  ].filter(Boolean);
  const notes = [
    dropped.length ? `dropped (pcap cannot hold them): ${dropped.join(', ')}` : '',
    c.untimedPackets ? `${count(c.untimedPackets, 'simple packet block')} (no timestamp) stamped with the time of the packet before` : '',
    c.roundedTimestamps ? `${count(c.roundedTimestamps, 'timestamp')} rounded down to ${c.resolution}` : '',
  ].filter(Boolean);
  const head = `${c.from} → ${c.to}, timestamps in ${c.resolution === 'us' ? 'µs' : 'ns'}`;
  return notes.length ? `${head}; ${notes.join('; ')}` : `${head}, nothing dropped`;
}

export function summaryText(r: CoalesceResult, elapsedMs: number): string {
  const s = r.stats;
  const lines: string[] = [];
  const linkTypes = [...r.interfaces.map((i) => i.linkType), ...r.unsupportedLinkTypes];
  const links = [...new Set(linkTypes.map(linkTypeName))].join(', ') || 'no packets';
  const ifaces = r.interfaces.length > 1 ? `, ${r.interfaces.length} interfaces` : '';
  const format = r.conversion ? `${r.inputFormat} → ${r.format}` : r.format;
  lines.push(`${r.input} → ${r.output}  (${format}, ${links}${ifaces}, ${r.engine} engine)`);
  const ratio = s.packetsOut > 0 ? s.packetsIn / s.packetsOut : 0;
  const cut = s.packetsIn > 0 ? (1 - s.packetsOut / s.packetsIn) * 100 : 0;
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(13)}${v}`);
  const reduction = s.packetsIn > 0 ? `  (${ratio.toFixed(ratio < 10 ? 2 : 1)}× fewer, −${cut.toFixed(1)}%)` : '';
  row('packets', `${int(s.packetsIn)} in → ${int(s.packetsOut)} out${reduction}`);
  row('bytes', `${bytes(s.bytesIn)} in → ${bytes(s.bytesOut)} out`);
  const aggregates = s.aggregates; // one-segment aggregates included (stats() counts them)
  const mean = aggregates > 0 ? s.segmentsAggregated / aggregates : 0;
  row('aggregates', `${int(s.aggregates)} holding ${int(s.segmentsAggregated)} segments (mean ${mean.toFixed(1)} segments per aggregate)`);
  const causes = causeList(s);
  row('pass-through', `${int(s.passedThrough)} frames unchanged${causes ? `: ${causes}` : ''}`);
  if (checksumOffloadLikely(s)) {
    lines.push(
      '  hint: captures taken on a host with checksum offload carry bad checksums in one direction — rerun with --no-verify-checksums',
    );
  }
  row('sent because', reasonList(s, true));
  row(
    'flows',
    `${int(s.flowsCreated)} created, ${int(s.flowsDeleted)} deleted${s.flowsActive ? `, ${int(s.flowsActive)} active at the end` : ''}`,
  );
  if (s.clockClamped) {
    const n = s.clockClamped;
    lines.push(
      `  warning: ${int(n)} timestamp${n === 1 ? '' : 's'} went backwards (each treated as the one before it: the capture is out of time order)`,
    );
  }
  if (r.conversion) row('converted', conversionText(r.conversion));
  if (r.skipped) row('skipped', `${int(r.skipped)} corrupt records (--skip-bad)`);
  if (r.unsupportedRecords)
    row('unchanged', `${int(r.unsupportedRecords)} records of a link type no engine takes, passed through as they were`);
  const secs = elapsedMs / 1000;
  const pps = secs > 0 ? s.packetsIn / secs : 0;
  const bps = secs > 0 ? (s.bytesIn * 8) / secs : 0;
  row('elapsed', `${secs.toFixed(secs < 10 ? 3 : 1)} s  (${si(pps)}packets/s, ${(bps / 1e9).toFixed(2)} Gbit/s)`);
  return lines.join('\n');
}
