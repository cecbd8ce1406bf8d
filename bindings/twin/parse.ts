// Header parsing and the candidate check 714 (twin of assembly/parse.ts).
import { CAUSE_BAD_IP_CHECKSUM, CAUSE_IP_OPTIONS, CAUSE_NOT_TCP, CAUSE_TRUNCATED, LINK_ETHERNET, LINK_SLL, LINK_SLL2 } from '../abi.js';
import { fold, sum16 } from './checksum.js';
import {
  ETH_HEADER,
  ETH_IPV4,
  ETH_IPV6,
  ETH_QINQ,
  ETH_TYPE,
  ETH_VLAN,
  IPV4_DST,
  IPV4_FLAGS_FRAGMENT,
  IPV4_HEADER,
  IPV4_ID,
  IPV4_MF,
  IPV4_OFFSET_MASK,
  IPV4_RESERVED,
  IPV4_PROTOCOL,
  IPV4_SRC,
  IPV4_TOTAL_LENGTH,
  IPV4_VERSION_IHL,
  IPV6_EXT_LENGTH,
  IPV6_EXT_MIN,
  IPV6_EXT_NEXT,
  IPV6_FRAGMENT_HEADER,
  IPV6_FRAGMENT_OFFSET,
  IPV6_HEADER,
  IPV6_NEXT_HEADER,
  IPV6_OFFSET_MASK,
  IPV6_PAYLOAD_LENGTH,
  IPV6_SRC,
  IPV6_FLOW,
  PROTO_AH,
  PROTO_DEST_OPTIONS,
  PROTO_FRAGMENT,
  PROTO_HOP_BY_HOP,
  PROTO_ROUTING,
  PROTO_TCP,
  SLL2_HEADER,
  SLL2_PROTOCOL,
  SLL_HEADER,
  SLL_PROTOCOL,
  TCP_ACK,
  TCP_DATA_OFFSET,
  TCP_FLAGS,
  TCP_FLAGS_HIGH,
  TCP_HEADER,
  TCP_SEQ,
  TCP_SRC_PORT,
  TCP_WINDOW,
  VLAN_HEADER,
  VLAN_ID_MASK,
  VLAN_TCI,
  VLAN_TYPE,
} from './headers.js';

/** Frame classes: what the engine may do with a frame. */
export const CLASS_OTHER = 0; //     no TCP ports reachable: pass-through, belongs to nobody
export const CLASS_KEYED = 1; //     TCP ports and a key, but not a candidate (714 failed)
export const CLASS_CANDIDATE = 2; // passed 714 (its payload checksum: see verifyPayload)

/** VLAN key value of an untagged frame (a VLAN id is 12 bits). */
export const NO_VLAN = 0x1000;
/** Words in a flow key: [version<<16 | vlan, ports, src ×4, dst ×4] (IPv4 addresses zero-padded). */
export const KEY_WORDS = 10;

// 714's TCP checksum over the payload is left to the engine, which verifies it while copying the
// payload into the output area (copyPayload: an aggregate built in a build area, aggregate.ts), or
// alone when the segment stays in the ring (verifyPayload; also before a new connection's entry
// is made, 728). A frame of a known
// connection that never gets that far (pure ACK, own fields forbid) takes the same path whatever
// its checksum, so it is never summed.
const PAYLOAD_VERIFIED = 0;
const PAYLOAD_UNCHECKED = 1;
const PAYLOAD_BAD = 2;

/** Everything the engine needs from one frame; reused for every frame (no allocation). */
export class Parsed {
  frameLen = 0;
  l3 = 0; //          offset of the IP header
  /** 4 or 6: the link layer says IPv4 / IPv6 and the version nibble agrees, fixed header present; else 0. */
  ipVersion = 0;
  ipEnd = 0; //       offset just past the IP packet (Ethernet padding follows)
  ipSize = 0; //      IP length field: IPv4 total length, IPv6 payload length
  ipId = 0; //        IPv4 identification
  /** Offset of the TCP header when its ports are present (the frame has a key), else 0. */
  l4 = 0;
  tcpHdrLen = 0;
  /** l4 + tcpHdrLen when the whole TCP header lies in the frame and the IP packet, else 0. */
  headerLength = 0;
  payloadLen = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  addrSum = 0; //     folded sum of source and destination addresses (pseudo-header part)
  /** Folded sum of the payload; with verification on, valid once verifyPayload / copyPayload said yes. */
  payloadSum = 0;
  /**
   * Why the last frame is not a candidate (a pass-through cause, abi.ts; CONTRACT §2): set with
   * every CLASS_OTHER and CLASS_KEYED, by the check that failed first; meaningless for a candidate.
   */
  cause = CAUSE_NOT_TCP;
  private payloadState = PAYLOAD_VERIFIED;
  private expectedSum = 0; // folded pseudo-header + TCP header: the payload must bring it to 0xffff
  readonly key = new Uint32Array(KEY_WORDS);
  private readonly keyBytes = new Uint8Array(this.key.buffer);

