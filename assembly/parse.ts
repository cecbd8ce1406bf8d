// Header parsing and the candidate check 714 (twin: bindings/twin/parse.ts). The result of the
// last parse lives in the globals below (one frame at a time, nothing allocated).
import { fold, sum16, sum16Copy, sumWords } from './checksum';
import {
  ETH_HEADER, ETH_IPV4, ETH_IPV6, ETH_QINQ, ETH_TYPE, ETH_VLAN, IPV4_DST, IPV4_FLAGS_FRAGMENT, IPV4_HEADER,
  IPV4_ID, IPV4_MF, IPV4_OFFSET_MASK, IPV4_PROTOCOL, IPV4_RESERVED, IPV4_SRC, IPV4_TOTAL_LENGTH, IPV4_VERSION_IHL,
  IPV6_EXT_LENGTH, IPV6_EXT_MIN, IPV6_EXT_NEXT, IPV6_FRAGMENT_HEADER, IPV6_FRAGMENT_OFFSET, IPV6_HEADER,
  IPV6_NEXT_HEADER, IPV6_OFFSET_MASK, IPV6_PAYLOAD_LENGTH, IPV6_SRC, IPV6_FLOW, PROTO_AH, PROTO_DEST_OPTIONS,
  PROTO_FRAGMENT, PROTO_HOP_BY_HOP, PROTO_ROUTING, PROTO_TCP, SLL2_HEADER, SLL2_PROTOCOL, SLL_HEADER,
  SLL_PROTOCOL, TCP_ACK, TCP_DATA_OFFSET, TCP_FLAGS, TCP_FLAGS_HIGH, TCP_HEADER, TCP_SEQ, TCP_SRC_PORT, TCP_WINDOW,
  VLAN_HEADER, VLAN_ID_MASK, VLAN_TCI, VLAN_TYPE,
} from './headers';
import { CAUSE_BAD_IP_CHECKSUM, CAUSE_IP_OPTIONS, CAUSE_NOT_TCP, CAUSE_TRUNCATED } from './reason';

export const LINK_ETHERNET: i32 = 1;
export const LINK_RAW: i32 = 101;
export const LINK_SLL: i32 = 113;
export const LINK_SLL2: i32 = 276;

export const CLASS_OTHER: i32 = 0; //     no TCP ports reachable: belongs to nobody
export const CLASS_KEYED: i32 = 1; //     has a flow key but failed 714
export const CLASS_CANDIDATE: i32 = 2; // passed 714 (its payload checksum: see verifyPayload)

/** VLAN key value of an untagged frame (a VLAN id is 12 bits). */
export const NO_VLAN: u32 = 0x1000;

// Flow key, KEY_BYTES at `keyScratch` (u32 words, host order = little-endian):
// ┌──────────────────────┬──────────────────┬────────────────┬────────────────┐
// │ 0: version<<16|vlan  │ 4: ports (raw)   │ 8: src[16]     │ 24: dst[16]    │
// └──────────────────────┴──────────────────┴────────────────┴────────────────┘
// IPv4 addresses take the first 4 bytes of their slot; the rest is zero.
export const KEY_BYTES: i32 = 40;
export let keyScratch: usize = 0;

export let linkType: i32 = LINK_ETHERNET;
export let verifyChecksums: bool = true;
/** gro, throughput: an IPv6 packet behind Hop-by-Hop, Routing and Destination Options headers is a candidate (CONTRACT §2). */
export let extHeaders: bool = false;

// Fields of the last parsed frame (offsets are relative to the frame start).
export let frameLen: i32 = 0;
export let l3: i32 = 0;
/** 4 or 6: the link layer says IPv4 / IPv6 and the version nibble agrees, fixed header present; else 0. */
export let ipVersion: i32 = 0;
export let ipEnd: i32 = 0;
export let ipSize: i32 = 0;
export let ipId: u32 = 0; //    IPv4 identification
/** Offset of the TCP header when its ports are present (the frame has a key), else 0. */
export let l4: i32 = 0;
export let tcpHdrLen: i32 = 0;
/** l4 + tcpHdrLen when the whole TCP header lies in the frame and the IP packet, else 0. */
export let headerLength: i32 = 0;
export let payloadLen: i32 = 0;
export let seq: u32 = 0;
export let ack: u32 = 0;
export let flags: u32 = 0;
export let window: u32 = 0;
export let addrSum: u32 = 0;
/** Folded sum of the payload; with verification on, valid once verifyPayload / copyPayload said yes. */
export let payloadSum: u32 = 0;
/**
 * Why the last frame is not a candidate (a pass-through cause, reason.ts; CONTRACT §2): set with
 * every CLASS_OTHER and CLASS_KEYED, by the check that failed first; meaningless for a candidate.
 */
