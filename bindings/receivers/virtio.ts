// The virtio-net header (docs/CONTRACT.md §8): what a tap (IFF_VNET_HDR), a VMM's virtio-net
// device or vhost reads in front of each packet, so the receiving stack takes an aggregate as one
// GSO packet of `mss`-sized segments instead of one oversized frame.
//
// struct virtio_net_hdr, little-endian (virtio spec 1.x §5.1.6; the legacy header is 10 bytes,
// the mergeable-buffers / version-1 header adds num_buffers):
// ┌─────────┬────────────┬────────────┬─────────────┬──────────────┬───────────────┬───────────────┐
// │ 0 flags │ 1 gso_type │ 2 hdr_len  │ 4 gso_size  │ 6 csum_start │ 8 csum_offset │ 10 num_buffers│
// └─────────┴────────────┴────────────┴─────────────┴──────────────┴───────────────┴───────────────┘
import { checksumField, sum16 } from '../twin/checksum.js';
import { IPV4_CHECKSUM, IPV4_HEADER, IPV4_TOTAL_LENGTH, IPV6_HEADER, IPV6_PAYLOAD_LENGTH, TCP_CHECKSUM } from '../twin/headers.js';
import { pseudoHeaderSum } from './checksum.js';
import { get16, ipOffset, isTcpAggregate, type PacketInfo, put16 } from './packet.js';

export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** Offsets of the header's fields. */
export const VNET_FLAGS = 0;
export const VNET_GSO_TYPE = 1;
export const VNET_HDR_LEN = 2;
export const VNET_GSO_SIZE = 4;
export const VNET_CSUM_START = 6;
export const VNET_CSUM_OFFSET = 8;
export const VNET_NUM_BUFFERS = 10;

export interface VirtioNetHeaderOptions {
  /** 10 (legacy `virtio_net_hdr`) or 12 (with `num_buffers` = 1: virtio 1.x, mergeable buffers, TUNSETVNETHDRSZ 12). Default 12. */
  size?: 10 | 12;
  /**
   * How the receiver treats the TCP checksum (default 'data-valid'):
   * - 'data-valid': flags DATA_VALID on packets whose every segment the engine verified and whose
   *   checksums are full and correct (`verified` and `checksumsFixed`); otherwise flags 0, and the
   *   receiver checks the checksum itself.
   * - 'needs-csum': a verified aggregate gets NEEDS_CSUM (csum_start = tcpOffset, csum_offset 16);
   *   its TCP checksum field must then hold the partial sum: call toPartialChecksum(packet).
   *   Everything else as 'data-valid'.
   * - 'none': flags 0 on every packet (the receiver verifies every checksum); GSO fields as usual.
   */
  csum?: 'data-valid' | 'needs-csum' | 'none';
}

function resolve(options: VirtioNetHeaderOptions): { size: 10 | 12; csum: 'data-valid' | 'needs-csum' | 'none' } {
  const size = options.size ?? 12;
  const csum = options.csum ?? 'data-valid';
  if (size !== 10 && size !== 12) throw new RangeError(`virtio-net header: size must be 10 or 12, got ${String(size)}`);
  if (csum !== 'data-valid' && csum !== 'needs-csum' && csum !== 'none') {
    throw new RangeError(`virtio-net header: csum must be 'data-valid', 'needs-csum' or 'none', got ${String(csum)}`);
  }
  return { size, csum };
}

/** True when toPartialChecksum rewrites this packet, i.e. when 'needs-csum' marks it NEEDS_CSUM. */
export function takesPartialChecksum(packet: Pick<PacketInfo, 'segments' | 'ipVersion' | 'tcpOffset' | 'verified'>): boolean {
  return isTcpAggregate(packet) && packet.verified;
}

/**
 * Write the virtio-net header for `packet` at target[offset …] and return its size (10 or 12).
 * Only metadata is read, so a sink can pass its `meta` (CONTRACT §8).
 */
