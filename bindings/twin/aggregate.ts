// Pending aggregates and the aggregation checks 732-741 (twin of assembly/aggregate.ts).
// A flow with a pending aggregate holds a connection buffer (buffers.ts) with the first segment's
// whole frame (so a one-segment aggregate goes out byte-identical, padding included), then every
// later segment's payload appended at the IP end.
import { fold, sum16, swap16, checksumField } from './checksum.js';
import type { Buffers } from './buffers.js';
import {
  CWR,
  FIN,
  IPV4_CHECKSUM,
  IPV4_FLAGS_FRAGMENT,
  IPV4_HEADER,
  IPV4_ID,
  IPV4_TOS,
  IPV4_TOTAL_LENGTH,
  IPV4_TTL,
  IPV4_DF,
  IPV6_FLOW,
  IPV6_HEADER,
  IPV6_HOP_LIMIT,
  IPV6_PAYLOAD_LENGTH,
  PROTO_TCP,
  PSH,
  RST,
  SYN,
  TCP_ACK,
  TCP_CHECKSUM,
  TCP_FLAGS,
  TCP_HEADER,
  TCP_WINDOW,
  URG,
} from './headers.js';
import { type Parsed, be16, be32 } from './parse.js';
import {
  REASON_MISMATCH_FLAGS,
  REASON_MISMATCH_ACK,
  REASON_MISMATCH_SEQ,
  REASON_MISMATCH_OPTIONS,
  REASON_MISMATCH_WINDOW,
  REASON_MISMATCH_IP,
  REASON_MISMATCH_MSS,
  REASON_CAPACITY,
} from '../abi.js';

export { FIN, PSH, RST } from './headers.js'; // for engine.ts
export class Aggregates {
  /** The pool's bytes (pool.bytes): flow f's buffer starts at pool.bufferPtr(f). */
  readonly buffers: Uint8Array;
  /** Bytes per buffer (pool.bufferCap). */
  readonly capacity: number;
  // Per flow index; segments = 0 means no pending aggregate (742) and no buffer lent.
  readonly segments: Uint32Array;
  readonly nextSeq: Uint32Array; //    740: sequence number the next segment must carry
  readonly frameLen: Uint32Array; //   bytes of the pending frame in the buffer
  readonly ipSize: Uint32Array; //     IP length field as it would be written
  readonly mss: Uint32Array; //        first segment's payload length
  readonly payloadSum: Uint32Array; // folded sum of all payload bytes, as placed in the aggregate
  readonly payloadLen: Uint32Array;
  readonly pseudoBase: Uint32Array; // folded sum of addresses + protocol (pseudo-header)
  readonly l3: Uint8Array;
  readonly l4: Uint8Array;
  readonly tcpHdrLen: Uint8Array;
  readonly ipVersion: Uint8Array;
  readonly lastFlags: Uint8Array; //  PSH/FIN of the last segment are carried over
  readonly fixedId: Uint8Array; //    1 while every IPv4 ID equals the first's (0 for IPv6; metadata only)
  readonly lastWindow: Uint16Array;

  constructor(
    private readonly pool: Buffers,
    maxFlows: number,
    private readonly maxAggregate: number,
    private readonly gro: boolean,
    readonly fixChecksums: boolean,
  ) {
    this.buffers = pool.bytes;
    this.capacity = pool.bufferCap;
    this.segments = new Uint32Array(maxFlows);
    this.nextSeq = new Uint32Array(maxFlows);
    this.frameLen = new Uint32Array(maxFlows);
    this.ipSize = new Uint32Array(maxFlows);
    this.mss = new Uint32Array(maxFlows);
    this.payloadSum = new Uint32Array(maxFlows);
    this.payloadLen = new Uint32Array(maxFlows);
    this.pseudoBase = new Uint32Array(maxFlows);
    this.l3 = new Uint8Array(maxFlows);
    this.l4 = new Uint8Array(maxFlows);
    this.tcpHdrLen = new Uint8Array(maxFlows);
    this.ipVersion = new Uint8Array(maxFlows);
    this.lastFlags = new Uint8Array(maxFlows);
    this.fixedId = new Uint8Array(maxFlows);
    this.lastWindow = new Uint16Array(maxFlows);
  }

