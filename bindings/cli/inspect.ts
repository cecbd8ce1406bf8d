// `lro inspect FILE`: the per-connection table of pipeline/inspect.ts, as text or JSON. Useful
// before and after `lro coalesce`.

import { linkTypeName } from '../pipeline/link-types.js';
import { inspectFile, type InspectResult } from '../pipeline/inspect.js';
import { UsageError, type Parsed } from './args.js';
import type { CliIo } from './io.js';
import { bytes, int } from './summary.js';

export function inspectText(r: InspectResult, top: number): string {
  const lines: string[] = [];
  const links = r.interfaces.map((i) => `${linkTypeName(i.linkType)}${i.name ? ` (${i.name})` : ''}`);
  lines.push(
    `${r.file}: ${r.format}, ${r.byteOrder === 'le' ? 'little' : 'big'}-endian, ${r.resolution} timestamps, ` +
      `${r.interfaces.length} interface${r.interfaces.length === 1 ? '' : 's'}: ${[...new Set(links)].join(', ') || 'none'}`,
  );
  const span = r.firstUs !== null && r.lastUs !== null ? (r.lastUs - r.firstUs) / 1e6 : 0;
  lines.push(
    `${int(r.packets)} packets, ${bytes(r.bytes)}, ${span.toFixed(6)} s; ${int(r.tcpPackets)} TCP in ${int(r.flows)} connection directions ` +
      `(${bytes(r.payloadBytes)} payload), ${int(r.otherPackets)} other${r.skipped ? `; ${int(r.skipped)} corrupt records skipped` : ''}`,
  );
  if (r.rows.length === 0) return lines.join('\n');
  const shown = top > 0 ? r.rows.slice(0, top) : r.rows;
  const multiIface = r.interfaces.length > 1;
  const head = ['flow', ...(multiIface ? ['if'] : []), 'packets', 'bytes', 'payload', 'segments', 'min', 'mean', 'max'];
  const body = shown.map((x) => [
    x.flow,
    ...(multiIface ? [String(x.interfaceId)] : []),
    int(x.packets),
    int(x.bytes),
    int(x.payloadBytes),
    int(x.segments),
    int(x.segmentMin),
    x.segmentMean.toFixed(1),
    int(x.segmentMax),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const fmt = (row: string[]) =>
    row
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  lines.push('');
  lines.push(fmt(head));
  for (const row of body) lines.push(fmt(row));
  if (shown.length < r.rows.length) lines.push(`… ${int(r.rows.length - shown.length)} more (--top 0 shows all)`);
  lines.push(`segment sizes: TCP payload bytes of the segments that carry payload`);
  return lines.join('\n');
}

export function run(parsed: Parsed, io: CliIo): number {
  if (parsed.positionals.length !== 1)
    throw new UsageError(`lro inspect: ${parsed.positionals.length === 0 ? 'missing' : 'one'} capture file (usage: lro inspect FILE)`);
  const top = (parsed.flags.get('top') as number | undefined) ?? 20;
  if (!Number.isInteger(top) || top < 0) throw new UsageError(`lro inspect: --top must be an integer ≥ 0, got ${top}`);
  const sort = (parsed.flags.get('sort') as string | undefined) ?? 'packets';
  if (sort !== 'packets' && sort !== 'bytes') throw new UsageError(`lro inspect: --sort must be packets or bytes, got '${sort}'`);
  const r = inspectFile(parsed.positionals[0], parsed.flags.get('skip-bad') === true, sort);
  if (parsed.flags.get('json')) io.out(JSON.stringify(r));
  else io.out(inspectText(r, top));
  return 0;
}
