// Pending aggregates and the aggregation checks 732-741 (twin of assembly/aggregate.ts).
// A pending aggregate's segments stay in the staging ring where they were staged (ring.ts): the
// first segment's whole frame (so a one-segment aggregate goes out byte-identical, padding
// included, straight from the ring), then a chain of later segments whose payloads are gathered
// after the first's at send (finish), into the gather area. Up to BUILD_AREAS aggregates at a
// time, those started while a build area was free, are instead built in it as they grow, each
// payload verified as it is copied there: what a few bulk flows get every time.
import { fold, sum16, swap16, checksumField } from './checksum.js';
import type { Pending } from './pending.js';
import { NODE_LENGTH, NODE_NEXT, NODE_PAYLOAD, RING_NONE, type Ring } from './ring.js';
import {
  CWR,
  FIN,
  IPV4_CHECKSUM,
  IPV4_FLAGS_FRAGMENT,
  IPV4_HEADER,
  IPV4_ID,
  IPV4_SRC,
  IPV4_TOS,
  IPV4_TOTAL_LENGTH,
  IPV4_TTL,
  IPV4_DF,
  IPV6_FLOW,
  IPV6_HEADER,
  IPV6_HOP_LIMIT,
  IPV6_PAYLOAD_LENGTH,
  IPV6_SRC,
  PROTO_TCP,
  PSH,
  RST,
  SYN,
  TCP_ACK,
  TCP_CHECKSUM,
  TCP_FLAGS,
  TCP_HEADER,
  TCP_WINDOW,
  TCPOLEN_TIMESTAMP,
  TCPOPT_EOL,
  TCPOPT_NOP,
  TCPOPT_TIMESTAMP,
  TCPOPT_TSECR,
  TCPOPT_TSVAL,
  URG,
} from './headers.js';
import { type Parsed, be16, be32, tcpFlags } from './parse.js';
import {
  REASON_MISMATCH_FLAGS,
  REASON_MISMATCH_ACK,
  REASON_MISMATCH_SEQ,
  REASON_MISMATCH_OPTIONS,
  REASON_MISMATCH_WINDOW,
  REASON_MISMATCH_IP,
  REASON_MISMATCH_MSS,
  REASON_CAPACITY,
  PRESET_SEED,
  PRESET_THROUGHPUT,
  CAUSE_FLAGS,
  CAUSE_TCP_OPTIONS,
  CAUSE_TOO_LARGE,
  NO_CAUSE,
} from '../abi.js';

export { FIN, PSH, RST } from './headers.js'; // for engine.ts
export class Aggregates {
  /** The build areas (abi.ts bufferCapacity bytes each, min(maxPending, BUILD_AREAS) of them) and their free stack (the one freed last is lent next). */
  private readonly areas: Uint8Array[];
  private readonly areaFree: Int32Array;
  private areaTop: number;
  /** Pending aggregates held in the ring (not in a build area): none, and the ring holds nothing. */
  heldInRing = 0;
  /** The gather area (as large): an aggregate of several segments held in the ring is gathered here at send. */
  private readonly gather: Uint8Array;
  /** Where finish() left the packet: `outBytes` (a build area, the gather area, or the ring) from `outStart`. */
  outBytes: Uint8Array;
  outStart = 0;
  // Per flow index; segments = 0 means no pending aggregate (742) and no descriptor lent.
  readonly segments: Uint32Array;
  readonly nextSeq: Uint32Array; //    740: sequence number the next segment must carry
  readonly frameLen: Uint32Array; //   bytes of the pending frame once gathered
  readonly ipSize: Uint32Array; //     IP length field as it would be written
  readonly ipLimit: Uint32Array; //    largest ipSize: maxAggregate, or less where maxFrame binds
  readonly mss: Uint32Array; //        first segment's payload length
  readonly payloadSum: Uint32Array; // folded sum of all payload bytes, as placed in the aggregate
  readonly payloadLen: Uint32Array;
  readonly l3: Uint8Array;
  readonly l4: Uint16Array; //        IPv6 extension headers may put it past 255
  readonly tcpHdrLen: Uint8Array;
  readonly ipVersion: Uint8Array;
  readonly seenFlags: Uint8Array; //  every segment's flags ORed: PSH and FIN are carried over
  /** 1 while every IPv4 ID equals the first's (0 for IPv6): fixedIpId, and gro's IPv4 ID mode. */
  readonly fixedId: Uint8Array;
  readonly lastWindow: Uint16Array;
  /** gro or throughput: the comparison table's gro column (CONTRACT §4). */
  private readonly gro: boolean;
  /** throughput: gro, but PSH joins and ACK, window and TCP timestamps may move forward. */
  readonly throughput: boolean;
  /** Flags that keep a segment out of every aggregate (own fields); gro compares CWR like the rest. */
  private readonly ownFlags: number;

