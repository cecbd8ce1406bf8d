// Frame builder and tiny parser for tests, the fuzzer and the traffic generator.
//
// This file is deliberately plain: tests use it as a judge that is independent of the engine, so
// every field is written and read one at a time, in header order, with no shared tricks.
//
// Builders:  tcpFrame, udpFrame, arpFrame (+ tcpTimestampOption, ipv6FragmentHeader helpers).
// Parser:    parseFrame → ParsedFrame | null, flowKey.
// Checksums: internetChecksum (RFC 1071 ones-complement sum, NOT inverted).
// Payloads:  a numeric `payload` is filled with the stream pattern: the byte carried at TCP sequence
//            number s is payloadByte(s) (a fixed function of s mod 65536, so it is consistent across
//            the 2^32 wrap). payloadMatches / expectedPayload let a validator check any segment.
//
// Link layers (pcap LINKTYPE): 1 Ethernet (14-byte header), 113 Linux SLL (16), 276 Linux SLL2 (20),
// 101 raw IP (none). VLAN tags follow the link header's protocol field on Ethernet, SLL and SLL2
// alike: [TPID][TCI][TPID][TCI]…[ethertype]; raw IP cannot carry tags.

export const FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  ACK = 0x10,
  URG = 0x20,
  ECE = 0x40,
  CWR = 0x80;

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_RAW = 101;
export type LinkType = 1 | 113 | 276 | 101;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** An address as text ("10.0.0.1", "fd00::1") or as its 4 / 16 raw bytes. */
export type Address = string | Uint8Array;

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
  /** TCP flags byte (bit 8 = NS/AE lands in the data-offset byte). Default ACK. */
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
// Checksum

/**
 * RFC 1071 Internet checksum sum over bytes[start, end): big-endian 16-bit words, an odd last byte
 * is padded with a zero on the right, carries folded back in. Returns the folded 16-bit
 * ones-complement SUM (not inverted). `initial` is added first (e.g. a pseudo-header sum).
 * The checksum field value is `~sum & 0xffff`; data that includes a correct checksum sums to 0xffff.
 */
export function internetChecksum(bytes: Uint8Array, start: number = 0, end: number = bytes.length, initial: number = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

/** A checksum field value that certainly fails verification, given the correct one. */
function spoilChecksum(correct: number): number {
  // Inverting gives the other ones-complement zero when correct is 0x0000 / 0xffff, which still verifies.
  if (correct === 0 || correct === 0xffff) return correct ^ 1;
  return correct ^ 0xffff;
}

/** Sum of the TCP/UDP pseudo-header (RFC 793 / RFC 8200 §8.1), not inverted. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, l4Length: number): number {
  if (src.length === 4) {
    const ph = new Uint8Array(12);
    ph.set(src, 0);
    ph.set(dst, 4);
    ph[8] = 0;
    ph[9] = protocol;
    ph[10] = (l4Length >>> 8) & 0xff;
    ph[11] = l4Length & 0xff;
    return internetChecksum(ph, 0, 12);
  }
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  ph[32] = (l4Length >>> 24) & 0xff;
  ph[33] = (l4Length >>> 16) & 0xff;
  ph[34] = (l4Length >>> 8) & 0xff;
  ph[35] = l4Length & 0xff;
  ph[39] = protocol;
  return internetChecksum(ph, 0, 40);
}

// ---------------------------------------------------------------------------------------------
// Payload pattern

/** Period of the payload pattern; divides 2^32 so the pattern is consistent across sequence wrap. */
export const PAYLOAD_PATTERN_PERIOD = 65536;

/** Pattern byte for k in [0, 65536): a murmur3-style mix of k + 1, low byte. */
function patternByte(k: number): number {
  let x = Math.imul(k + 1, 0x9e3779b1);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return x & 0xff;
}

// Two periods back to back, so any run of up to 65536 bytes is one contiguous slice.
const PATTERN = new Uint8Array(2 * PAYLOAD_PATTERN_PERIOD);
for (let k = 0; k < PAYLOAD_PATTERN_PERIOD; k++) {
  PATTERN[k] = patternByte(k);
  PATTERN[k + PAYLOAD_PATTERN_PERIOD] = PATTERN[k];
}

/** The byte a stream carries at sequence number `seq` (any integer; taken mod 2^32). */
export function payloadByte(seq: number): number {
  return PATTERN[(seq >>> 0) & 0xffff];
}

/** Write the pattern for sequence numbers [seq, seq + length) into dst at `at`. */
export function fillPayload(dst: Uint8Array, at: number, seq: number, length: number): void {
  let s = seq >>> 0;
  let left = length;
  while (left > 0) {
    const n = Math.min(left, PAYLOAD_PATTERN_PERIOD);
    const k = s & 0xffff;
    dst.set(PATTERN.subarray(k, k + n), at);
    at += n;
    left -= n;
    s = (s + n) >>> 0;
  }
}

/** A new array holding the pattern for [seq, seq + length). */
export function expectedPayload(seq: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  fillPayload(out, 0, seq, length);
  return out;
}

/** Index of the first byte of `payload` that differs from the pattern starting at `seq`, or -1. */
export function payloadMismatch(payload: Uint8Array, seq: number): number {
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] !== payloadByte(seq + i)) return i;
  }
  return -1;
}

