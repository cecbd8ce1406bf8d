// The naive baseline: a Large Receive aggregator written the obvious way in plain JS, the way
// one would before thinking about per-packet cost. It is correct — same join rules as the
// engines' `gro` preset, valid checksums on every aggregate, per-connection order kept, the
// AgTimer honoured — but it keys flows by a string in a Map, reads headers byte by byte,
// verifies checksums with the textbook RFC 1071 loop, keeps each segment's payload as a view
// and builds every aggregate with one Buffer.concat, then checksums the aggregate again.
//
// `concatEverySegment` is the literal "Buffer.concat per segment" variant (the aggregate is
// re-concatenated on every join: quadratic copying); it is reported separately, never as the
// headline baseline.

export type NaiveSink = (frame: Uint8Array, segments: number) => void;

export interface NaiveOptions {
  verifyChecksums?: boolean;
  concatEverySegment?: boolean;
  aggregateTimeoutUs?: number;
}

const FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  PSH = 0x08,
  URG = 0x20,
  CWR = 0x80;
const MAX_AGGREGATE = 65535;
const THRESHOLD = MAX_AGGREGATE - 1500;

interface Segment {
  key: string;
  candidate: boolean;
  v4: boolean;
  l3: number;
  l4: number;
  hdrLen: number;
  ipEnd: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payloadLen: number;
}

interface Pending {
  key: string;
  first: Uint8Array; //   the first segment's frame, sent unchanged if nothing joins
  parts: Uint8Array[]; // payload views of the later segments
  joined: Buffer | null; // concatEverySegment: the aggregate so far
  seg: Segment; //        the first segment's fields
  segments: number;
  nextSeq: number;
  lastFlags: number;
  ipSize: number;
  startUs: number;
}

export class NaiveAggregator {
  private readonly pending = new Map<string, Pending>(); // in start order (Map keeps insertion order)
  private readonly verify: boolean;
  private readonly concatEverySegment: boolean;
  private readonly timeoutUs: number;

  constructor(
    private readonly sink: NaiveSink,
    options: NaiveOptions = {},
  ) {
    this.verify = options.verifyChecksums ?? true;
    this.concatEverySegment = options.concatEverySegment ?? false;
    this.timeoutUs = options.aggregateTimeoutUs ?? 1000;
  }

  push(frame: Uint8Array, timeUs: number): void {
    for (const p of this.pending.values()) {
      // AgTimer: oldest aggregates first
      if (p.startUs + this.timeoutUs > timeUs) break;
      this.send(p);
    }
    const s = this.parse(frame);
    if (s === null) return this.sink(frame, 1);
    let p = this.pending.get(s.key);
    const flags = s.flags;
    if (!s.candidate || s.payloadLen === 0 || (flags & (SYN | RST | URG | CWR | FIN)) !== 0) {
      if (p) this.send(p); // keep per-connection order
      return this.sink(frame, 1);
    }
    if (p && !this.canJoin(p, s, frame)) {
      this.send(p);
      p = undefined;
    }
    if (!p) {
      p = {
        key: s.key,
        first: frame,
        parts: [],
        joined: null,
        seg: s,
        segments: 1,
        nextSeq: (s.seq + s.payloadLen) >>> 0,
        lastFlags: flags,
        ipSize: s.ipEnd - s.l3 - (s.v4 ? 0 : 40),
        startUs: timeUs,
      };
      this.pending.set(s.key, p);
    } else {
      const payload = frame.subarray(s.l4 + s.hdrLen, s.ipEnd);
      if (this.concatEverySegment) {
        p.joined = Buffer.concat([p.joined ?? p.first.subarray(0, p.seg.ipEnd), payload]);
      } else {
        p.parts.push(payload);
      }
      p.segments++;
      p.nextSeq = (p.nextSeq + s.payloadLen) >>> 0;
      p.lastFlags = flags;
      p.ipSize += s.payloadLen;
    }
    if ((flags & PSH) !== 0 || s.payloadLen < p.seg.payloadLen || p.ipSize > THRESHOLD) this.send(p);
  }

  /** Send everything pending (end of input). */
  flush(): void {
    for (const p of this.pending.values()) this.send(p);
  }

  private canJoin(p: Pending, s: Segment, frame: Uint8Array): boolean {
    const f = p.seg;
    const a = p.first;
    if (s.seq !== p.nextSeq || s.ack !== f.ack || ((s.flags ^ f.flags) & ~PSH) !== 0) return false;
    if (s.window !== f.window || s.hdrLen !== f.hdrLen || s.payloadLen > f.payloadLen) return false;
    if (p.ipSize + s.payloadLen > MAX_AGGREGATE) return false;
    for (let i = 20; i < s.hdrLen; i++) if (frame[s.l4 + i] !== a[f.l4 + i]) return false; // options
    if (s.v4) {
      // TOS, DF, TTL
      return frame[s.l3 + 1] === a[f.l3 + 1] && (frame[s.l3 + 6] & 0x40) === (a[f.l3 + 6] & 0x40) && frame[s.l3 + 8] === a[f.l3 + 8];
    }
    for (let i = 0; i < 4; i++) if (frame[s.l3 + i] !== a[f.l3 + i]) return false; // class, label
    return frame[s.l3 + 7] === a[f.l3 + 7];
  }

