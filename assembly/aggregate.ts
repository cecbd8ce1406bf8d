// Pending aggregates and the aggregation checks 732-741 (twin: bindings/twin/aggregate.ts).
// A pending aggregate's segments stay in the staging ring where they were staged (ring.ts): the
// first segment's whole frame (so a one-segment aggregate goes out byte-identical, padding
// included, straight from the ring), then a chain of later segments whose payloads are gathered
// after the first's at send (aggFinish), into the gather area. Up to BUILD_AREAS aggregates at a
// time, those started while a build area was free, are instead built in it as they grow, each
// payload verified as it is copied there (sum16Copy, one pass), as with a buffer per aggregate:
// what a few bulk flows get every time, so they stage at the ring's start and never gather; with
// many flows nearly every aggregate stays in the ring.
import { checksumField, fold, sumWords, swap16 } from './checksum';
import {
  F_FIXED_ID, F_FRAME_LEN, F_IP_SIZE, F_IP_VERSION, F_L3, F_L4, F_LAST_WINDOW, F_MSS, F_NEXT_SEQ,
  F_IP_LIMIT, F_PAY_LEN, F_PAY_SUM, F_FRAME, F_SEEN_FLAGS, F_SEGMENTS, F_TCP_HDR_LEN, flowPtr,
} from './flow';
import { PD_AREA, PD_AT, PD_CHAIN, PD_LAST, pendingAcquire, pendingPtr } from './pending';
import { NODE_LENGTH, NODE_NEXT, NODE_PAYLOAD, RING_NONE, ringBase, ringHold } from './ring';
import {
  CWR, FIN, IPV4_CHECKSUM, IPV4_FLAGS_FRAGMENT, IPV4_HEADER, IPV4_ID, IPV4_SRC, IPV4_TOS, IPV4_TOTAL_LENGTH, IPV4_TTL, IPV4_DF,
  IPV6_FLOW, IPV6_HEADER, IPV6_HOP_LIMIT, IPV6_PAYLOAD_LENGTH, IPV6_SRC, PROTO_TCP, PSH, RST, SYN, TCP_ACK, TCP_CHECKSUM,
  TCP_FLAGS, TCP_HEADER, TCP_WINDOW, TCPOLEN_TIMESTAMP, TCPOPT_EOL, TCPOPT_NOP, TCPOPT_TIMESTAMP, TCPOPT_TSECR,
  TCPOPT_TSVAL, URG,
} from './headers';
import * as P from './parse';
import {
  REASON_CAPACITY, REASON_MISMATCH_FLAGS, REASON_MISMATCH_ACK, REASON_MISMATCH_SEQ,
  REASON_MISMATCH_OPTIONS, REASON_MISMATCH_IP, REASON_MISMATCH_MSS, REASON_MISMATCH_WINDOW,
  CAUSE_FLAGS, CAUSE_TCP_OPTIONS, CAUSE_TOO_LARGE, NO_CAUSE,
} from './reason';

export { FIN, PSH, RST } from './headers'; // for engine.ts
/** Room for the link header and trailing padding around a maxAggregate-byte IP packet. */
const BUFFER_SLACK: i32 = 128;
/** Bytes of a build area and of the gather area (bufferCapacity). */
export let outCap: usize = 0;
/** Build areas at most (fewer when maxPending is smaller; equal to bindings/abi.ts). */
export const BUILD_AREAS: i32 = 64;
/** The build areas, outCap bytes each, and their free stack (i32 indices; the one freed last is lent next). */
export let areasBase: usize = 0;
export let areasFreeBase: usize = 0;
let areaTop: i32 = 0;
/** Pending aggregates held in the ring (not in a build area): none, and the ring holds nothing. */
export let heldInRing: i32 = 0;
/** The gather area (outCap bytes): an aggregate of several segments held in the ring is gathered here at send. */
export let gatherBase: usize = 0;
/** Where aggFinish left the packet: a build area, the gather area, or the ring for a one-segment aggregate. */
export let outPtr: usize = 0;

/** `n` build areas, all free. */
export function areasInit(n: i32): void {
  for (let i = 0; i < n; i++) store<i32>(areasFreeBase + (<usize>i << 2), n - 1 - i);
  areaTop = n;
  heldInRing = 0;
}