export let cause: i32 = CAUSE_NOT_TCP;

// 714's TCP checksum over the payload is left to the engine, which verifies it while copying the
// payload into the output area (copyPayload: an aggregate built in a build area, aggregate.ts), or
// alone when the segment stays in the ring (verifyPayload; also before a new connection's entry
// is made, 728). A frame of a known
// connection that never gets that far (pure ACK, own fields forbid) takes the same path whatever
// its checksum, so it is never summed.
const PAYLOAD_VERIFIED: i32 = 0;
const PAYLOAD_UNCHECKED: i32 = 1;
const PAYLOAD_BAD: i32 = 2;
let payloadState: i32 = PAYLOAD_VERIFIED;
let expectedSum: u32 = 0; // folded pseudo-header + TCP header: the payload must bring it to 0xffff

@inline function other(why: i32): i32 {
  cause = why;
  return CLASS_OTHER;
}

@inline function keyed(why: i32): i32 {
  cause = why;
  return CLASS_KEYED;
}

@inline export function be16(p: usize): u32 {
  return bswap<u16>(load<u16>(p));
}

@inline export function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}

/**
 * The TCP header's 12 flag bits: AE and the reserved bits (TCP_DATA_OFFSET's low nibble) above
 * the TCP_FLAGS byte. Compared whole, as Linux GRO compares tcp_flag_word: a segment whose AE or
 * reserved bits differ from the aggregate's would lose them in it.
 */
@inline export function tcpFlags(t: usize): u32 {
  return ((<u32>load<u8>(t, TCP_DATA_OFFSET) & TCP_FLAGS_HIGH) << 8) | <u32>load<u8>(t, TCP_FLAGS);
}

/** Parse the frame at b (`len` bytes present, `fullLen` its real length) and classify it. */
export function parse(b: usize, len: i32, fullLen: i32): i32 {
  frameLen = fullLen;
  ipVersion = 0;
  l4 = 0;
  headerLength = 0;
  payloadLen = 0;
  flags = 0;
  let at: i32 = 0;
  let etherType: u32 = 0;
  let vlan: u32 = NO_VLAN;
  if (linkType == LINK_ETHERNET) {
    if (len < ETH_HEADER) return other(CAUSE_TRUNCATED);
    etherType = be16(b + ETH_TYPE);
    at = ETH_HEADER;
    if (etherType == ETH_VLAN || etherType == ETH_QINQ) {
      if (len < VLAN_HEADER) return other(CAUSE_TRUNCATED);
      vlan = be16(b + VLAN_TCI) & VLAN_ID_MASK;
      etherType = be16(b + VLAN_TYPE);
      at = VLAN_HEADER;
      // Two or more tags: not a candidate (CONTRACT §1).
      if (etherType == ETH_VLAN || etherType == ETH_QINQ) return other(CAUSE_NOT_TCP);
    }
  } else if (linkType == LINK_SLL) {
    if (len < SLL_HEADER) return other(CAUSE_TRUNCATED);
    etherType = be16(b + SLL_PROTOCOL);
    at = SLL_HEADER;
  } else if (linkType == LINK_SLL2) {
    if (len < SLL2_HEADER) return other(CAUSE_TRUNCATED);
    etherType = be16(b + SLL2_PROTOCOL);
    at = SLL2_HEADER;
  } else { // LINK_RAW (init accepts no other link type)
    if (len < 1) return other(CAUSE_TRUNCATED);
    const version = load<u8>(b) >> 4;
    etherType = version == 4 ? ETH_IPV4 : version == 6 ? ETH_IPV6 : 0;
  }
  l3 = at;
  if (etherType == ETH_IPV4) return parseIpv4(b, len, vlan);
  if (etherType == ETH_IPV6) return parseIpv6(b, len, vlan);
  return other(CAUSE_NOT_TCP);
}