  constructor(
    readonly linkType: number,
    readonly verifyChecksums: boolean,
    /** gro, throughput: an IPv6 packet behind Hop-by-Hop, Routing and Destination Options headers is a candidate (CONTRACT §2). */
    readonly extHeaders = false,
  ) {}

  private other(why: number): number {
    this.cause = why;
    return CLASS_OTHER;
  }

  private keyed(why: number): number {
    this.cause = why;
    return CLASS_KEYED;
  }

  /** Parse `b` and classify it; fills the fields above. Never throws. */
  parse(b: Uint8Array): number {
    const len = b.length;
    this.frameLen = len;
    this.ipVersion = 0;
    this.l4 = 0;
    this.headerLength = 0;
    this.payloadLen = 0;
    this.flags = 0;
    let l3 = 0;
    let etherType = 0;
    let vlan = NO_VLAN;
    const link = this.linkType;
    if (link === LINK_ETHERNET) {
      if (len < ETH_HEADER) return this.other(CAUSE_TRUNCATED);
      etherType = be16(b, ETH_TYPE);
      l3 = ETH_HEADER;
      if (etherType === ETH_VLAN || etherType === ETH_QINQ) {
        if (len < VLAN_HEADER) return this.other(CAUSE_TRUNCATED);
        vlan = be16(b, VLAN_TCI) & VLAN_ID_MASK;
        etherType = be16(b, VLAN_TYPE);
        l3 = VLAN_HEADER;
        // Two or more tags: not a candidate (CONTRACT §1).
        if (etherType === ETH_VLAN || etherType === ETH_QINQ) return this.other(CAUSE_NOT_TCP);
      }
    } else if (link === LINK_SLL) {
      if (len < SLL_HEADER) return this.other(CAUSE_TRUNCATED);
      etherType = be16(b, SLL_PROTOCOL);
      l3 = SLL_HEADER;
    } else if (link === LINK_SLL2) {
      if (len < SLL2_HEADER) return this.other(CAUSE_TRUNCATED);
      etherType = be16(b, SLL2_PROTOCOL);
      l3 = SLL2_HEADER;
    } else {
      if (len < 1) return this.other(CAUSE_TRUNCATED);
      const version = b[0] >> 4;
      etherType = version === 4 ? ETH_IPV4 : version === 6 ? ETH_IPV6 : 0;
    }
    this.l3 = l3;
    if (etherType === ETH_IPV4) return this.parseIpv4(b, l3, vlan);
    if (etherType === ETH_IPV6) return this.parseIpv6(b, l3, vlan);
    return this.other(CAUSE_NOT_TCP);
  }

  private parseIpv4(b: Uint8Array, l3: number, vlan: number): number {
    const len = b.length;
    if (len < l3 + IPV4_HEADER) return this.other(CAUSE_TRUNCATED);
    if (b[l3 + IPV4_VERSION_IHL] >> 4 !== 4) return this.other(CAUSE_NOT_TCP);
    this.ipVersion = 4;
    const ihl = (b[l3 + IPV4_VERSION_IHL] & 15) << 2;
    const totalLen = be16(b, l3 + IPV4_TOTAL_LENGTH);
    const fragment = be16(b, l3 + IPV4_FLAGS_FRAGMENT);
    if (b[l3 + IPV4_PROTOCOL] !== PROTO_TCP) return this.other(CAUSE_NOT_TCP);
    if ((fragment & IPV4_OFFSET_MASK) !== 0) return this.other(CAUSE_IP_OPTIONS); // a later fragment
    if (ihl < IPV4_HEADER) return this.other(CAUSE_TRUNCATED);
    const ipEnd = l3 + totalLen;
    const bound = Math.min(len, ipEnd);
    const l4 = l3 + ihl;
    if (l4 + TCP_SEQ > bound) return this.other(CAUSE_TRUNCATED); // the ports (everything before TCP_SEQ) are present
    this.ipSize = totalLen;
    this.ipId = be16(b, l3 + IPV4_ID);
    this.ipEnd = ipEnd;
    this.l4 = l4;
    this.key.fill(0);
    this.key[0] = (4 << 16) | vlan;
    const kb = this.keyBytes;
    copyBytes(kb, 4, b, l4 + TCP_SRC_PORT, 4); // both ports
    copyBytes(kb, 8, b, l3 + IPV4_SRC, 4);
    copyBytes(kb, 24, b, l3 + IPV4_DST, 4);
    this.readTcp(b, l4, bound);
    // 714: no IP options, not a fragment, lengths consistent, header checksum correct.
    if (ihl !== IPV4_HEADER || (fragment & (IPV4_MF | IPV4_RESERVED)) !== 0) return this.keyed(CAUSE_IP_OPTIONS);
    if (ipEnd > len || totalLen < IPV4_HEADER + TCP_HEADER) return this.keyed(CAUSE_TRUNCATED);
    if (sum16(b, l3, l3 + IPV4_HEADER) !== 0xffff) return this.keyed(CAUSE_BAD_IP_CHECKSUM);
    this.addrSum = sum16(b, l3 + IPV4_SRC, l3 + IPV4_SRC + 8); // source and destination
    return this.checkTcp(b, l4, ipEnd);
  }