@inline function areaPtr(area: i32): usize {
  return areasBase + <usize>area * outCap;
}

// The presets (index.ts init; equal to the same names in bindings/abi.ts).
export const PRESET_SEED: i32 = 0;
export const PRESET_GRO: i32 = 1;
export const PRESET_THROUGHPUT: i32 = 2;

export let maxAggregate: i32 = 65535;
/** maxFrame 0: no limit on an aggregate's frame beyond maxAggregate (bindings/abi.ts frameLimit). */
const FRAME_UNLIMITED: i32 = 0x7fffffff;
/** maxFrame: the largest frame (link header included) an aggregate may be. */
export let maxFrame: i32 = FRAME_UNLIMITED;
/** gro or throughput: the comparison table's gro column (CONTRACT §4). */
export let gro: bool = true;
/** throughput: gro, but PSH joins and ACK, window and TCP timestamps may move forward. */
export let throughput: bool = false;
export let fixChecksums: bool = true;
/** Flags that keep a segment out of every aggregate (own fields); gro compares CWR like the rest. */
let ownFlags: u32 = SYN | RST | URG;

export function setPreset(preset: i32): void {
  gro = preset != PRESET_SEED;
  throughput = preset == PRESET_THROUGHPUT;
  ownFlags = gro ? SYN | RST | URG : SYN | RST | URG | CWR;
  P.extHeaders = gro;
}

export function bufferCapacity(maxAgg: i32): i32 {
  return (maxAgg + BUFFER_SLACK + 7) & ~7;
}

/**
 * What in the segment's own fields forbids aggregation (FIG. 4, 424-428), as the pass-through
 * cause, or NO_CAUSE: TTL < 1 (732) or SYN, RST, URG (seed: CWR too) CAUSE_FLAGS; TCP options in
 * the seed preset (741) CAUSE_TCP_OPTIONS; a size no aggregate may have (IP length over
 * maxAggregate, a frame over maxFrame or the output area) CAUSE_TOO_LARGE.
 */
export function ownFieldsForbid(b: usize): i32 {
  const ttl = load<u8>(b + <usize>P.l3 + (P.ipVersion == 4 ? IPV4_TTL : IPV6_HOP_LIMIT));
  if (ttl < 1) return CAUSE_FLAGS;
  if ((P.flags & ownFlags) != 0) return CAUSE_FLAGS;
  if (!gro && P.tcpHdrLen != TCP_HEADER) return CAUSE_TCP_OPTIONS;
  if (P.ipSize > maxAggregate || P.frameLen > maxFrame || <usize>P.frameLen > outCap) return CAUSE_TOO_LARGE;
  return NO_CAUSE;
}

/**
 * 736-741 (+ gro's extra fields): 0 if the segment may join flow f's aggregate, else the reason.
 * The aggregate's header is its first segment's, but in throughput it holds the last segment's
 * ACK and timestamps (aggAppend), which the newcomer's must not be behind.
 */
@inline export function mismatch(f: i32, b: usize): i32 {
  const r = flowPtr(f);
  const a = firstFrame(f);
  const l3 = a + <usize>P.l3;
  const l4 = a + <usize>load<u16>(r, F_L4);
  const n4 = b + <usize>P.l4;
  const firstFlags = P.tcpFlags(l4);
  if (gro ? ((P.flags ^ firstFlags) & ~(PSH | FIN)) != 0 : P.flags != firstFlags) return REASON_MISMATCH_FLAGS; // 736
  const ack = P.be32(l4 + TCP_ACK);
  if (P.ack != ack && (!throughput || <i32>(P.ack - ack) < 0)) return REASON_MISMATCH_ACK; // 738
  if (P.seq != load<u32>(r, F_NEXT_SEQ)) return REASON_MISMATCH_SEQ; // 740
  if (gro) {
    const hdr = P.tcpHdrLen;
    if (hdr != <i32>load<u8>(r, F_TCP_HDR_LEN) ||
      !sameWords(l4 + TCP_HEADER, n4 + TCP_HEADER, hdr - TCP_HEADER) && !(throughput && timestampsMoveOn(l4, n4, hdr))) {
      return REASON_MISMATCH_OPTIONS; // 741
    }
    if (P.window != P.be16(l4 + TCP_WINDOW) && !throughput) return REASON_MISMATCH_WINDOW;
    if (!sameIpFields(r, l3, b + <usize>P.l3)) return REASON_MISMATCH_IP;
    if (<u32>P.payloadLen > load<u32>(r, F_MSS)) return REASON_MISMATCH_MSS;
  }
  // The size after appending: within maxAggregate, and the frame within maxFrame (F_IP_LIMIT).
  if (<i32>load<u32>(r, F_IP_SIZE) + P.payloadLen > <i32>load<u32>(r, F_IP_LIMIT)) return REASON_CAPACITY;
  return 0;
}