  constructor(
    private readonly pool: Pending,
    private readonly ring: Ring,
    outCap: number,
    areaCount: number,
    maxFlows: number,
    private readonly maxAggregate: number,
    /** maxFrame: the largest frame (link header included) an aggregate may be (abi.ts frameLimit). */
    private readonly maxFrame: number,
    preset: number,
    readonly fixChecksums: boolean,
  ) {
    this.gro = preset !== PRESET_SEED;
    this.throughput = preset === PRESET_THROUGHPUT;
    this.ownFlags = this.gro ? SYN | RST | URG : SYN | RST | URG | CWR;
    this.areas = Array.from({ length: areaCount }, () => new Uint8Array(outCap));
    this.areaFree = new Int32Array(areaCount);
    for (let i = 0; i < areaCount; i++) this.areaFree[i] = areaCount - 1 - i;
    this.areaTop = areaCount;
    this.gather = new Uint8Array(outCap);
    this.outBytes = this.gather;
    this.segments = new Uint32Array(maxFlows);
    this.nextSeq = new Uint32Array(maxFlows);
    this.frameLen = new Uint32Array(maxFlows);
    this.ipSize = new Uint32Array(maxFlows);
    this.ipLimit = new Uint32Array(maxFlows);
    this.mss = new Uint32Array(maxFlows);
    this.payloadSum = new Uint32Array(maxFlows);
    this.payloadLen = new Uint32Array(maxFlows);
    this.l3 = new Uint8Array(maxFlows);
    this.l4 = new Uint16Array(maxFlows);
    this.tcpHdrLen = new Uint8Array(maxFlows);
    this.ipVersion = new Uint8Array(maxFlows);
    this.seenFlags = new Uint8Array(maxFlows);
    this.fixedId = new Uint8Array(maxFlows);
    this.lastWindow = new Uint16Array(maxFlows);
  }

  /**
   * What in the segment's own fields forbids aggregation (FIG. 4, 424-428), as the pass-through
   * cause, or NO_CAUSE: TTL < 1 (732) or SYN, RST, URG (seed: CWR too) CAUSE_FLAGS; TCP options in
   * the seed preset (741) CAUSE_TCP_OPTIONS; a size no aggregate may have (IP length over
   * maxAggregate, a frame over maxFrame or the output area) CAUSE_TOO_LARGE.
   */
  ownFieldsForbid(p: Parsed, b: Uint8Array): number {
    const ttl = b[p.l3 + (p.ipVersion === 4 ? IPV4_TTL : IPV6_HOP_LIMIT)];
    if (ttl < 1) return CAUSE_FLAGS;
    if ((p.flags & this.ownFlags) !== 0) return CAUSE_FLAGS;
    if (!this.gro && p.tcpHdrLen !== TCP_HEADER) return CAUSE_TCP_OPTIONS;
    if (p.ipSize > this.maxAggregate || p.frameLen > this.maxFrame || p.frameLen > this.gather.length) return CAUSE_TOO_LARGE;
    return NO_CAUSE;
  }

