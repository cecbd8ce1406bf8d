// The job behind `lro inspect FILE`: what is in a capture, per TCP connection (direction
// matters): packets, frame bytes, TCP payload bytes and segment sizes (payload of the segments
// that carry some), sorted by packets; plus totals. It reads frames with the frame kit's
// parser (packet/dissect.ts), independent of the engine, so it can judge the engine's output.

import { openCapture, type CaptureInfo } from '../capture/index.js';
import { flowKey, parseFrame } from '../packet/dissect.js';
import { LINK_TYPES } from './link-types.js';

export interface FlowRow {
  /** "10.0.0.1:40000 → 192.168.0.1:5201" (+ " vlan 5"). */
  flow: string;
  ipVersion: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  vlan: number | null;
  interfaceId: number;
  packets: number;
  bytes: number;
  payloadBytes: number;
  /** Segments with payload, and their payload sizes. */
  segments: number;
  segmentMin: number;
  segmentMean: number;
  segmentMax: number;
  firstUs: number;
  lastUs: number;
}

export interface InspectResult {
  file: string;
  format: string;
  byteOrder: string;
  resolution: string;
  interfaces: { id: number; linkType: number; name?: string; snaplen: number; resolution: string }[];
  packets: number;
  bytes: number;
  tcpPackets: number;
  payloadBytes: number;
  /** Frames that are not TCP (or not parseable) — ARP, UDP, truncated, unknown link type. */
  otherPackets: number;
  flows: number;
  firstUs: number | null;
  lastUs: number | null;
  skipped: number;
  rows: FlowRow[];
}

/** How the table is ordered: most packets first (default), or most bytes. */
export type InspectOrder = 'packets' | 'bytes';

export function inspectFile(path: string, skipBad = false, order: InspectOrder = 'packets'): InspectResult {
  const reader = openCapture(path, { skipBad });
  const flows = new Map<string, FlowRow>();
  let packets = 0;
  let total = 0;
  let tcpPackets = 0;
  let payloadBytes = 0;
  let other = 0;
  let firstUs: number | null = null;
  let lastUs: number | null = null;
  try {
    for (let rec = reader.next(); rec !== null; rec = reader.next()) {
      packets++;
      total += rec.data.length;
      if (firstUs === null || rec.timeUs < firstUs) firstUs = rec.timeUs;
      if (lastUs === null || rec.timeUs > lastUs) lastUs = rec.timeUs;
      const link = LINK_TYPES.get(rec.linkType);
      const p = link ? parseFrame(rec.data, link.engine) : null;
      if (!p?.tcp) {
        other++;
        continue;
      }
      tcpPackets++;
      const key = `${rec.interfaceId}|${flowKey(p)}`;
      let row = flows.get(key);
      if (row === undefined) {
        const vlan = p.vlan;
        const a = p.ipVersion === 6 ? `[${p.src}]` : p.src;
        const b = p.ipVersion === 6 ? `[${p.dst}]` : p.dst;
        row = {
          flow: `${a}:${p.tcp.sport} → ${b}:${p.tcp.dport}${vlan !== null ? ` vlan ${vlan}` : ''}`,
          ipVersion: p.ipVersion,
          src: p.src,
          sport: p.tcp.sport,
          dst: p.dst,
          dport: p.tcp.dport,
          vlan,
          interfaceId: rec.interfaceId,
          packets: 0,
          bytes: 0,
          payloadBytes: 0,
          segments: 0,
          segmentMin: 0,
          segmentMean: 0,
          segmentMax: 0,
          firstUs: rec.timeUs,
          lastUs: rec.timeUs,
        };
        flows.set(key, row);
      }
      row.packets++;
      row.bytes += rec.data.length;
      row.lastUs = rec.timeUs;
      const n = p.tcp.payload.length;
      if (n > 0) {
        row.payloadBytes += n;
        payloadBytes += n;
        if (row.segments === 0 || n < row.segmentMin) row.segmentMin = n;
        if (n > row.segmentMax) row.segmentMax = n;
        row.segments++;
      }
    }
  } finally {
    reader.close();
  }
  const rows = [...flows.values()];
  for (const r of rows) r.segmentMean = r.segments ? Math.round((r.payloadBytes / r.segments) * 10) / 10 : 0;
  rows.sort((x, y) =>
    order === 'bytes'
      ? y.bytes - x.bytes || y.packets - x.packets || (x.flow < y.flow ? -1 : 1)
      : y.packets - x.packets || y.bytes - x.bytes || (x.flow < y.flow ? -1 : 1),
  );
  const info: CaptureInfo = reader.info;
  return {
    file: path,
    format: info.format,
    byteOrder: info.byteOrder,
    resolution: info.resolution,
    interfaces: info.interfaces.map((i) => ({
      id: i.id,
      linkType: i.linkType,
      ...(i.name ? { name: i.name } : {}),
      snaplen: i.snaplen,
      resolution: i.resolution,
    })),
    packets,
    bytes: total,
    tcpPackets,
    payloadBytes,
    otherPackets: other,
    flows: rows.length,
    firstUs,
    lastUs,
    skipped: reader.skipped,
    rows,
  };
}