/**
 * TTL / hop limit, TOS / traffic class (ECN included), DF, the IPv4 ID's mode (Linux's
 * inet_gro_flush): the second segment's ID is the first's + 1 (incrementing) or the first's
 * (fixed), and the k-th segment's, counted from 0, the first's + k or the first's; IPv6: the flow
 * label and the extension headers, byte for byte.
 */
function sameIpFields(r: usize, a: usize, n: usize): bool {
  if (P.ipVersion == 4) {
    const df = IPV4_DF >> 8; // in the first byte of the field
    if (load<u8>(a, IPV4_TOS) != load<u8>(n, IPV4_TOS) ||
      (load<u8>(a, IPV4_FLAGS_FRAGMENT) & df) != (load<u8>(n, IPV4_FLAGS_FRAGMENT) & df) ||
      load<u8>(a, IPV4_TTL) != load<u8>(n, IPV4_TTL)) return false;
    // The first segment's ID is still in the aggregate's header; F_FIXED_ID says "all equal so far".
    const offset = (P.ipId - P.be16(a + IPV4_ID)) & 0xffff;
    const segments = load<u32>(r, F_SEGMENTS);
    return offset == (load<u8>(r, F_FIXED_ID) != 0 ? 0 : segments & 0xffff) || (segments == 1 && offset == 1);
  }
  if (load<u32>(a, IPV6_FLOW) != load<u32>(n, IPV6_FLOW) || load<u8>(a, IPV6_HOP_LIMIT) != load<u8>(n, IPV6_HOP_LIMIT)) return false;
  // Extension headers (Hop-by-Hop, Routing, Destination Options: 8-byte units) up to TCP.
  const ext = P.l4 - P.l3 - IPV6_HEADER;
  if (<u32>P.l4 != <u32>load<u16>(r, F_L4)) return false;
  for (let i = IPV6_HEADER; i < IPV6_HEADER + ext; i += 8) {
    if (load<u64>(a + <usize>i) != load<u64>(n + <usize>i)) return false;
  }
  return true;
}

/**
 * throughput: options that differ from the aggregate's (h: its TCP header; n: the newcomer's,
 * `hdr` bytes each) only in a timestamp option's TSval and TSecr, which are not behind the
 * aggregate's (the last joined segment's; serial arithmetic mod 2^32).
 */
function timestampsMoveOn(h: usize, n: usize, hdr: i32): bool {
  const ts = timestampAt(n, hdr);
  if (ts < 0) return false;
  for (let i = TCP_HEADER; i < hdr; i++) {
    if ((i < ts + TCPOPT_TSVAL || i >= ts + TCPOLEN_TIMESTAMP) && load<u8>(h + <usize>i) != load<u8>(n + <usize>i)) return false;
  }
  if (<i32>(P.be32(n + <usize>(ts + TCPOPT_TSVAL)) - P.be32(h + <usize>(ts + TCPOPT_TSVAL))) < 0) return false;
  return <i32>(P.be32(n + <usize>(ts + TCPOPT_TSECR)) - P.be32(h + <usize>(ts + TCPOPT_TSECR))) >= 0;
}

/**
 * The first timestamp option (kind 8, length 10) of the TCP header at t (`hdr` bytes), as an
 * offset from t, or -1. EOL ends the walk, NOP is one byte, any other option gives its length,
 * at least 2 and inside the header (else the walk stops: no timestamp).
 */