  /**
   * 736-741 (+ gro's extra fields): 0 if the segment may join flow f's aggregate, else the reason.
   * The aggregate's header is its first segment's, but in throughput it holds the last segment's
   * ACK and timestamps (append), which the newcomer's must not be behind.
   */
  mismatch(f: number, p: Parsed, b: Uint8Array): number {
    const a = this.frameBytes(f);
    const base = this.firstFrame(f);
    const l3 = base + p.l3;
    const l4 = base + this.l4[f];
    const n4 = p.l4;
    const firstFlags = tcpFlags(a, l4);
    if (this.gro ? ((p.flags ^ firstFlags) & ~(PSH | FIN)) !== 0 : p.flags !== firstFlags) return REASON_MISMATCH_FLAGS; // 736
    const ack = be32(a, l4 + TCP_ACK);
    if (p.ack !== ack && (!this.throughput || ((p.ack - ack) | 0) < 0)) return REASON_MISMATCH_ACK; // 738
    if (p.seq !== this.nextSeq[f]) return REASON_MISMATCH_SEQ; // 740
    if (this.gro) {
      const hdr = p.tcpHdrLen;
      if (
        hdr !== this.tcpHdrLen[f] ||
        (!sameBytes(a, l4 + TCP_HEADER, b, n4 + TCP_HEADER, hdr - TCP_HEADER) &&
          !(this.throughput && this.timestampsMoveOn(a, l4, b, n4, hdr)))
      ) {
        return REASON_MISMATCH_OPTIONS; // 741
      }
      if (p.window !== be16(a, l4 + TCP_WINDOW) && !this.throughput) return REASON_MISMATCH_WINDOW;
      if (!this.sameIpFields(f, a, l3, b, p)) return REASON_MISMATCH_IP;
      if (p.payloadLen > this.mss[f]) return REASON_MISMATCH_MSS;
    }
    // The size after appending: within maxAggregate, and the frame within maxFrame (ipLimit).
    if (this.ipSize[f] + p.payloadLen > this.ipLimit[f]) return REASON_CAPACITY;
    return 0;
  }

  /**
   * TTL / hop limit, TOS / traffic class (ECN included), DF, the IPv4 ID's mode (Linux's
   * inet_gro_flush): the second segment's ID is the first's + 1 (incrementing) or the first's
   * (fixed), and the k-th segment's, counted from 0, the first's + k or the first's; IPv6: the flow
   * label and the extension headers, byte for byte.
   */
  private sameIpFields(f: number, a: Uint8Array, l3: number, b: Uint8Array, p: Parsed): boolean {
    const n = p.l3;
    if (p.ipVersion === 4) {
      const df = IPV4_DF >> 8; // in the first byte of the field
      if (
        a[l3 + IPV4_TOS] !== b[n + IPV4_TOS] ||
        (a[l3 + IPV4_FLAGS_FRAGMENT] & df) !== (b[n + IPV4_FLAGS_FRAGMENT] & df) ||
        a[l3 + IPV4_TTL] !== b[n + IPV4_TTL]
      )
        return false;
      // The first segment's ID is still in the aggregate's header; fixedId says "all equal so far".
      const offset = (p.ipId - be16(a, l3 + IPV4_ID)) & 0xffff;
      const segments = this.segments[f];
      return offset === (this.fixedId[f] !== 0 ? 0 : segments & 0xffff) || (segments === 1 && offset === 1);
    }
    if (!sameBytes(a, l3 + IPV6_FLOW, b, n + IPV6_FLOW, 4) || a[l3 + IPV6_HOP_LIMIT] !== b[n + IPV6_HOP_LIMIT]) return false;
    // Extension headers (Hop-by-Hop, Routing, Destination Options) up to TCP.
    const ext = p.l4 - p.l3 - IPV6_HEADER;
    if (p.l4 !== this.l4[f]) return false;
    return sameBytes(a, l3 + IPV6_HEADER, b, n + IPV6_HEADER, ext);
  }

