// Frame builders: tcpFrame, udpFrame, arpFrame and their helpers.
import { type Address, addressBytes, isV6Address, parseIpv4 } from './address.js';
import { padTo4, put16, put32, vlanList } from './bytes.js';
import { internetChecksum, pseudoHeaderSum, spoilChecksum } from './checksum.js';
import {
  ACK,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type LinkType,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
} from './constants.js';
import { fillPayload } from './payload.js';

/** Fields shared by every IP frame builder. */
export interface IpFrameSpec {
  /** 1 Ethernet (default), 113 Linux SLL (16-byte header), 276 Linux SLL2 (20-byte header), 101 raw IP. */
  linkType?: LinkType;
  /** Default 4, or 6 when `src`/`dst` is IPv6. */
  ipVersion?: 4 | 6;
  /** Defaults 10.0.0.1 / 10.0.0.2, or fd00::1 / fd00::2 for IPv6. */
  src?: Address;
  dst?: Address;
  /** TTL / hop limit, default 64. */
  ttl?: number;
  /** TOS / traffic class, default 0. */
  tos?: number;
  /** IPv4 only: Don't Fragment, default true (false when `fragment` is given). */
  df?: boolean;
  /** IPv4 only: the reserved flag bit (0x8000 of the flags / fragment field), default false. */
  reservedFlag?: boolean;
  /** IPv4 only: identification, default 0. */
  ipId?: number;
  /** IPv6 only: 20-bit flow label, default 0. */
  flowLabel?: number;
  /** One 802.1Q tag (TPID 0x8100), or several: the first 0x88a8 (QinQ S-tag), the rest 0x8100. The value is the 16-bit TCI (a plain VLAN id has PCP 0, DEI 0). */
  vlan?: number | number[];
  /** Trailing zero bytes after the IP packet (Ethernet padding), default 0. */
  padding?: number;
  /** IPv4 only: options, padded with EOL (0) to a multiple of 4 (at most 40 bytes); IHL grows accordingly. */
  ipOptions?: Uint8Array;
  /** IPv4 only: MF flag and fragment offset in 8-byte units. The L4 header is still written after the IP header. */
  fragment?: { mf?: boolean; offset?: number };
  /** IPv6 only: extension headers between the IPv6 header and L4, in order. See encodeIpv6ExtHeader. */
  ipv6ExtHeaders?: Array<{ type: number; bytes?: Uint8Array }>;
  /** Make the IPv4 header checksum wrong (the correct value inverted; low bit flipped if inversion would still verify). */
  badIpChecksum?: boolean;
  /** Ethernet source (default 02:00:00:00:00:01; also the SLL/SLL2 link-layer address) and destination (default 02:00:00:00:00:02). */
  srcMac?: Uint8Array;
  dstMac?: Uint8Array;
}

export interface TcpFrameSpec extends IpFrameSpec {
  /** Defaults 40000 / 5201. */
  sport?: number;
  dport?: number;
  /** u32, taken mod 2^32. Defaults seq 1000, ack 1. */
  seq?: number;
  ack?: number;
  /** TCP flags: the flags byte, and bits 8-11 (AE, formerly NS, then the 3 reserved bits) in the data-offset byte's low nibble. Default ACK. */
  flags?: number;
  /** Default 502. */
  window?: number;
  /** Urgent pointer, default 0. */
  urgent?: number;
  /** Raw TCP option bytes, padded with EOL (0) to a multiple of 4 (at most 40 bytes). */
  options?: Uint8Array;
  /** Payload bytes, or a length: then byte i is payloadByte(seq + i). Default 0 bytes. */
  payload?: Uint8Array | number;
  /** Make the TCP checksum wrong (same rule as badIpChecksum). */
  badTcpChecksum?: boolean;
}

export interface UdpFrameSpec extends IpFrameSpec {
  /** Defaults 40000 / 5201. */
  sport?: number;
  dport?: number;
  /** Payload bytes, or a length: then byte i is payloadByte(i). Default 0 bytes. */
  payload?: Uint8Array | number;
  /** Make the UDP checksum wrong. */
  badUdpChecksum?: boolean;
}