function parseIpv4(b: usize, len: i32, vlan: u32): i32 {
  const ip = b + <usize>l3;
  if (len < l3 + IPV4_HEADER) return other(CAUSE_TRUNCATED);
  if ((load<u8>(ip, IPV4_VERSION_IHL) >> 4) != 4) return other(CAUSE_NOT_TCP);
  ipVersion = 4;
  const ihl = <i32>(load<u8>(ip, IPV4_VERSION_IHL) & 15) << 2;
  const totalLen = <i32>be16(ip + IPV4_TOTAL_LENGTH);
  const fragment = be16(ip + IPV4_FLAGS_FRAGMENT);
  if (<u32>load<u8>(ip, IPV4_PROTOCOL) != PROTO_TCP) return other(CAUSE_NOT_TCP);
  if ((fragment & IPV4_OFFSET_MASK) != 0) return other(CAUSE_IP_OPTIONS); // a later fragment
  if (ihl < IPV4_HEADER) return other(CAUSE_TRUNCATED);
  const end = l3 + totalLen;
  const bound = min(len, end);
  const tcp = l3 + ihl;
  if (tcp + TCP_SEQ > bound) return other(CAUSE_TRUNCATED); // the ports (everything before TCP_SEQ) are present
  ipSize = totalLen;
  ipId = be16(ip + IPV4_ID);
  ipEnd = end;
  l4 = tcp;
  const k = keyScratch;
  store<u32>(k, (4 << 16) | vlan);
  store<u32>(k, load<u32>(b + <usize>tcp, TCP_SRC_PORT), 4); // both ports
  store<u64>(k, <u64>load<u32>(ip, IPV4_SRC), 8); // source, zero-padded
  store<u64>(k, 0, 16);
  store<u64>(k, <u64>load<u32>(ip, IPV4_DST), 24); // destination, zero-padded
  store<u64>(k, 0, 32);
  readTcp(b, tcp, bound);
  // 714: no IP options, not a fragment, lengths consistent, header checksum correct.
  if (ihl != IPV4_HEADER || (fragment & (IPV4_MF | IPV4_RESERVED)) != 0) return keyed(CAUSE_IP_OPTIONS);
  if (end > len || totalLen < IPV4_HEADER + TCP_HEADER) return keyed(CAUSE_TRUNCATED);
  if (sumWords(ip, IPV4_HEADER) != 0xffff) return keyed(CAUSE_BAD_IP_CHECKSUM);
  addrSum = sumWords(ip + IPV4_SRC, 8); // source and destination
  return checkTcp(b, tcp, end);
}

function parseIpv6(b: usize, len: i32, vlan: u32): i32 {
  const ip = b + <usize>l3;
  if (len < l3 + IPV6_HEADER) return other(CAUSE_TRUNCATED);
  if ((load<u8>(ip, IPV6_FLOW) >> 4) != 6) return other(CAUSE_NOT_TCP);
  ipVersion = 6;
  const payload = <i32>be16(ip + IPV6_PAYLOAD_LENGTH);
  const end = l3 + IPV6_HEADER + payload;
  const bound = min(len, end);
  let next = <u32>load<u8>(ip, IPV6_NEXT_HEADER);
  let tcp = l3 + IPV6_HEADER;
  let walkedOnly = false; // a Fragment or AH header: walked only to find the ports
  // Walk extension headers to find the ports; behind Fragment or AH the frame belongs to its
  // connection but is not a candidate. Each is at least 8 bytes: the walk is bounded by the frame.
  while (next == PROTO_HOP_BY_HOP || next == PROTO_ROUTING || next == PROTO_DEST_OPTIONS ||
    next == PROTO_FRAGMENT || next == PROTO_AH) {
    if (tcp + IPV6_EXT_MIN > bound) return other(CAUSE_TRUNCATED);
    const ext = b + <usize>tcp;
    if (next == PROTO_FRAGMENT && (be16(ext + IPV6_FRAGMENT_OFFSET) & IPV6_OFFSET_MASK) != 0) return other(CAUSE_IP_OPTIONS); // not the first fragment
    if (next == PROTO_FRAGMENT || next == PROTO_AH) walkedOnly = true;
    const extLen: i32 = next == PROTO_FRAGMENT ? IPV6_FRAGMENT_HEADER
      : next == PROTO_AH ? (<i32>load<u8>(ext, IPV6_EXT_LENGTH) + 2) << 2
      : (<i32>load<u8>(ext, IPV6_EXT_LENGTH) + 1) << 3;
    next = <u32>load<u8>(ext, IPV6_EXT_NEXT);
    tcp += extLen;
  }
  if (next != PROTO_TCP) return other(CAUSE_NOT_TCP);
  if (tcp + TCP_SEQ > bound) return other(CAUSE_TRUNCATED); // the ports are present
  ipSize = payload;
  ipEnd = end;
  l4 = tcp;
  const k = keyScratch;
  store<u32>(k, (6 << 16) | vlan);
  store<u32>(k, load<u32>(b + <usize>tcp, TCP_SRC_PORT), 4); // both ports
  memory.copy(k + 8, ip + IPV6_SRC, 32); // source and destination
  readTcp(b, tcp, bound);
  if (walkedOnly || (tcp != l3 + IPV6_HEADER && !extHeaders)) return keyed(CAUSE_IP_OPTIONS);
  if (end > len || end < tcp + TCP_HEADER) return keyed(CAUSE_TRUNCATED);
  addrSum = sumWords(ip + IPV6_SRC, 32); // source and destination
  return checkTcp(b, tcp, end);
}

