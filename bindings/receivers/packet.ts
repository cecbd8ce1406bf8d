// What the receivers (virtio.ts, resegment.ts) read from a packet: the engine's `Packet` fields
// (docs/CONTRACT.md §5) plus its header metadata (ipVersion, tcpOffset, headerLength, verified,
// fixedIpId). Declared structurally so an engine `Packet`, a sink's `meta` or a hand-made object fits.
import type { Packet } from '../engine/types.js';
import { IPV4_HEADER, IPV6_HEADER } from '../twin/headers.js';

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
 * Offset of the IP header of a TCP packet whose IP header has no options or extension headers (as
 * every aggregate's has, CONTRACT §2), checked against the bytes: a version nibble that does not
 * match the metadata is misuse and throws.
 */
export function ipOffset(data: Uint8Array, ipVersion: number, tcpOffset: number): number {
  const l3 = tcpOffset - (ipVersion === 4 ? IPV4_HEADER : IPV6_HEADER);
  const expected = ipVersion === 4 ? 0x45 : 0x60;
  if (l3 < 0 || tcpOffset > data.length || (ipVersion === 4 ? data[l3] : data[l3] & 0xf0) !== expected) {
    throw new RangeError(`receivers: no option-less IPv${ipVersion} header ends at tcpOffset ${tcpOffset} (${data.length}-byte packet)`);
  }
  return l3;
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