export interface ArpFrameSpec {
  linkType?: 1 | 113 | 276;
  vlan?: number | number[];
  srcMac?: Uint8Array;
  /** Default broadcast ff:ff:ff:ff:ff:ff. */
  dstMac?: Uint8Array;
  /** Sender / target protocol address, defaults 10.0.0.1 / 10.0.0.2. */
  senderIp?: string;
  targetIp?: string;
  /** Trailing zero bytes, default 0. */
  padding?: number;
}

const DEFAULT_SRC_MAC = new Uint8Array([0x02, 0, 0, 0, 0, 0x01]);
const DEFAULT_DST_MAC = new Uint8Array([0x02, 0, 0, 0, 0, 0x02]);
const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

// ---------------------------------------------------------------------------------------------
// Link layer

function linkBaseLength(linkType: number): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return 14;
    case LINKTYPE_LINUX_SLL:
      return 16;
    case LINKTYPE_LINUX_SLL2:
      return 20;
    case LINKTYPE_RAW:
      return 0;
    default:
      throw new Error(`unsupported link type ${linkType}`);
  }
}

/** Length of the link header including VLAN tags. */
function linkHeaderLength(linkType: number, tags: number[]): number {
  if (linkType === LINKTYPE_RAW && tags.length > 0) throw new Error('raw IP (link type 101) cannot carry VLAN tags');
  return linkBaseLength(linkType) + 4 * tags.length;
}

/** Write the link header (and tags) at offset 0. Returns the offset of the network header. */
function writeLinkHeader(
  b: Uint8Array,
  linkType: number,
  tags: number[],
  etherType: number,
  srcMac: Uint8Array,
  dstMac: Uint8Array,
): number {
  if (srcMac.length !== 6 || dstMac.length !== 6) throw new Error('MAC addresses must be 6 bytes');
  // The protocol-type chain: TPIDs of each tag, then the real ethertype.
  const types: number[] = [];
  for (let i = 0; i < tags.length; i++) types.push(tags.length > 1 && i === 0 ? ETHERTYPE_QINQ : ETHERTYPE_VLAN);
  types.push(etherType);
  let pos: number;
  if (linkType === LINKTYPE_ETHERNET) {
    b.set(dstMac, 0);
    b.set(srcMac, 6);
    put16(b, 12, types[0]);
    pos = 14;
  } else if (linkType === LINKTYPE_LINUX_SLL) {
    put16(b, 0, 0); // packet type: PACKET_HOST
    put16(b, 2, 1); // ARPHRD_ETHER
    put16(b, 4, 6); // link-layer address length
    b.set(srcMac, 6); // address (8 bytes, last two zero)
    put16(b, 14, types[0]);
    pos = 16;
  } else if (linkType === LINKTYPE_LINUX_SLL2) {
    put16(b, 0, types[0]);
    put16(b, 2, 0); // reserved
    put32(b, 4, 1); // interface index
    put16(b, 8, 1); // ARPHRD_ETHER
    b[10] = 0; // packet type: PACKET_HOST
    b[11] = 6; // link-layer address length
    b.set(srcMac, 12); // address (8 bytes, last two zero)
    pos = 20;
  } else if (linkType === LINKTYPE_RAW) {
    return 0;
  } else {
    throw new Error(`unsupported link type ${linkType}`);
  }
  for (let i = 0; i < tags.length; i++) {
    put16(b, pos, tags[i] & 0xffff);
    put16(b, pos + 2, types[i + 1]);
    pos += 4;
  }
  return pos;
}

// ---------------------------------------------------------------------------------------------
// IPv6 extension headers

/** Build an IPv6 fragment extension header entry for `ipv6ExtHeaders` (offset in 8-byte units). */
export function ipv6FragmentHeader(offset: number, mf: boolean, id: number = 0): { type: number; bytes: Uint8Array } {
  const bytes = new Uint8Array(6);
  put16(bytes, 0, ((offset & 0x1fff) << 3) | (mf ? 1 : 0));
  put32(bytes, 2, id >>> 0);
  return { type: 44, bytes };
}