/** TCP fields present in the captured bytes (flags may be read from a non-candidate). */
function readTcp(b: usize, tcp: i32, bound: i32): void {
  tcpHdrLen = 0;
  if (tcp + TCP_HEADER > bound) return;
  const t = b + <usize>tcp;
  seq = be32(t + TCP_SEQ);
  ack = be32(t + TCP_ACK);
  flags = tcpFlags(t);
  window = be16(t + TCP_WINDOW);
  tcpHdrLen = <i32>(load<u8>(t, TCP_DATA_OFFSET) >> 4) << 2;
  if (tcpHdrLen >= TCP_HEADER && tcp + tcpHdrLen <= bound) {
    headerLength = tcp + tcpHdrLen;
    payloadLen = bound - headerLength;
  }
}

/** The TCP part of 714: header length sane, checksum correct (or not verified). */
function checkTcp(b: usize, tcp: i32, end: i32): i32 {
  if (tcpHdrLen < TCP_HEADER || tcp + tcpHdrLen > end) return keyed(CAUSE_TRUNCATED);
  const t = b + <usize>tcp;
  const pseudo = fold(addrSum + PROTO_TCP + <u32>(end - tcp));
  const headerSum = sumWords(t, tcpHdrLen);
  if (verifyChecksums) {
    expectedSum = fold(pseudo + headerSum);
    payloadState = PAYLOAD_UNCHECKED;
  } else {
    // Derive the payload's sum from the segment's own checksum field, so an error in it is
    // carried into the aggregate rather than laundered (CONTRACT §5).
    payloadSum = fold(0xffff - pseudo + (0xffff - headerSum));
    payloadState = PAYLOAD_VERIFIED;
  }
  return CLASS_CANDIDATE;
}

@inline function payloadStart(b: usize): usize {
  return b + <usize>(l4 + tcpHdrLen);
}

function settle(sum: u32): bool {
  if (fold(expectedSum + sum) != 0xffff) {
    payloadState = PAYLOAD_BAD;
    return false;
  }
  payloadSum = sum;
  payloadState = PAYLOAD_VERIFIED;
  return true;
}

/** The candidate's payload checksum is correct (714); computed at most once per frame. */
export function verifyPayload(b: usize): bool {
  if (payloadState == PAYLOAD_UNCHECKED) return settle(sum16(payloadStart(b), payloadLen));
  return payloadState == PAYLOAD_VERIFIED;
}

/** Copy the candidate's payload to dst, verifying it on the way (714, 745); false: checksum bad. */
export function copyPayload(b: usize, dst: usize): bool {
  if (payloadState == PAYLOAD_UNCHECKED) return settle(sum16Copy(payloadStart(b), dst, payloadLen));
  memory.copy(dst, payloadStart(b), <usize>payloadLen);
  return payloadState == PAYLOAD_VERIFIED;
}