function timestampAt(t: usize, hdr: i32): i32 {
  let i = TCP_HEADER;
  while (i < hdr) {
    const kind = <i32>load<u8>(t + <usize>i);
    if (kind == TCPOPT_EOL) return -1;
    if (kind == TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= hdr) return -1;
    const len = <i32>load<u8>(t + <usize>(i + 1));
    if (len < 2 || i + len > hdr) return -1;
    if (kind == TCPOPT_TIMESTAMP && len == TCPOLEN_TIMESTAMP) return i;
    i += len;
  }
  return -1;
}

/** Equal option bytes; TCP options come in 4-byte words (the header length is a multiple of 4). */
function sameWords(a: usize, b: usize, count: i32): bool {
  for (let i = 0; i < count; i += 4) {
    if (load<u32>(a + <usize>i) != load<u32>(b + <usize>i)) return false;
  }
  return true;
}

/** Flow f's aggregate's frame: its build area, or its first segment's in the ring (valid while it has a pending aggregate). */
@inline function firstFrame(f: i32): usize {
  return <usize>load<u32>(flowPtr(f), F_FRAME);
}

/**
 * 744-745: the segment at b (in the ring; `accountAt`: its place on the ring's account) starts
 * flow f's aggregate with a descriptor lent to it (one must be free): built in a build area if one
 * is free (the payload verified as it is copied), else its payload verified and its whole frame
 * held in the ring where it lies. False: bad checksum, nothing held.
 */
export function aggStart(f: i32, b: usize, accountAt: f64): bool {
  const hot = areaTop > 0;
  let area = -1;
  if (hot) {
    area = load<i32>(areasFreeBase + (<usize>(areaTop - 1) << 2));
    const a = areaPtr(area);
    const headers = <usize>(P.l4 + P.tcpHdrLen);
    if (!P.copyPayload(b, a + headers)) return false;
    memory.copy(a, b, headers);
    const ipEnd = <usize>P.ipEnd;
    memory.copy(a + ipEnd, b + ipEnd, <usize>P.frameLen - ipEnd); // Ethernet padding, kept
    areaTop--;
  } else if (!P.verifyPayload(b)) {
    return false;
  }
  const r = flowPtr(f);
  pendingAcquire(f);
  const d = pendingPtr(f);
  store<f64>(d, accountAt, PD_AT);
  store<i32>(d, area, PD_AREA);
  store<u32>(d, RING_NONE, PD_CHAIN);
  store<u32>(d, RING_NONE, PD_LAST);
  if (!hot) {
    ringHold(<u32>(b - ringBase), <u32>P.frameLen);
    heldInRing++;
  }
  store<u32>(r, <u32>(hot ? areaPtr(area) : b), F_FRAME);
  store<u32>(r, 1, F_SEGMENTS);
  store<u32>(r, P.seq + <u32>P.payloadLen, F_NEXT_SEQ);
  store<u32>(r, P.frameLen, F_FRAME_LEN);
  store<u32>(r, P.ipSize, F_IP_SIZE);
  // The largest IP length of this aggregate: maxAggregate, or maxFrame less the link and IP
  // headers (ipEnd - ipSize bytes; every segment of the connection has the same). ≥ ipSize.
  store<u32>(r, min(maxAggregate, maxFrame - (P.ipEnd - P.ipSize)), F_IP_LIMIT);
  store<u32>(r, P.payloadLen, F_MSS);
  store<u32>(r, P.payloadSum, F_PAY_SUM);
  store<u32>(r, P.payloadLen, F_PAY_LEN);
  store<u8>(r, P.l3, F_L3);
  store<u16>(r, P.l4, F_L4);
  store<u8>(r, P.tcpHdrLen, F_TCP_HDR_LEN);
  store<u8>(r, P.ipVersion, F_IP_VERSION);
  store<u8>(r, P.flags, F_SEEN_FLAGS);
  store<u16>(r, P.window, F_LAST_WINDOW);
  store<u8>(r, P.ipVersion == 4 ? 1 : 0, F_FIXED_ID); // fixedIpId; gro: the IPv4 ID mode, once a second segment joins
  return true;
}

/** Offset just past the aggregate's IP packet, relative to its frame. */
@inline function ipEndOf(r: usize): u32 {
  // IPv4's length field counts its header, IPv6's does not.
  return <u32>load<u8>(r, F_L3) + (load<u8>(r, F_IP_VERSION) == 4 ? 0 : IPV6_HEADER) + load<u32>(r, F_IP_SIZE);
}