  /**
   * The segment's own fields forbid aggregation (FIG. 4, 424-428): TTL < 1 (732), SYN, RST, URG
   * or CWR, TCP options in the seed preset (741), or a size no aggregate may have.
   */
  ownFieldsForbid(p: Parsed, b: Uint8Array): boolean {
    const ttl = b[p.l3 + (p.ipVersion === 4 ? IPV4_TTL : IPV6_HOP_LIMIT)];
    if (ttl < 1) return true;
    if ((p.flags & (SYN | RST | URG | CWR)) !== 0) return true;
    if (!this.gro && p.tcpHdrLen !== TCP_HEADER) return true;
    return p.ipSize > this.maxAggregate || p.frameLen > this.capacity;
  }

  /** 736-741 (+ gro's extra fields): 0 if the segment may join flow f's aggregate, else the reason. */
  mismatch(f: number, p: Parsed, b: Uint8Array): number {
    const a = this.buffers;
    const base = this.pool.bufferPtr(f);
    const l3 = base + p.l3;
    const l4 = base + p.l4;
    const firstFlags = a[l4 + TCP_FLAGS];
    if (this.gro ? ((p.flags ^ firstFlags) & ~(PSH | FIN)) !== 0 : p.flags !== firstFlags) return REASON_MISMATCH_FLAGS; // 736
    if (p.ack !== be32(a, l4 + TCP_ACK)) return REASON_MISMATCH_ACK; // 738
    if (p.seq !== this.nextSeq[f]) return REASON_MISMATCH_SEQ; // 740
    if (this.gro) {
      const hdr = p.tcpHdrLen;
      if (hdr !== this.tcpHdrLen[f] || !sameBytes(a, l4 + TCP_HEADER, b, p.l4 + TCP_HEADER, hdr - TCP_HEADER)) {
        // the options
        return REASON_MISMATCH_OPTIONS; // 741
      }
      if (p.window !== be16(a, l4 + TCP_WINDOW)) return REASON_MISMATCH_WINDOW;
      if (!this.sameIpFields(a, l3, b, p)) return REASON_MISMATCH_IP;
      if (p.payloadLen > this.mss[f]) return REASON_MISMATCH_MSS;
    }
    if (this.ipSize[f] + p.payloadLen > this.maxAggregate) return REASON_CAPACITY;
    return 0;
  }

  /** TTL / hop limit, TOS / traffic class (ECN included), DF, IPv6 flow label. */
  private sameIpFields(a: Uint8Array, l3: number, b: Uint8Array, p: Parsed): boolean {
    const n = p.l3;
    if (p.ipVersion === 4) {
      const df = IPV4_DF >> 8; // in the first byte of the field
      return (
        a[l3 + IPV4_TOS] === b[n + IPV4_TOS] &&
        (a[l3 + IPV4_FLAGS_FRAGMENT] & df) === (b[n + IPV4_FLAGS_FRAGMENT] & df) &&
        a[l3 + IPV4_TTL] === b[n + IPV4_TTL]
      );
    }
    return sameBytes(a, l3 + IPV6_FLOW, b, n + IPV6_FLOW, 4) && a[l3 + IPV6_HOP_LIMIT] === b[n + IPV6_HOP_LIMIT];
  }

