// Packets with their header metadata for the receivers' tests. Uses the engine's own fields
// (ipVersion, tcpOffset, headerLength, verified, fixedIpId) when the Packet has them, and checks
// the offsets against the bytes; otherwise derives them from the bytes with the frame kit and, for
// fixedIpId, from the input frames (the second segment's IPv4 ID).
import type { Packet } from '../../bindings/engine/types.js';
import { flowKey, parseFrame } from '../../bindings/packet/index.js';
import type { ReceiverPacket } from '../../bindings/receivers/packet.js';

/** Index of the input frames: flow key and sequence number → IPv4 ID. */
export function indexInputs(frames: Iterable<Uint8Array>): Map<string, number> {
  const ids = new Map<string, number>();
  for (const f of frames) {
    const p = parseFrame(f);
    if (p?.tcp && p.ipVersion === 4) ids.set(`${flowKey(p)}|${p.tcp.seq}`, p.ipId);
  }
  return ids;
}

/** The packet with its header metadata (see the file comment). */
export function withHeaders(packet: Packet, inputs: Map<string, number>, verifiedByEngine = true): Packet & ReceiverPacket {
  const p = parseFrame(packet.data);
  const tcp = p?.tcp && p.fragment === null ? p.tcp : undefined;
  const derived = {
    ipVersion: p?.ipVersion ?? 0,
    tcpOffset: tcp ? p!.l4Offset : 0,
    headerLength: tcp ? p!.l4Offset + tcp.headerLength : 0,
  };
  const own = packet as Packet & Partial<ReceiverPacket>;
  if (own.tcpOffset !== undefined) {
    const given = { ipVersion: own.ipVersion, tcpOffset: own.tcpOffset, headerLength: own.headerLength };
    if (JSON.stringify(given) !== JSON.stringify(derived)) {
      throw new Error(`packet metadata ${JSON.stringify(given)} does not match its bytes ${JSON.stringify(derived)}`);
    }
    return own as Packet & ReceiverPacket;
  }
  let fixedIpId = false;
  if (tcp && p!.ipVersion === 4 && packet.segments >= 2) {
    const second = inputs.get(`${flowKey(p!)}|${(tcp.seq + packet.mss) >>> 0}`);
    fixedIpId = second === p!.ipId;
  }
  const verified = verifiedByEngine && !!tcp && p!.tcpChecksumOk;
  return { ...packet, ...derived, verified, fixedIpId };
}

/** Frames grouped per connection direction (frame kit flow key), in order; non-TCP under ''. */
export function byFlow(frames: Iterable<Uint8Array>, linkType?: number): Map<string, Uint8Array[]> {
  const out = new Map<string, Uint8Array[]>();
  for (const f of frames) {
    const p = parseFrame(f, linkType);
    const key = p?.tcp ? flowKey(p) : '';
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push(f);
  }
  return out;
}