/** True if `payload` is exactly the pattern starting at sequence number `seq`. */
export function payloadMatches(payload: Uint8Array, seq: number): boolean {
  return payloadMismatch(payload, seq) === -1;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** Parse dotted IPv4 text into 4 bytes. Throws on bad input. */
export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address: ${text}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) throw new Error(`bad IPv4 address: ${text}`);
    const v = Number(parts[i]);
    if (v > 255) throw new Error(`bad IPv4 address: ${text}`);
    out[i] = v;
  }
  return out;
}

/** Parse IPv6 text (with optional '::' and optional dotted IPv4 tail) into 16 bytes. Throws on bad input. */
export function parseIpv6(text: string): Uint8Array {
  const bad = (): never => {
    throw new Error(`bad IPv6 address: ${text}`);
  };
  const halves = text.split('::');
  if (halves.length > 2) bad();
  const toGroups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) bad();
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = toGroups(halves[0]);
  const tail = halves.length === 2 ? toGroups(halves[1]) : [];
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) bad();
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) bad();
    groups = head;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >>> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

/** Parse IPv4 or IPv6 text (IPv6 if it contains ':'). */
export function parseIp(text: string): Uint8Array {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** Format 4 or 16 address bytes: dotted IPv4, or RFC 5952 IPv6 (lowercase, longest run of ≥ 2 zero groups as '::'). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new Error(`formatIp: expected 4 or 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((v) => v.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

function addressBytes(a: Address, version: 4 | 6, what: string): Uint8Array {
  const bytes = typeof a === 'string' ? parseIp(a) : a;
  const want = version === 4 ? 4 : 16;
  if (bytes.length !== want) throw new Error(`${what}: IPv${version} needs a ${want}-byte address, got ${typeof a === 'string' ? a : `${bytes.length} bytes`}`);
  return bytes;
}

function isV6Address(a: Address | undefined): boolean {
  if (a === undefined) return false;
  return typeof a === 'string' ? a.includes(':') : a.length === 16;
}

// ---------------------------------------------------------------------------------------------
// Small writers

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function get16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function get32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function padTo4(len: number): number {
  return (len + 3) & ~3;
}

function vlanList(vlan: number | number[] | undefined): number[] {
  if (vlan === undefined) return [];
  return typeof vlan === 'number' ? [vlan] : vlan;
}

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
function writeLinkHeader(b: Uint8Array, linkType: number, tags: number[], etherType: number, srcMac: Uint8Array, dstMac: Uint8Array): number {
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
    put16(frame, l3 + 6, (df ? 0x4000 : 0) | (frag?.mf ? 0x2000 : 0) | ((frag?.offset ?? 0) & 0x1fff));
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
  b[t + 12] = ((tcpHeaderLength / 4) << 4) | ((flags >>> 8) & 1);
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

// ---------------------------------------------------------------------------------------------
// Parser

export interface ParsedTcp {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** Flags byte, plus 0x100 for NS/AE. */
  flags: number;
  window: number;
  urgent: number;
  headerLength: number;
  options: Uint8Array;
  /** View into the frame: the bytes after the TCP header up to the IP length (padding excluded). */
  payload: Uint8Array;
  checksum: number;
}

export interface ParsedUdp {
  sport: number;
  dport: number;
  length: number;
  payload: Uint8Array;
  checksum: number;
}

export interface ParsedFrame {
  linkType: number;
  /** Offset of the IP (or ARP …) header in the frame. */
  l3Offset: number;
  /** Final protocol type of the link layer after VLAN tags (0x0800, 0x86dd, 0x0806 …). */
  etherType: number;
  ipVersion: 4 | 6 | 0;
  /** IPv4: IHL × 4. IPv6: 40 + all extension headers (i.e. the offset from l3Offset to L4). */
  ipHeaderLength: number;
  /** IPv4 total length, or IPv6 payload length. 0 for non-IP. */
  ipLength: number;
  /** Address text (formatIp); '' for non-IP. */
  src: string;
  dst: string;
  /** VLAN id (TCI & 0xfff) of the outermost tag, or null. */
  vlan: number | null;
  /** VLAN ids of all tags, outermost first. */
  vlans: number[];
  /** IPv4 protocol, or the IPv6 next header after the extension headers we walk (0, 43, 44, 51, 60). */
  protocol: number;
  /** TTL / hop limit. */
  ttl: number;
  /** TOS / traffic class. */
  tos: number;
  /** IPv4 identification (0 for IPv6). */
  ipId: number;
  /** IPv4 DF (false for IPv6). */
  df: boolean;
  /** IPv6 flow label (0 for IPv4). */
  flowLabel: number;
  /** IPv4 MF / offset, or the IPv6 fragment header's; null if neither (an IPv6 atomic fragment header gives {mf:false, offset:0}). */
  fragment: { mf: boolean; offset: number } | null;
  /** Offset of the L4 header in the frame (l3Offset + ipHeaderLength); -1 for non-IP. */
  l4Offset: number;
  /** Present when protocol is TCP, this is not a non-first fragment, and the TCP header fits. */
  tcp?: ParsedTcp;
  udp?: ParsedUdp;
  /** IPv4 header checksum verifies; true for IPv6 (no header checksum); false for non-IP. */
  ipChecksumOk: boolean;
  /** TCP checksum (pseudo-header + segment) verifies; false when there is no parsed TCP header. */
  tcpChecksumOk: boolean;
}

/**
 * Parse a frame. Returns null when the link header is truncated, the link type is unknown, or the
 * frame says IP but the IP header / IP length does not fit (truncated or malformed).
 * Non-IP frames (ARP …) give ipVersion 0.
 */
export function parseFrame(frame: Uint8Array, linkType: number = LINKTYPE_ETHERNET): ParsedFrame | null {
  const len = frame.length;
  let off: number;
  let etherType: number;
  const vlans: number[] = [];
  if (linkType === LINKTYPE_RAW) {
    if (len < 1) return null;
    const v = frame[0] >> 4;
    if (v === 4) etherType = ETHERTYPE_IPV4;
    else if (v === 6) etherType = ETHERTYPE_IPV6;
    else return null;
    off = 0;
  } else {
    if (linkType === LINKTYPE_ETHERNET) {
      if (len < 14) return null;
      etherType = get16(frame, 12);
      off = 14;
    } else if (linkType === LINKTYPE_LINUX_SLL) {
      if (len < 16) return null;
      etherType = get16(frame, 14);
      off = 16;
    } else if (linkType === LINKTYPE_LINUX_SLL2) {
      if (len < 20) return null;
      etherType = get16(frame, 0);
      off = 20;
    } else {
      return null;
    }
    while (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ || etherType === 0x9100) {
      if (len < off + 4) return null;
      vlans.push(get16(frame, off) & 0x0fff);
      etherType = get16(frame, off + 2);
      off += 4;
    }
  }

  const result: ParsedFrame = {
    linkType,
    l3Offset: off,
    etherType,
    ipVersion: 0,
    ipHeaderLength: 0,
    ipLength: 0,
    src: '',
    dst: '',
    vlan: vlans.length > 0 ? vlans[0] : null,
    vlans,
    protocol: 0,
    ttl: 0,
    tos: 0,
    ipId: 0,
    df: false,
    flowLabel: 0,
    fragment: null,
    l4Offset: -1,
    ipChecksumOk: false,
    tcpChecksumOk: false,
  };

  let l4: number; // L4 start
  let end: number; // end of the IP packet
  let src: Uint8Array;
  let dst: Uint8Array;
  let firstFragment = true;

  if (etherType === ETHERTYPE_IPV4) {
    if (len < off + 20) return null;
    if (frame[off] >> 4 !== 4) return null;
    const ihl = (frame[off] & 0x0f) * 4;
    if (ihl < 20 || len < off + ihl) return null;
    const totalLength = get16(frame, off + 2);
    if (totalLength < ihl || len < off + totalLength) return null;
    const flagsFrag = get16(frame, off + 6);
    const mf = (flagsFrag & 0x2000) !== 0;
    const fragOffset = flagsFrag & 0x1fff;
    src = frame.slice(off + 12, off + 16);
    dst = frame.slice(off + 16, off + 20);
    result.ipVersion = 4;
    result.ipHeaderLength = ihl;
    result.ipLength = totalLength;
    result.tos = frame[off + 1];
    result.ipId = get16(frame, off + 4);
    result.df = (flagsFrag & 0x4000) !== 0;
    result.fragment = mf || fragOffset !== 0 ? { mf, offset: fragOffset } : null;
    result.ttl = frame[off + 8];
    result.protocol = frame[off + 9];
    result.ipChecksumOk = internetChecksum(frame, off, off + ihl) === 0xffff;
    firstFragment = fragOffset === 0;
    l4 = off + ihl;
    end = off + totalLength;
  } else if (etherType === ETHERTYPE_IPV6) {
    if (len < off + 40) return null;
    if (frame[off] >> 4 !== 6) return null;
    const payloadLength = get16(frame, off + 4);
    end = off + 40 + payloadLength;
    if (len < end) return null;
    src = frame.slice(off + 8, off + 24);
    dst = frame.slice(off + 24, off + 40);
    result.ipVersion = 6;
    result.ipLength = payloadLength;
    result.tos = (get16(frame, off) >> 4) & 0xff;
    result.flowLabel = get32(frame, off) & 0xfffff;
    result.ttl = frame[off + 7];
    result.ipChecksumOk = true;
    let next = frame[off + 6];
    let p = off + 40;
    while (next === 0 || next === 43 || next === 44 || next === 51 || next === 60) {
      if (p + 8 > end) return null;
      let hdrLen: number;
      if (next === 44) {
        hdrLen = 8;
        const fo = get16(frame, p + 2);
        result.fragment = { mf: (fo & 1) !== 0, offset: fo >> 3 };
        if (fo >> 3 !== 0) firstFragment = false;
      } else if (next === 51) {
        hdrLen = (frame[p + 1] + 2) * 4;
      } else {
        hdrLen = (frame[p + 1] + 1) * 8;
      }
      if (p + hdrLen > end) return null;
      next = frame[p];
      p += hdrLen;
    }
    result.protocol = next;
    result.ipHeaderLength = p - off;
    l4 = p;
  } else {
    return result; // not IP
  }

  result.src = formatIp(src);
  result.dst = formatIp(dst);
  result.l4Offset = l4;
  const l4Length = end - l4;

  if (result.protocol === IPPROTO_TCP && firstFragment && l4Length >= 20) {
    const headerLength = (frame[l4 + 12] >> 4) * 4;
    if (headerLength >= 20 && headerLength <= l4Length) {
      result.tcp = {
        sport: get16(frame, l4),
        dport: get16(frame, l4 + 2),
        seq: get32(frame, l4 + 4),
        ack: get32(frame, l4 + 8),
        flags: ((frame[l4 + 12] & 1) << 8) | frame[l4 + 13],
        window: get16(frame, l4 + 14),
        checksum: get16(frame, l4 + 16),
        urgent: get16(frame, l4 + 18),
        headerLength,
        options: frame.subarray(l4 + 20, l4 + headerLength),
        payload: frame.subarray(l4 + headerLength, end),
      };
      const ph = pseudoHeaderSum(src, dst, IPPROTO_TCP, l4Length);
      result.tcpChecksumOk = internetChecksum(frame, l4, end, ph) === 0xffff;
    }
  } else if (result.protocol === IPPROTO_UDP && firstFragment && l4Length >= 8) {
    const udpLength = get16(frame, l4 + 4);
    result.udp = {
      sport: get16(frame, l4),
      dport: get16(frame, l4 + 2),
      length: udpLength,
      checksum: get16(frame, l4 + 6),
      payload: frame.subarray(l4 + 8, l4 + Math.max(8, Math.min(udpLength, l4Length))),
    };
  }
  return result;
}

/**
 * Direction-sensitive connection key of a parsed frame:
 * "ipVersion|src|sport|dst|dport|vlans", vlans = VLAN ids joined with '.', or '-' when untagged.
 * Ports come from TCP (or UDP); 0 when neither was parsed.
 */
export function flowKey(p: ParsedFrame): string {
  const sport = p.tcp ? p.tcp.sport : p.udp ? p.udp.sport : 0;
  const dport = p.tcp ? p.tcp.dport : p.udp ? p.udp.dport : 0;
  const vlan = p.vlans.length > 0 ? p.vlans.join('.') : '-';
  return `${p.ipVersion}|${p.src}|${sport}|${p.dst}|${dport}|${vlan}`;
}