  /**
   * throughput: options that differ from the aggregate's (its TCP header at h in a; the
   * newcomer's at n in b, `hdr` bytes each) only in a timestamp option's TSval and TSecr, which
   * are not behind the aggregate's (the last joined segment's; serial arithmetic mod 2^32).
   */
  private timestampsMoveOn(a: Uint8Array, h: number, b: Uint8Array, n: number, hdr: number): boolean {
    const ts = timestampAt(b, n, hdr);
    if (ts < 0) return false;
    for (let i = TCP_HEADER; i < hdr; i++) {
      if ((i < ts + TCPOPT_TSVAL || i >= ts + TCPOLEN_TIMESTAMP) && a[h + i] !== b[n + i]) return false;
    }
    if (((be32(b, n + ts + TCPOPT_TSVAL) - be32(a, h + ts + TCPOPT_TSVAL)) | 0) < 0) return false;
    return ((be32(b, n + ts + TCPOPT_TSECR) - be32(a, h + ts + TCPOPT_TSECR)) | 0) >= 0;
  }

  /** Flow f's aggregate's frame: 0 in its build area, or its offset in the ring (valid while it has a pending aggregate). */
  firstFrame(f: number): number {
    const d = this.pool.pendingPtr(f);
    return this.pool.area[d] >= 0 ? 0 : this.pool.first[d];
  }

  /** The bytes flow f's aggregate's frame (firstFrame) lies in: its build area or the ring. */
  frameBytes(f: number): Uint8Array {
    const area = this.pool.area[this.pool.pendingPtr(f)];
    return area >= 0 ? this.areas[area] : this.ring.bytes;
  }

  /**
   * 744-745: the segment b (at ring offset `at`; `accountAt`: its place on the ring's account)
   * starts flow f's aggregate with a descriptor lent to it (one must be free): built in a build
   * area if one is free (the payload verified, then one set() of the whole frame), else its payload
   * verified and its whole frame held in the ring where it lies. False: bad checksum, nothing held.
   */
  start(f: number, p: Parsed, b: Uint8Array, at: number, accountAt: number): boolean {
    if (!p.verifyPayload(b)) return false;
    const hot = this.areaTop > 0;
    let area = -1;
    if (hot) {
      area = this.areaFree[--this.areaTop];
      this.areas[area].set(b, 0); // headers, payload and Ethernet padding (kept)
    }
    const pool = this.pool;
    pool.pendingAcquire(f);
    const d = pool.pendingPtr(f);
    pool.accountAt[d] = accountAt;
    pool.area[d] = area;
    pool.first[d] = hot ? RING_NONE : at;
    pool.chain[d] = RING_NONE;
    pool.last[d] = RING_NONE;
    if (!hot) {
      this.ring.ringHold(at, p.frameLen);
      this.heldInRing++;
    }
    this.segments[f] = 1;
    this.nextSeq[f] = (p.seq + p.payloadLen) >>> 0;
    this.frameLen[f] = p.frameLen;
    this.ipSize[f] = p.ipSize;
    // The largest IP length of this aggregate: maxAggregate, or maxFrame less the link and IP
    // headers (ipEnd - ipSize bytes; every segment of the connection has the same). ≥ ipSize.
    this.ipLimit[f] = Math.min(this.maxAggregate, this.maxFrame - (p.ipEnd - p.ipSize));
    this.mss[f] = p.payloadLen;
    this.payloadSum[f] = p.payloadSum;
    this.payloadLen[f] = p.payloadLen;
    this.l3[f] = p.l3;
    this.l4[f] = p.l4;
    this.tcpHdrLen[f] = p.tcpHdrLen;
    this.ipVersion[f] = p.ipVersion;
    this.seenFlags[f] = p.flags;
    this.lastWindow[f] = p.window;
    this.fixedId[f] = p.ipVersion === 4 ? 1 : 0; // fixedIpId; gro: the IPv4 ID mode, once a second segment joins
    return true;
  }