  private parseIpv6(b: Uint8Array, l3: number, vlan: number): number {
    const len = b.length;
    if (len < l3 + IPV6_HEADER) return this.other(CAUSE_TRUNCATED);
    if (b[l3 + IPV6_FLOW] >> 4 !== 6) return this.other(CAUSE_NOT_TCP);
    this.ipVersion = 6;
    const payloadLen = be16(b, l3 + IPV6_PAYLOAD_LENGTH);
    const ipEnd = l3 + IPV6_HEADER + payloadLen;
    const bound = Math.min(len, ipEnd);
    let next = b[l3 + IPV6_NEXT_HEADER];
    let l4 = l3 + IPV6_HEADER;
    let walkedOnly = false; // a Fragment or AH header: walked only to find the ports
    // Walk extension headers to find the ports; behind Fragment or AH the frame belongs to its
    // connection but is not a candidate. Each is at least 8 bytes: the walk is bounded by the frame.
    while (
      next === PROTO_HOP_BY_HOP ||
      next === PROTO_ROUTING ||
      next === PROTO_DEST_OPTIONS ||
      next === PROTO_FRAGMENT ||
      next === PROTO_AH
    ) {
      if (l4 + IPV6_EXT_MIN > bound) return this.other(CAUSE_TRUNCATED);
      if (next === PROTO_FRAGMENT && (be16(b, l4 + IPV6_FRAGMENT_OFFSET) & IPV6_OFFSET_MASK) !== 0) return this.other(CAUSE_IP_OPTIONS); // not the first fragment
      if (next === PROTO_FRAGMENT || next === PROTO_AH) walkedOnly = true;
      const extLen =
        next === PROTO_FRAGMENT
          ? IPV6_FRAGMENT_HEADER
          : next === PROTO_AH
            ? (b[l4 + IPV6_EXT_LENGTH] + 2) << 2
            : (b[l4 + IPV6_EXT_LENGTH] + 1) << 3;
      next = b[l4 + IPV6_EXT_NEXT];
      l4 += extLen;
    }
    if (next !== PROTO_TCP) return this.other(CAUSE_NOT_TCP);
    if (l4 + TCP_SEQ > bound) return this.other(CAUSE_TRUNCATED); // the ports are present
    this.ipSize = payloadLen;
    this.ipEnd = ipEnd;
    this.l4 = l4;
    this.key[0] = (6 << 16) | vlan;
    const kb = this.keyBytes;
    copyBytes(kb, 4, b, l4 + TCP_SRC_PORT, 4); // both ports
    copyBytes(kb, 8, b, l3 + IPV6_SRC, 32); // source and destination
    this.readTcp(b, l4, bound);
    if (walkedOnly || (l4 !== l3 + IPV6_HEADER && !this.extHeaders)) return this.keyed(CAUSE_IP_OPTIONS);
    if (ipEnd > len || ipEnd < l4 + TCP_HEADER) return this.keyed(CAUSE_TRUNCATED);
    this.addrSum = sum16(b, l3 + IPV6_SRC, l3 + IPV6_SRC + 32); // source and destination
    return this.checkTcp(b, l4, ipEnd);
  }