/**
 * Encode one IPv6 extension header whose Next Header is `next`.
 * `bytes` is the body after the first two bytes (Next Header and Hdr Ext Len / reserved):
 *  - 44 (fragment): exactly 6 bytes (offset/flags, identification), default zeros (atomic fragment);
 *  - 51 (AH): default 10 zero bytes (reserved, SPI, sequence); zero-padded to a multiple of 8, length in 4-byte units − 2;
 *  - 0 (hop-by-hop), 60 (destination options): option bytes, padded with Pad1/PadN to a multiple of 8;
 *  - anything else (43 routing …): zero-padded to a multiple of 8. Length in 8-byte units − 1.
 */
export function encodeIpv6ExtHeader(type: number, bytes: Uint8Array | undefined, next: number): Uint8Array {
  if (type === 44) {
    const body = bytes ?? new Uint8Array(6);
    if (body.length !== 6) throw new Error('IPv6 fragment header body must be 6 bytes');
    const out = new Uint8Array(8);
    out[0] = next;
    out[1] = 0;
    out.set(body, 2);
    return out;
  }
  if (type === 51) {
    const body = bytes ?? new Uint8Array(10);
    const total = (2 + body.length + 7) & ~7;
    const out = new Uint8Array(total);
    out[0] = next;
    out[1] = total / 4 - 2;
    out.set(body, 2);
    return out;
  }
  const body = bytes ?? new Uint8Array(0);
  const total = (2 + body.length + 7) & ~7;
  if (total > 2048) throw new Error('IPv6 extension header too long');
  const out = new Uint8Array(total);
  out[0] = next;
  out[1] = total / 8 - 1;
  out.set(body, 2);
  const pad = total - 2 - body.length;
  if ((type === 0 || type === 60) && pad > 0) {
    const at = 2 + body.length;
    if (pad === 1) {
      out[at] = 0; // Pad1
    } else {
      out[at] = 1; // PadN
      out[at + 1] = pad - 2;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// IP frame assembly

interface Layout {
  frame: Uint8Array;
  /** Offset of the L4 header. */
  l4: number;
  l4Length: number;
  src: Uint8Array;
  dst: Uint8Array;
}

/**
 * Allocate the frame and write link header + IP header (+ IPv4 options / IPv6 extension headers)
 * for an L4 segment of `l4Length` bytes. The caller writes L4 at `l4` and its checksum.
 */
function buildIp(spec: IpFrameSpec, protocol: number, l4Length: number): Layout {
  const linkType = spec.linkType ?? LINKTYPE_ETHERNET;
  const version: 4 | 6 = spec.ipVersion ?? (isV6Address(spec.src) || isV6Address(spec.dst) ? 6 : 4);
  const src = addressBytes(spec.src ?? (version === 4 ? '10.0.0.1' : 'fd00::1'), version, 'src');
  const dst = addressBytes(spec.dst ?? (version === 4 ? '10.0.0.2' : 'fd00::2'), version, 'dst');
  const tags = vlanList(spec.vlan);
  const padding = spec.padding ?? 0;
  const linkLen = linkHeaderLength(linkType, tags);

  let ipHeaderLength: number;
  let ipOptions: Uint8Array | null = null;
  let ext: Uint8Array[] = [];
  if (version === 4) {
    if (spec.ipv6ExtHeaders && spec.ipv6ExtHeaders.length > 0) throw new Error('ipv6ExtHeaders need ipVersion 6');
    ipOptions = spec.ipOptions ?? null;
    const optLen = ipOptions ? padTo4(ipOptions.length) : 0;
    if (optLen > 40) throw new Error('IPv4 options longer than 40 bytes');
    ipHeaderLength = 20 + optLen;
  } else {
    if (spec.ipOptions && spec.ipOptions.length > 0) throw new Error('ipOptions need ipVersion 4');
    if (spec.fragment) throw new Error('fragment needs ipVersion 4 (use ipv6ExtHeaders with ipv6FragmentHeader)');
    const list = spec.ipv6ExtHeaders ?? [];
    ext = list.map((h, i) => encodeIpv6ExtHeader(h.type, h.bytes, i + 1 < list.length ? list[i + 1].type : protocol));
    ipHeaderLength = 40 + ext.reduce((n, e) => n + e.length, 0);
  }
  const ipLength = ipHeaderLength + l4Length; // whole IP packet
  if (version === 4 && ipLength > 65535) throw new Error(`IPv4 packet too long (${ipLength})`);
  if (version === 6 && ipLength - 40 > 65535) throw new Error(`IPv6 payload too long (${ipLength - 40})`);

  const frame = new Uint8Array(linkLen + ipLength + padding);
  const l3 = writeLinkHeader(
    frame,
    linkType,
    tags,
    version === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6,
    spec.srcMac ?? DEFAULT_SRC_MAC,
    spec.dstMac ?? DEFAULT_DST_MAC,
  );

  if (version === 4) {
    const frag = spec.fragment;
    const df = spec.df ?? frag === undefined;
    frame[l3] = 0x40 | (ipHeaderLength / 4);
    frame[l3 + 1] = (spec.tos ?? 0) & 0xff;
    put16(frame, l3 + 2, ipLength);
    put16(frame, l3 + 4, (spec.ipId ?? 0) & 0xffff);
    put16(frame, l3 + 6, (spec.reservedFlag ? 0x8000 : 0) | (df ? 0x4000 : 0) | (frag?.mf ? 0x2000 : 0) | ((frag?.offset ?? 0) & 0x1fff));
    frame[l3 + 8] = (spec.ttl ?? 64) & 0xff;
    frame[l3 + 9] = protocol;
    put16(frame, l3 + 10, 0);
    frame.set(src, l3 + 12);
    frame.set(dst, l3 + 16);
    if (ipOptions) frame.set(ipOptions, l3 + 20); // the rest of the padded area stays 0 (EOL)
    let csum = ~internetChecksum(frame, l3, l3 + ipHeaderLength) & 0xffff;
    if (spec.badIpChecksum) csum = spoilChecksum(csum);
    put16(frame, l3 + 10, csum);
  } else {
    const tc = (spec.tos ?? 0) & 0xff;
    const flowLabel = (spec.flowLabel ?? 0) & 0xfffff;
    put32(frame, l3, ((6 << 28) | (tc << 20) | flowLabel) >>> 0);
    put16(frame, l3 + 4, ipLength - 40);
    frame[l3 + 6] = ext.length > 0 ? (spec.ipv6ExtHeaders as Array<{ type: number }>)[0].type : protocol;
    frame[l3 + 7] = (spec.ttl ?? 64) & 0xff;
    frame.set(src, l3 + 8);
    frame.set(dst, l3 + 24);
    let at = l3 + 40;
    for (const e of ext) {
      frame.set(e, at);
      at += e.length;
    }
  }
  return { frame, l4: l3 + ipHeaderLength, l4Length, src, dst };
}

/** Checksum field value for the L4 segment at layout.l4 (its checksum field must be zero). */
function l4ChecksumValue(layout: Layout, protocol: number): number {
  const ph = pseudoHeaderSum(layout.src, layout.dst, protocol, layout.l4Length);
  return ~internetChecksum(layout.frame, layout.l4, layout.l4 + layout.l4Length, ph) & 0xffff;
}

/** NOP, NOP, Timestamp(kind 8, len 10, TSval, TSecr): 12 bytes, as Linux sends it. */
export function tcpTimestampOption(tsval: number, tsecr: number): Uint8Array {
  const o = new Uint8Array(12);
  o[0] = 1;
  o[1] = 1;
  o[2] = 8;
  o[3] = 10;
  put32(o, 4, tsval >>> 0);
  put32(o, 8, tsecr >>> 0);
  return o;
}

/** Build a TCP/IP frame with correct checksums (unless badIpChecksum / badTcpChecksum). */
export function tcpFrame(spec: TcpFrameSpec = {}): Uint8Array {
  const options = spec.options ?? null;
  const optLen = options ? padTo4(options.length) : 0;
  if (optLen > 40) throw new Error('TCP options longer than 40 bytes');
  const tcpHeaderLength = 20 + optLen;
  const seq = (spec.seq ?? 1000) >>> 0;
  const payload = spec.payload ?? 0;
  const payloadLength = typeof payload === 'number' ? payload : payload.length;
  if (!(payloadLength >= 0) || !Number.isInteger(payloadLength)) throw new Error(`bad payload length ${payloadLength}`);

  const layout = buildIp(spec, IPPROTO_TCP, tcpHeaderLength + payloadLength);
  const b = layout.frame;
  const t = layout.l4;
  const flags = spec.flags ?? ACK;
  put16(b, t, (spec.sport ?? 40000) & 0xffff);
  put16(b, t + 2, (spec.dport ?? 5201) & 0xffff);
  put32(b, t + 4, seq);
  put32(b, t + 8, (spec.ack ?? 1) >>> 0);
  b[t + 12] = ((tcpHeaderLength / 4) << 4) | ((flags >>> 8) & 0x0f);
  b[t + 13] = flags & 0xff;
  put16(b, t + 14, (spec.window ?? 502) & 0xffff);
  put16(b, t + 16, 0);
  put16(b, t + 18, (spec.urgent ?? 0) & 0xffff);
  if (options) b.set(options, t + 20); // padding stays 0 (EOL)
  const data = t + tcpHeaderLength;
  if (typeof payload === 'number') fillPayload(b, data, seq, payloadLength);
  else b.set(payload, data);
  let csum = l4ChecksumValue(layout, IPPROTO_TCP);
  if (spec.badTcpChecksum) csum = spoilChecksum(csum);
  put16(b, t + 16, csum);
  return b;
}

/** Build a UDP/IP frame with correct checksums (a computed 0 is sent as 0xffff). */
export function udpFrame(spec: UdpFrameSpec = {}): Uint8Array {
  const payload = spec.payload ?? 0;
  const payloadLength = typeof payload === 'number' ? payload : payload.length;
  const layout = buildIp(spec, IPPROTO_UDP, 8 + payloadLength);
  const b = layout.frame;
  const u = layout.l4;
  put16(b, u, (spec.sport ?? 40000) & 0xffff);
  put16(b, u + 2, (spec.dport ?? 5201) & 0xffff);
  put16(b, u + 4, (8 + payloadLength) & 0xffff);
  put16(b, u + 6, 0);
  if (typeof payload === 'number') fillPayload(b, u + 8, 0, payloadLength);
  else b.set(payload, u + 8);
  let csum = l4ChecksumValue(layout, IPPROTO_UDP);
  if (csum === 0) csum = 0xffff;
  if (spec.badUdpChecksum) csum = spoilChecksum(csum);
  put16(b, u + 6, csum);
  return b;
}

/** An ARP request (who-has targetIp tell senderIp), broadcast by default. */
export function arpFrame(spec: ArpFrameSpec = {}): Uint8Array {
  const linkType = spec.linkType ?? LINKTYPE_ETHERNET;
  const tags = vlanList(spec.vlan);
  const srcMac = spec.srcMac ?? DEFAULT_SRC_MAC;
  const linkLen = linkHeaderLength(linkType, tags);
  const b = new Uint8Array(linkLen + 28 + (spec.padding ?? 0));
  const a = writeLinkHeader(b, linkType, tags, ETHERTYPE_ARP, srcMac, spec.dstMac ?? BROADCAST_MAC);
  put16(b, a, 1); // hardware type: Ethernet
  put16(b, a + 2, ETHERTYPE_IPV4); // protocol type
  b[a + 4] = 6; // hardware address length
  b[a + 5] = 4; // protocol address length
  put16(b, a + 6, 1); // operation: request
  b.set(srcMac, a + 8); // sender hardware address
  b.set(parseIpv4(spec.senderIp ?? '10.0.0.1'), a + 14); // sender protocol address
  // target hardware address (a + 18 .. a + 24) stays zero
  b.set(parseIpv4(spec.targetIp ?? '10.0.0.2'), a + 24); // target protocol address
  return b;
}