/**
 * 745: the segment at b (in the ring) joins flow f's aggregate: one in a build area gets the
 * payload appended at its IP end, verified as it is copied; any other, its payload verified and
 * its frame held where it lies, linked at the end of the aggregate's chain. False: bad checksum,
 * nothing held (the bytes written past the aggregate's end are not part of it).
 */
@inline export function aggAppend(f: i32, b: usize): bool {
  const r = flowPtr(f);
  const d = pendingPtr(f);
  const a = firstFrame(f);
  const hot = load<i32>(d, PD_AREA) >= 0;
  if (hot) {
    const end = ipEndOf(r);
    // A one-segment aggregate's Ethernet padding lies past its IP end: verify before overwriting it.
    if (load<u32>(r, F_FRAME_LEN) != end && !P.verifyPayload(b)) return false;
    if (!P.copyPayload(b, a + <usize>end)) return false;
  } else if (!P.verifyPayload(b)) {
    return false;
  }
  const n = <u32>P.payloadLen;
  const len = load<u32>(r, F_PAY_LEN);
  // A payload placed at an odd offset contributes its sum byte-swapped.
  const sum = (len & 1) == 0 ? P.payloadSum : swap16(P.payloadSum);
  store<u32>(r, fold(load<u32>(r, F_PAY_SUM) + sum), F_PAY_SUM);
  store<u32>(r, len + n, F_PAY_LEN);
  store<u32>(r, load<u32>(r, F_IP_SIZE) + n, F_IP_SIZE);
  store<u32>(r, ipEndOf(r), F_FRAME_LEN);
  store<u32>(r, load<u32>(r, F_SEGMENTS) + 1, F_SEGMENTS);
  store<u32>(r, load<u32>(r, F_NEXT_SEQ) + n, F_NEXT_SEQ);
  store<u8>(r, load<u8>(r, F_SEEN_FLAGS) | <u8>P.flags, F_SEEN_FLAGS);
  store<u16>(r, P.window, F_LAST_WINDOW);
  // The first segment's IPv4 ID, still in its header? (An IPv6 aggregate's flag is 0 already.)
  store<u8>(r, load<u8>(r, F_FIXED_ID) & <u8>(P.ipId == P.be16(a + <usize>P.l3 + IPV4_ID)), F_FIXED_ID);
  if (throughput) {
    // The aggregate carries the last segment's ACK and timestamps (the window: aggFinish): its
    // options may differ from the aggregate's only there (mismatch), so they are copied whole,
    // into its header (in the ring, held: the engine's bytes; or in its build area).
    const h = a + <usize>P.l4;
    const t = b + <usize>P.l4;
    store<u32>(h, load<u32>(t, TCP_ACK), TCP_ACK);
    memory.copy(h + TCP_HEADER, t + TCP_HEADER, <usize>(P.tcpHdrLen - TCP_HEADER));
  }
  if (hot) return true;
  // Link it (its header is read no more: the node overwrites its first bytes).
  const at = <u32>(b - ringBase);
  store<u32>(b, RING_NONE, NODE_NEXT);
  store<u32>(b, at + <u32>(P.l4 + P.tcpHdrLen), NODE_PAYLOAD);
  store<u32>(b, n, NODE_LENGTH);
  const last = load<u32>(d, PD_LAST);
  if (last == RING_NONE) store<u32>(d, at, PD_CHAIN);
  else store<u32>(ringBase + <usize>last, at, NODE_NEXT);
  store<u32>(d, at, PD_LAST);
  ringHold(at, <u32>P.frameLen);
  return true;
}

/**
 * 746 / 764: make flow f's aggregate a valid packet at outPtr and return its length. One
 * segment: its frame, untouched, where it lies (the ring, or its build area). More: one in a
 * build area is whole there already; any other's first segment's frame up to its IP end and every later
 * payload are gathered into the gather area. Then IP length, the last segment's window and FIN,
 * PSH if any segment had it, the IPv4 header checksum, and the TCP checksum from the header as it
 * now is (throughput's carried ACK and timestamps included) and the per-segment payload sums (no
 * second pass over the payload). A build area is free again once its aggregate is finished.
 */