  /**
   * 744-745: the segment starts flow f's aggregate in a buffer lent to it (one must be free): its
   * whole frame goes in, the payload verified. False: bad checksum, nothing held. (The core copies
   * the payload while verifying it, then the headers and the padding; here one set() of the whole
   * frame after the sum is cheaper than three copies, and needs no subarray view.)
   */
  start(f: number, p: Parsed, b: Uint8Array): boolean {
    const pool = this.pool;
    pool.bufferAcquire(f);
    const a = pool.bufferPtr(f);
    if (!p.verifyPayload(b)) {
      pool.bufferRelease(f);
      return false;
    }
    this.buffers.set(b, a); // headers, payload and Ethernet padding (kept)
    this.segments[f] = 1;
    this.nextSeq[f] = (p.seq + p.payloadLen) >>> 0;
    this.frameLen[f] = p.frameLen;
    this.ipSize[f] = p.ipSize;
    this.mss[f] = p.payloadLen;
    this.payloadSum[f] = p.payloadSum;
    this.payloadLen[f] = p.payloadLen;
    this.pseudoBase[f] = fold(p.addrSum + PROTO_TCP);
    this.l3[f] = p.l3;
    this.l4[f] = p.l4;
    this.tcpHdrLen[f] = p.tcpHdrLen;
    this.ipVersion[f] = p.ipVersion;
    this.lastFlags[f] = p.flags;
    this.lastWindow[f] = p.window;
    this.fixedId[f] = p.ipVersion === 4 ? 1 : 0; // for fixedIpId (metadata only: IDs never decide joining)
    return true;
  }

  /** Offset just past the aggregate's IP packet, relative to its buffer. */
  private ipEndOf(f: number): number {
    // IPv4's length field counts its header, IPv6's does not.
    return this.l3[f] + (this.ipVersion[f] === 4 ? 0 : IPV6_HEADER) + this.ipSize[f];
  }

  /**
   * 745: append the segment's payload at the aggregate's IP end, verified as it is copied. False:
   * bad checksum; the bytes written past the aggregate's end are not part of it.
   */
  append(f: number, p: Parsed, b: Uint8Array): boolean {
    const n = p.payloadLen;
    const at = this.ipEndOf(f);
    // A one-segment aggregate's Ethernet padding lies past its IP end: verify before overwriting it.
    if (this.frameLen[f] !== at && !p.verifyPayload(b)) return false;
    const a = this.pool.bufferPtr(f);
    if (!p.copyPayload(b, this.buffers, a + at)) return false;
    const len = this.payloadLen[f];
    // A payload placed at an odd offset contributes its sum byte-swapped.
    const sum = (len & 1) === 0 ? p.payloadSum : swap16(p.payloadSum);
    this.payloadSum[f] = fold(this.payloadSum[f] + sum);
    this.payloadLen[f] = len + n;
    this.ipSize[f] += n;
    this.frameLen[f] = this.ipEndOf(f);
    this.segments[f]++;
    this.nextSeq[f] = (this.nextSeq[f] + n) >>> 0;
    this.lastFlags[f] = p.flags;
    this.lastWindow[f] = p.window;
    // The first segment's IPv4 ID, still in the buffer's header? (An IPv6 aggregate's flag is 0 already.)
    this.fixedId[f] &= p.ipId === be16(this.buffers, a + p.l3 + IPV4_ID) ? 1 : 0;
    return true;
  }

  /**
   * 746 / 764: make the buffer a valid packet and return its length. One segment: untouched.
   * More: IP length, window and PSH/FIN from the last segment, IPv4 header checksum, and the
   * TCP checksum from the per-segment payload sums (no second pass over the payload).
   */
  finish(f: number): number {
    if (this.segments[f] < 2) return this.frameLen[f];
    const a = this.buffers;
    const base = this.pool.bufferPtr(f);
    const l3 = base + this.l3[f];
    const l4 = base + this.l4[f];
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
    a[l4 + TCP_FLAGS] |= this.lastFlags[f] & (PSH | FIN);
    if (this.fixChecksums) {
      const tcpLen = this.ipVersion[f] === 4 ? ipSize - IPV4_HEADER : ipSize;
      put16(a, l4 + TCP_CHECKSUM, 0);
      const header = sum16(a, l4, l4 + this.tcpHdrLen[f]);
      const pseudo = fold(this.pseudoBase[f] + tcpLen);
      put16(a, l4 + TCP_CHECKSUM, checksumField(pseudo + header + this.payloadSum[f]));
    }
    return this.frameLen[f];
  }
}

function sameBytes(a: Uint8Array, at: number, b: Uint8Array, bt: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (a[at + i] !== b[bt + i]) return false;
  return true;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >> 8;
  b[at + 1] = v;
}