  private send(p: Pending): void {
    this.pending.delete(p.key);
    if (p.segments === 1) return this.sink(p.first, 1);
    const f = p.seg;
    const b = p.joined ?? Buffer.concat([p.first.subarray(0, f.ipEnd), ...p.parts]);
    if (f.v4) {
      put16(b, f.l3 + 2, p.ipSize);
      put16(b, f.l3 + 10, 0);
      put16(b, f.l3 + 10, ~checksum(b, f.l3, f.l3 + 20, 0) & 0xffff);
    } else {
      put16(b, f.l3 + 4, p.ipSize);
    }
    b[f.l4 + 13] |= p.lastFlags & PSH;
    put16(b, f.l4 + 16, 0);
    const end = b.length;
    put16(b, f.l4 + 16, ~checksum(b, f.l4, end, pseudo(b, f, end - f.l4)) & 0xffff);
    this.sink(b, p.segments);
  }

  /** Headers of an Ethernet frame (at most one VLAN tag) carrying TCP, or null. */
  private parse(b: Uint8Array): Segment | null {
    if (b.length < 14) return null;
    let l3 = 14;
    let type = be16(b, 12);
    let vlan = -1;
    if (type === 0x8100 || type === 0x88a8) {
      if (b.length < 18) return null;
      vlan = be16(b, 14) & 0xfff;
      type = be16(b, 16);
      l3 = 18;
    }
    let v4: boolean;
    let l4: number;
    let ipEnd: number;
    let candidate = true;
    let key: string;
    if (type === 0x0800) {
      if (b.length < l3 + 20 || b[l3 + 9] !== 6) return null;
      v4 = true;
      const ihl = (b[l3] & 15) * 4;
      const fragment = be16(b, l3 + 6);
      if ((fragment & 0x1fff) !== 0) return null;
      l4 = l3 + ihl;
      ipEnd = l3 + be16(b, l3 + 2);
      if (ihl < 20 || l4 + 20 > Math.min(b.length, ipEnd)) return null;
      key = `${vlan}|${be32(b, l3 + 12)}|${be32(b, l3 + 16)}|${be32(b, l4)}`;
      candidate = ihl === 20 && (fragment & 0x2000) === 0 && ipEnd <= b.length && checksum(b, l3, l3 + 20, 0) === 0xffff;
    } else if (type === 0x86dd) {
      if (b.length < l3 + 40 || b[l3 + 6] !== 6) return null;
      v4 = false;
      l4 = l3 + 40;
      ipEnd = l4 + be16(b, l3 + 4);
      if (l4 + 20 > Math.min(b.length, ipEnd)) return null;
      key =
        `${vlan}|${be32(b, l3 + 8)}.${be32(b, l3 + 12)}.${be32(b, l3 + 16)}.${be32(b, l3 + 20)}|` +
        `${be32(b, l3 + 24)}.${be32(b, l3 + 28)}.${be32(b, l3 + 32)}.${be32(b, l3 + 36)}|${be32(b, l4)}`;
      candidate = ipEnd <= b.length;
    } else {
      return null;
    }
    const hdrLen = (b[l4 + 12] >> 4) * 4;
    if (hdrLen < 20 || l4 + hdrLen > ipEnd) candidate = false;
    const s: Segment = {
      key,
      candidate,
      v4,
      l3,
      l4,
      hdrLen,
      ipEnd,
      seq: be32(b, l4 + 4),
      ack: be32(b, l4 + 8),
      flags: b[l4 + 13],
      window: be16(b, l4 + 14),
      payloadLen: candidate ? ipEnd - l4 - hdrLen : 0,
    };
    if (candidate && this.verify) {
      s.candidate = checksum(b, l4, ipEnd, pseudo(b, s, ipEnd - l4)) === 0xffff;
    }
    return s;
  }
}

/** RFC 1071, the textbook loop: big-endian 16-bit words, folded. */
function checksum(b: Uint8Array, start: number, end: number, initial: number): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

/** TCP pseudo-header sum (addresses, protocol, TCP length). */
function pseudo(b: Uint8Array, s: { v4: boolean; l3: number }, tcpLen: number): number {
  return s.v4 ? checksum(b, s.l3 + 12, s.l3 + 20, 6 + tcpLen) : checksum(b, s.l3 + 8, s.l3 + 40, 6 + tcpLen);
}

function be16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >> 8;
  b[at + 1] = v;
}