export function aggFinish(f: i32): i32 {
  const r = flowPtr(f);
  const first = firstFrame(f);
  const d = pendingPtr(f);
  const area = load<i32>(d, PD_AREA);
  const hot = area >= 0;
  if (hot) {
    store<i32>(areasFreeBase + (<usize>areaTop << 2), area);
    areaTop++;
  } else {
    heldInRing--;
  }
  if (load<u32>(r, F_SEGMENTS) < 2) {
    outPtr = first;
    return <i32>load<u32>(r, F_FRAME_LEN);
  }
  const a = hot ? first : gatherBase;
  if (!hot) {
    let at = <usize>(<u32>load<u16>(r, F_L4) + <u32>load<u8>(r, F_TCP_HDR_LEN) + load<u32>(r, F_MSS));
    memory.copy(a, first, at);
    for (let node = load<u32>(d, PD_CHAIN); node != RING_NONE;) {
      const p = ringBase + <usize>node;
      const n = <usize>load<u32>(p, NODE_LENGTH);
      copyBytes(a + at, ringBase + <usize>load<u32>(p, NODE_PAYLOAD), n);
      at += n;
      node = load<u32>(p, NODE_NEXT);
    }
    if (!ASC_NO_ASSERT) assert(<u32>at == load<u32>(r, F_FRAME_LEN), 'aggFinish: gathered bytes differ from the frame length');
  }
  outPtr = a;
  const l3 = a + <usize>load<u8>(r, F_L3);
  const l4 = a + <usize>load<u16>(r, F_L4);
  const ipSize = load<u32>(r, F_IP_SIZE);
  const v4 = load<u8>(r, F_IP_VERSION) == 4;
  if (v4) {
    put16(l3 + IPV4_TOTAL_LENGTH, ipSize);
    if (fixChecksums) {
      put16(l3 + IPV4_CHECKSUM, 0);
      put16(l3 + IPV4_CHECKSUM, checksumField(sumWords(l3, IPV4_HEADER)));
    }
  } else {
    put16(l3 + IPV6_PAYLOAD_LENGTH, ipSize);
  }
  put16(l4 + TCP_WINDOW, <u32>load<u16>(r, F_LAST_WINDOW));
  store<u8>(l4, load<u8>(l4, TCP_FLAGS) | (load<u8>(r, F_SEEN_FLAGS) & <u8>(PSH | FIN)), TCP_FLAGS);
  if (fixChecksums) {
    const tcpLen = ipEndOf(r) - <u32>load<u16>(r, F_L4); // IPv6: the payload length counts the extension headers
    put16(l4 + TCP_CHECKSUM, 0);
    const header = sumWords(l4, <i32>load<u8>(r, F_TCP_HDR_LEN));
    // The pseudo-header: the addresses, as in the first segment's header, and the protocol.
    const addresses = v4 ? sumWords(l3 + IPV4_SRC, 8) : sumWords(l3 + IPV6_SRC, 32);
    const pseudo = fold(addresses + PROTO_TCP + tcpLen);
    put16(l4 + TCP_CHECKSUM, checksumField(pseudo + header + load<u32>(r, F_PAY_SUM)));
  }
  return <i32>load<u32>(r, F_FRAME_LEN);
}

/**
 * Copy n bytes from src to dst (no overlap) with v128 loads and stores: a segment's payload into
 * the gather area. Inline, unlike memory.copy, which V8 makes a call per copy (measured ≈ 10 ns
 * a segment more in the gather).
 */
@inline function copyBytes(dst: usize, src: usize, n: usize): void {
  let i: usize = 0;
  for (; i + 64 <= n; i += 64) {
    v128.store(dst + i, v128.load(src + i));
    v128.store(dst + i, v128.load(src + i, 16), 16);
    v128.store(dst + i, v128.load(src + i, 32), 32);
    v128.store(dst + i, v128.load(src + i, 48), 48);
  }
  for (; i + 16 <= n; i += 16) v128.store(dst + i, v128.load(src + i));
  for (; i < n; i++) store<u8>(dst + i, load<u8>(src + i));
}

@inline function put16(p: usize, v: u32): void {
  store<u16>(p, bswap<u16>(<u16>v));
}