export function writeVirtioNetHeader(packet: PacketInfo, target: Uint8Array, offset: number, options: VirtioNetHeaderOptions = {}): number {
  const { size, csum } = resolve(options);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new RangeError(`virtio-net header: ${size} bytes do not fit at offset ${offset} of a ${target.length}-byte target`);
  }
  let flags = 0;
  let gsoType = VIRTIO_NET_HDR_GSO_NONE;
  let hdrLen = 0;
  let gsoSize = 0;
  let csumStart = 0;
  let csumOffset = 0;
  if (isTcpAggregate(packet)) {
    gsoType = packet.ipVersion === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
    gsoSize = packet.mss;
    hdrLen = packet.headerLength;
  }
  if (csum === 'needs-csum' && takesPartialChecksum(packet)) {
    flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    csumStart = packet.tcpOffset;
    csumOffset = TCP_CHECKSUM;
  } else if (csum !== 'none' && packet.verified && packet.checksumsFixed) {
    flags = VIRTIO_NET_HDR_F_DATA_VALID;
  }
  target[offset + VNET_FLAGS] = flags;
  target[offset + VNET_GSO_TYPE] = gsoType;
  putLe16(target, offset + VNET_HDR_LEN, hdrLen);
  putLe16(target, offset + VNET_GSO_SIZE, gsoSize);
  putLe16(target, offset + VNET_CSUM_START, csumStart);
  putLe16(target, offset + VNET_CSUM_OFFSET, csumOffset);
  if (size === 12) putLe16(target, offset + VNET_NUM_BUFFERS, 1);
  return size;
}

/** The virtio-net header for `packet`, as a new array (CONTRACT §8). */
export function encodeVirtioNetHeader(packet: PacketInfo, options: VirtioNetHeaderOptions = {}): Uint8Array {
  const out = new Uint8Array(resolve(options).size);
  writeVirtioNetHeader(packet, out, 0, options);
  return out;
}

/**
 * Put the packet the way Linux holds a CHECKSUM_PARTIAL skb: the TCP checksum field of `data`
 * (default `packet.data`; from a sink: `meta` and your own copy of the view) becomes the folded,
 * uncomplemented pseudo-header sum, so that the receiver's ones-complement sum from csum_start to
 * the end, stored complemented at csum_start + csum_offset, is the full checksum. Rewrites only
 * the packets 'needs-csum' marks NEEDS_CSUM (takesPartialChecksum) and returns whether it did;
 * afterwards the packet no longer holds a full checksum, so use it only with 'needs-csum'. An IPv4
 * header checksum is made full too: `fixChecksums: false` leaves the first segment's, and the
 * receiver verifies that one (it finishes only the TCP checksum).
 */
export function toPartialChecksum(
  packet: Pick<PacketInfo, 'segments' | 'ipVersion' | 'tcpOffset' | 'verified'> & { data?: Uint8Array },
  data: Uint8Array | undefined = packet.data,
): boolean {
  if (!takesPartialChecksum(packet)) return false;
  if (!(data instanceof Uint8Array)) throw new TypeError('toPartialChecksum: no bytes (packet.data or the data argument)');
  const l3 = ipOffset(data, packet.ipVersion, packet.tcpOffset);
  const ipEnd =
    packet.ipVersion === 4 ? l3 + get16(data, l3 + IPV4_TOTAL_LENGTH) : l3 + IPV6_HEADER + get16(data, l3 + IPV6_PAYLOAD_LENGTH);
  if (ipEnd > data.length) throw new RangeError(`toPartialChecksum: the IP length runs past the ${data.length}-byte packet`);
  put16(data, packet.tcpOffset + TCP_CHECKSUM, pseudoHeaderSum(data, l3, packet.ipVersion, ipEnd - packet.tcpOffset));
  if (packet.ipVersion === 4) {
    // The receiver finishes the TCP checksum only; it verifies the IPv4 header's (Linux ip_rcv drops a
    // bad one), which `fixChecksums: false` left as the first segment's. A full one either way.
    put16(data, l3 + IPV4_CHECKSUM, 0);
    put16(data, l3 + IPV4_CHECKSUM, checksumField(sum16(data, l3, l3 + IPV4_HEADER)));
  }
  return true;
}

function putLe16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}