  /** Offset just past the aggregate's IP packet, relative to its frame. */
  private ipEndOf(f: number): number {
    // IPv4's length field counts its header, IPv6's does not.
    return this.l3[f] + (this.ipVersion[f] === 4 ? 0 : IPV6_HEADER) + this.ipSize[f];
  }

  /**
   * 745: the segment b (at ring offset `at`) joins flow f's aggregate: one in a build area gets
   * the payload appended at its IP end, verified as it is copied; any other, its payload verified
   * and its frame held where it lies, linked at the end of the aggregate's chain. False: bad
   * checksum, nothing held (the bytes written past the aggregate's end are not part of it).
   */
  append(f: number, p: Parsed, b: Uint8Array, at: number): boolean {
    const area = this.pool.area[this.pool.pendingPtr(f)];
    const hot = area >= 0;
    if (hot) {
      const end = this.ipEndOf(f);
      // A one-segment aggregate's Ethernet padding lies past its IP end: verify before overwriting it.
      if (this.frameLen[f] !== end && !p.verifyPayload(b)) return false;
      if (!p.copyPayload(b, this.areas[area], end)) return false;
    } else if (!p.verifyPayload(b)) {
      return false;
    }
    const n = p.payloadLen;
    const ring = this.ring;
    const h0 = this.frameBytes(f);
    const a = this.firstFrame(f);
    const len = this.payloadLen[f];
    // A payload placed at an odd offset contributes its sum byte-swapped.
    const sum = (len & 1) === 0 ? p.payloadSum : swap16(p.payloadSum);
    this.payloadSum[f] = fold(this.payloadSum[f] + sum);
    this.payloadLen[f] = len + n;
    this.ipSize[f] += n;
    this.frameLen[f] = this.ipEndOf(f);
    this.segments[f]++;
    this.nextSeq[f] = (this.nextSeq[f] + n) >>> 0;
    this.seenFlags[f] |= p.flags;
    this.lastWindow[f] = p.window;
    // The first segment's IPv4 ID, still in its header? (An IPv6 aggregate's flag is 0 already.)
    this.fixedId[f] &= p.ipId === be16(h0, a + p.l3 + IPV4_ID) ? 1 : 0;
    if (this.throughput) {
      // The aggregate carries the last segment's ACK and timestamps (the window: finish): its
      // options may differ from the aggregate's only there (mismatch), so they are copied whole,
      // into its header (in the ring, held: the engine's bytes; or in its build area).
      const h = a + p.l4;
      copy(h0, h + TCP_ACK, b, p.l4 + TCP_ACK, 4);
      copy(h0, h + TCP_HEADER, b, p.l4 + TCP_HEADER, p.tcpHdrLen - TCP_HEADER);
    }
    if (hot) return true;
    // Link it (its header is read no more: the node overwrites its first bytes).
    const pool = this.pool;
    const d = pool.pendingPtr(f);
    ring.store32(at + NODE_NEXT, RING_NONE);
    ring.store32(at + NODE_PAYLOAD, at + p.l4 + p.tcpHdrLen);
    ring.store32(at + NODE_LENGTH, n);
    const last = pool.last[d];
    if (last === RING_NONE) pool.chain[d] = at;
    else ring.store32(last + NODE_NEXT, at);
    pool.last[d] = at;
    ring.ringHold(at, p.frameLen);
    return true;
  }