  /** TCP fields present in the captured bytes (flags may be read from a non-candidate). */
  private readTcp(b: Uint8Array, l4: number, bound: number): void {
    this.tcpHdrLen = 0;
    if (l4 + TCP_HEADER > bound) return;
    this.seq = be32(b, l4 + TCP_SEQ);
    this.ack = be32(b, l4 + TCP_ACK);
    this.flags = tcpFlags(b, l4);
    this.window = be16(b, l4 + TCP_WINDOW);
    const tcpHdrLen = (b[l4 + TCP_DATA_OFFSET] >> 4) << 2;
    this.tcpHdrLen = tcpHdrLen;
    if (tcpHdrLen >= TCP_HEADER && l4 + tcpHdrLen <= bound) {
      this.headerLength = l4 + tcpHdrLen;
      this.payloadLen = bound - this.headerLength;
    }
  }

  /** The TCP part of 714: header length sane, checksum correct (or not verified). */
  private checkTcp(b: Uint8Array, l4: number, ipEnd: number): number {
    const tcpHdrLen = this.tcpHdrLen;
    if (tcpHdrLen < TCP_HEADER || l4 + tcpHdrLen > ipEnd) return this.keyed(CAUSE_TRUNCATED);
    const pseudo = fold(this.addrSum + PROTO_TCP + (ipEnd - l4));
    const headerSum = sum16(b, l4, l4 + tcpHdrLen);
    if (this.verifyChecksums) {
      this.expectedSum = fold(pseudo + headerSum);
      this.payloadState = PAYLOAD_UNCHECKED;
    } else {
      // Derive the payload's sum from the segment's own checksum field, so an error in it is
      // carried into the aggregate rather than laundered (CONTRACT §5).
      this.payloadSum = fold(0xffff - pseudo + (0xffff - headerSum));
      this.payloadState = PAYLOAD_VERIFIED;
    }
    return CLASS_CANDIDATE;
  }

  private payloadStart(): number {
    return this.l4 + this.tcpHdrLen;
  }

  private settle(sum: number): boolean {
    if (fold(this.expectedSum + sum) !== 0xffff) {
      this.payloadState = PAYLOAD_BAD;
      return false;
    }
    this.payloadSum = sum;
    this.payloadState = PAYLOAD_VERIFIED;
    return true;
  }

  /** The candidate's payload checksum is correct (714); computed at most once per frame. */
  verifyPayload(b: Uint8Array): boolean {
    if (this.payloadState === PAYLOAD_UNCHECKED) {
      const start = this.payloadStart();
      return this.settle(sum16(b, start, start + this.payloadLen));
    }
    return this.payloadState === PAYLOAD_VERIFIED;
  }

  /**
   * Copy the candidate's payload to dst at `at`, verifying it on the way (714, 745); false:
   * checksum bad. The core does both in one pass (sum16Copy); here the sum reads the frame and
   * a typed-array set() copies it (a memcpy), far faster than a one-pass byte loop in JS.
   */
  copyPayload(b: Uint8Array, dst: Uint8Array, at: number): boolean {
    const start = this.payloadStart();
    const end = start + this.payloadLen;
    if (this.payloadState === PAYLOAD_UNCHECKED) {
      const sum = sum16(b, start, end);
      memoryCopy(dst, at, b, start, this.payloadLen);
      return this.settle(sum);
    }
    memoryCopy(dst, at, b, start, this.payloadLen);
    return this.payloadState === PAYLOAD_VERIFIED;
  }
}

export function be16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

export function be32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/**
 * The TCP header's 12 flag bits: AE and the reserved bits (TCP_DATA_OFFSET's low nibble) above
 * the TCP_FLAGS byte. Compared whole, as Linux GRO compares tcp_flag_word: a segment whose AE or
 * reserved bits differ from the aggregate's would lose them in it.
 */
export function tcpFlags(b: Uint8Array, at: number): number {
  return ((b[at + TCP_DATA_OFFSET] & TCP_FLAGS_HIGH) << 8) | b[at + TCP_FLAGS];
}

/** From this many bytes a subarray view plus set() (a memcpy) beats the byte loop. */
const MEMCPY_MIN = 32;

/** The core's memory.copy between two arrays. */
function memoryCopy(to: Uint8Array, at: number, from: Uint8Array, start: number, count: number): void {
  if (count < MEMCPY_MIN) copyBytes(to, at, from, start, count);
  else to.set(from.subarray(start, start + count), at);
}

/** Byte copy without creating subarray views (no allocation per packet). */
function copyBytes(to: Uint8Array, at: number, from: Uint8Array, start: number, count: number): void {
  for (let i = 0; i < count; i++) to[at + i] = from[start + i];
}
