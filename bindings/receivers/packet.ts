// What the receivers (virtio.ts, resegment.ts) read from a packet: the engine's `Packet` fields
// (docs/CONTRACT.md §5) plus its header metadata (ipVersion, tcpOffset, headerLength, verified,
// fixedIpId). Declared structurally so an engine `Packet`, a sink's `meta` or a hand-made object fits.
import type { Packet } from '../engine/types.js';
import {
  IPV4_HEADER,
  IPV6_EXT_LENGTH,
  IPV6_EXT_MIN,
  IPV6_EXT_NEXT,
  IPV6_HEADER,
  IPV6_NEXT_HEADER,
  IPV6_PAYLOAD_LENGTH,
  PROTO_DEST_OPTIONS,
  PROTO_HOP_BY_HOP,
  PROTO_ROUTING,
  PROTO_TCP,
} from '../twin/headers.js';

export interface PacketHeaders {
  /** 4, 6, or 0 when not IP. */
  ipVersion: number;
  /** Offset of the TCP header in `data` (link header and VLAN tag included); 0 if not TCP. */
  tcpOffset: number;
  /** tcpOffset + TCP header length (options included); 0 if not TCP. */
  headerLength: number;
  /** True only when the engine verified the TCP checksum of every segment in the packet. */
  verified: boolean;
  /** IPv4 aggregate of ≥ 2 segments whose IP IDs were all equal. */
  fixedIpId: boolean;
}

/** The metadata a virtio-net header is made of (no bytes needed: a sink's `meta` fits). */
export type PacketInfo = Pick<Packet, 'segments' | 'mss' | 'checksumsFixed'> & Omit<PacketHeaders, 'fixedIpId'>;

/** A packet with its bytes and metadata. */
export type ReceiverPacket = Pick<Packet, 'data' | 'segments' | 'mss' | 'checksumsFixed'> & PacketHeaders;

/** True for a TCP packet of two or more segments: what GSO / a virtio GSO header describes. */
export function isTcpAggregate(p: Pick<PacketInfo, 'segments' | 'ipVersion' | 'tcpOffset'>): boolean {
  return p.segments >= 2 && p.tcpOffset > 0 && (p.ipVersion === 4 || p.ipVersion === 6);
}

/**
 * Offset of the IP header of a TCP packet, checked against the bytes (a header that does not match
 * the metadata is misuse and throws). IPv4: an option-less header ending at tcpOffset (as every
 * aggregate's, CONTRACT §2). IPv6: a header whose extension headers — Hop-by-Hop, Routing and
 * Destination Options only, as an aggregate may carry (CONTRACT §2) — end at tcpOffset with TCP
 * next, and whose payload length ends the packet (an aggregate has no padding); none first (the
 * header right before tcpOffset), else the header is looked for where a link layer the engine
 * parses puts it (raw IP 0, Ethernet 14, one VLAN tag 18, SLL 16, SLL2 20). The length check
 * matters: behind extension headers, the 40 bytes before tcpOffset can look like an IPv6 header
 * with TCP next (an address with 0x6_ and 0x06 in the right places).
 */
export function ipOffset(data: Uint8Array, ipVersion: number, tcpOffset: number): number {
  if (ipVersion === 4) {
    const l3 = tcpOffset - IPV4_HEADER;
    if (l3 >= 0 && tcpOffset <= data.length && data[l3] === 0x45) return l3;
  } else if (tcpOffset <= data.length) {
    for (const l3 of [tcpOffset - IPV6_HEADER, ...IPV6_STARTS]) {
      if (
        l3 >= 0 &&
        l3 + IPV6_HEADER <= tcpOffset &&
        (data[l3] & 0xf0) === 0x60 &&
        l3 + IPV6_HEADER + get16(data, l3 + IPV6_PAYLOAD_LENGTH) === data.length &&
        ipv6ChainEnd(data, l3, tcpOffset) === tcpOffset
      )
        return l3;
    }
  }
  const header =
    ipVersion === 4
      ? 'option-less IPv4 header'
      : `IPv${ipVersion} header (with Hop-by-Hop, Routing, Destination Options only; payload length to the end)`;
  throw new RangeError(`receivers: no ${header} ends at tcpOffset ${tcpOffset} (${data.length}-byte packet)`);
}

/** Where an IPv6 header may start, by link layer: raw IP, Ethernet, Ethernet + one tag, SLL, SLL2. */
const IPV6_STARTS = [0, 14, 18, 16, 20];

/** Where the IPv6 header at l3 and its extension headers (0, 43, 60) end with TCP next, walking no further than `limit`; -1 if not so. */
function ipv6ChainEnd(data: Uint8Array, l3: number, limit: number): number {
  let next = data[l3 + IPV6_NEXT_HEADER];
  let at = l3 + IPV6_HEADER;
  while (at < limit && (next === PROTO_HOP_BY_HOP || next === PROTO_ROUTING || next === PROTO_DEST_OPTIONS)) {
    if (at + IPV6_EXT_MIN > limit) return -1;
    next = data[at + IPV6_EXT_NEXT];
    at += (data[at + IPV6_EXT_LENGTH] + 1) << 3;
  }
  return next === PROTO_TCP ? at : -1;
}

export function get16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

export function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

export function get32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

export function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