  /**
   * 746 / 764: make flow f's aggregate a valid packet at outBytes[outStart …] and return its
   * length. One segment: its frame, untouched, where it lies (the ring, or its build area). More:
   * one in a build area is whole there already; any other's first segment's frame up to its IP end
   * and every later payload are gathered into the gather area. Then IP length, the last segment's
   * window and FIN, PSH if any segment had it, the IPv4 header checksum, and the TCP checksum from
   * the header as it now is (throughput's carried ACK and timestamps included) and the
   * per-segment payload sums (no second pass over the payload). A build area is free again once
   * its aggregate is finished.
   */
  finish(f: number): number {
    const ring = this.ring;
    const first = this.firstFrame(f);
    const area = this.pool.area[this.pool.pendingPtr(f)];
    const hot = area >= 0;
    const bytes = this.frameBytes(f);
    if (hot) this.areaFree[this.areaTop++] = area;
    else this.heldInRing--;
    if (this.segments[f] < 2) {
      this.outBytes = bytes;
      this.outStart = first;
      return this.frameLen[f];
    }
    const a = hot ? bytes : this.gather;
    if (!hot) {
      let at = this.l4[f] + this.tcpHdrLen[f] + this.mss[f];
      a.set(ring.bytes.subarray(first, first + at), 0);
      for (let node = this.pool.chain[this.pool.pendingPtr(f)]; node !== RING_NONE; ) {
        const n = ring.load32(node + NODE_LENGTH);
        const from = ring.load32(node + NODE_PAYLOAD);
        a.set(ring.bytes.subarray(from, from + n), at);
        at += n;
        node = ring.load32(node + NODE_NEXT);
      }
    }
    this.outBytes = a;
    this.outStart = 0;
    const l3 = this.l3[f];
    const l4 = this.l4[f];
    const ipSize = this.ipSize[f];
    if (this.ipVersion[f] === 4) {
      put16(a, l3 + IPV4_TOTAL_LENGTH, ipSize);
      if (this.fixChecksums) {
        put16(a, l3 + IPV4_CHECKSUM, 0);
        put16(a, l3 + IPV4_CHECKSUM, checksumField(sum16(a, l3, l3 + IPV4_HEADER)));
      }
    } else {
      put16(a, l3 + IPV6_PAYLOAD_LENGTH, ipSize);
    }
    put16(a, l4 + TCP_WINDOW, this.lastWindow[f]);
    a[l4 + TCP_FLAGS] |= this.seenFlags[f] & (PSH | FIN);
    if (this.fixChecksums) {
      const tcpLen = this.ipEndOf(f) - this.l4[f]; // IPv6: the payload length counts the extension headers
      put16(a, l4 + TCP_CHECKSUM, 0);
      const header = sum16(a, l4, l4 + this.tcpHdrLen[f]);
      // The pseudo-header: the addresses, as in the first segment's header, and the protocol.
      const addresses = this.ipVersion[f] === 4 ? sum16(a, l3 + IPV4_SRC, l3 + IPV4_SRC + 8) : sum16(a, l3 + IPV6_SRC, l3 + IPV6_SRC + 32);
      const pseudo = fold(addresses + PROTO_TCP + tcpLen);
      put16(a, l4 + TCP_CHECKSUM, checksumField(pseudo + header + this.payloadSum[f]));
    }
    return this.frameLen[f];
  }
}

/**
 * The first timestamp option (kind 8, length 10) of the TCP header at t in b (`hdr` bytes), as an
 * offset from t, or -1. EOL ends the walk, NOP is one byte, any other option gives its length, at
 * least 2 and inside the header (else the walk stops: no timestamp).
 */
function timestampAt(b: Uint8Array, t: number, hdr: number): number {
  let i = TCP_HEADER;
  while (i < hdr) {
    const kind = b[t + i];
    if (kind === TCPOPT_EOL) return -1;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= hdr) return -1;
    const len = b[t + i + 1];
    if (len < 2 || i + len > hdr) return -1;
    if (kind === TCPOPT_TIMESTAMP && len === TCPOLEN_TIMESTAMP) return i;
    i += len;
  }
  return -1;
}

function copy(to: Uint8Array, at: number, from: Uint8Array, start: number, count: number): void {
  for (let i = 0; i < count; i++) to[at + i] = from[start + i];
}

function sameBytes(a: Uint8Array, at: number, b: Uint8Array, bt: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (a[at + i] !== b[bt + i]) return false;
  return true;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >> 8;
  b[at + 1] = v;
}
