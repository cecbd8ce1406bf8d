// The job behind `lro compare WIRE OURS [LINUX]`: where two or more coalescings of the same wire
// traffic differ, per TCP connection (direction matters; matched across files by IP version,
// addresses, ports and VLAN ids, whatever the link type or interface).
//
// Every file is read with the capture reader and every frame parsed with the frame kit's
// parseFrame (packet/dissect.ts), which shares no code with the engines: it is the judge.
//
// Per connection and file: packets, data packets (TCP with payload), payload bytes, segments per
// data packet, payload sizes, and the payload byte stream.
//   - Segments: a WIRE data packet is one segment. A data packet of another file covers sequence
//     numbers [s, e); it counts the WIRE segments of its connection that tile that range, found
//     in WIRE order from the first one not yet taken (so a duplicate on the wire is counted once,
//     by whichever packet carries it). Bytes no WIRE segment accounts for (not on WIRE, or WIRE
//     segments that straddle e) count ceil(bytes / MSS), the MSS being the connection's largest
//     WIRE payload, and the packet is counted as `estimated`.
//   - The stream: payload bytes in sequence order, as tshark's "Follow TCP Stream" reassembles
//     them: from the SYN's sequence number + 1 (else the first data byte), bytes seen before are
//     skipped (retransmissions), bytes out of order wait for the hole to fill; a hole never filled
//     is skipped and counted as missing (where tshark writes "[N bytes missing in capture file]"). Hashed (SHA-256) as it goes, plus a SHA-1 per 64 KiB
//     block to tell where two streams first differ. Memory: what waits behind a hole (at most
//     16 MiB per stream before the hole is given up) and 13 bytes per WIRE data segment.
//
// --rerun: WIRE is coalesced again in memory by the library (one engine per interface, as `lro
// coalesce` does) and each packet's `reason` is counted for its connection; whether the re-run
// gives OURS's packets per connection is reported, so reasons are never shown for a file they do
// not describe.

import { createHash, type Hash } from 'node:crypto';
import { openCapture } from '../capture/index.js';
import { createEngine } from '../engine/create.js';
import type { Engine, EngineOptions, Reason } from '../engine/types.js';
import { SYN } from '../packet/constants.js';
import { flowKey, parseFrame, type ParsedFrame } from '../packet/dissect.js';
import { LINK_TYPES } from './link-types.js';

/** Histogram buckets of segments per data packet. */
export const SEGMENT_BUCKETS: readonly { label: string; min: number; max: number }[] = [
  { label: '1', min: 1, max: 1 },
  { label: '2-4', min: 2, max: 4 },
  { label: '5-16', min: 5, max: 16 },
  { label: '17-32', min: 17, max: 32 },
  { label: '33-45', min: 33, max: 45 },
  { label: '46+', min: 46, max: Infinity },
];

/** Stream block size for locating the first difference. */
export const STREAM_BLOCK = 65536;
/** Bytes held behind a hole in one stream before the hole is given up as missing. */
const PENDING_LIMIT = 16 << 20;
/** How many WIRE segments past the first one not yet taken a packet's first segment is looked for. */
const SEARCH_WINDOW = 4096;
const TWO32 = 2 ** 32;

export interface CompareInput {
  /** Column name: 'WIRE', 'OURS', 'LINUX' … (its lowercase is the JSON key). */
  label: string;
  path: string;
}

export interface CompareOptions {
  /** The capture before coalescing: it defines the segments. */
  wire: CompareInput;
  /** Coalescings of it (one or more). */
  others: CompareInput[];
  skipBad?: boolean;
  /** Re-coalesce WIRE in memory with these options and count the reasons per connection. */
  rerun?: EngineOptions | null;
  createEngine?: (options: EngineOptions) => Promise<Engine>;
}

export interface StreamReport {
  /** Bytes in the reassembled stream. */
  bytes: number;
  /** SHA-256 of those bytes (hex). */
  sha256: string;
  /** Relative sequence number of its first byte (0 = the connection's first sequence number seen on WIRE). */
  start: number;
  /** Holes skipped, and their bytes. */
  gaps: number;
  missingBytes: number;
  /** Relative sequence number of the first hole, or null. */
  firstGapAt: number | null;
  /** Payload bytes already in the stream when they came again (retransmissions, duplicates). */
  repeatedBytes: number;
}

/** What a side's TCP packets hold: one connection's (SideReport) or a whole file's (TotalsReport). */
export interface PacketShape {
  /** TCP packets. */
  packets: number;
  /** Those with payload. */
  dataPackets: number;
  payloadBytes: number;
  /** WIRE segments the data packets hold (see the header comment). */
  segments: number;
  meanSegments: number;
  maxSegments: number;
  /** Data packets per SEGMENT_BUCKETS bucket. */
  histogram: number[];
  meanPayload: number;
  maxPayload: number;
  /** Data packets whose segments were (partly) estimated as ceil(bytes / MSS). */
  estimated: number;
}

export interface SideReport extends PacketShape {
  stream: StreamReport;
  /** Same stream as WIRE's (same start, bytes and hash); null for WIRE itself or when WIRE lacks the connection. */
  identical: boolean | null;
  /** When not identical: offset in the stream (from its start) of the 64 KiB block where it first differs from WIRE's. */
  firstDifference: number | null;
}

export interface ConnectionReport {
  /** "10.0.0.1:40000 → 192.168.0.1:5201" (+ " vlan 5"). */
  flow: string;
  key: string;
  ipVersion: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** VLAN ids, outermost first ('' when untagged). */
  vlan: string;
  /** Largest WIRE payload of the connection, or null if WIRE has no data for it. */
  mss: number | null;
  /** One per file, in the order WIRE, others…; null when the file has no packet of it. */
  sides: (SideReport | null)[];
  /** --rerun: packets the engine sent for this connection, per reason, and how many. */
  rerun?: { packets: number; dataPackets: number; reasons: Partial<Record<Reason, number>> };
}

export interface FileReport {
  label: string;
  path: string;
  format: string;
  records: number;
  /** Records that are not TCP (or not parsed: unknown link type, truncated). */
  otherPackets: number;
  skipped: number;
}

export interface TotalsReport extends PacketShape {
  /** Connections with payload in this file and on WIRE whose streams are identical / all such. */
  identicalStreams: number;
  comparedStreams: number;
}

export interface CompareResult {
  files: FileReport[];
  /** Every connection, by payload bytes on WIRE (then in any file), largest first. */
  connections: ConnectionReport[];
  /** Per file, over every connection. */
  totals: TotalsReport[];
  rerun?: {
    options: EngineOptions;
    packets: number;
    reasons: Partial<Record<Reason, number>>;
    /** The re-run sent, for every connection, the packets and data packets the first coalescing (OURS) holds. */
    matchesFirst: boolean;
    /** Connections where it did not (flow texts, at most 10). */
    mismatches: string[];
  };
}

// ------------------------------------------------------------------ the stream

class StreamHasher {
  private readonly hash: Hash = createHash('sha256');
  private block: Hash = createHash('sha1');
  private blockFill = 0;
  readonly blocks: string[] = [];
  bytes = 0;
  /** Relative sequence number of the next stream byte; null before the first. */
  next: number | null = null;
  start = 0;
  gaps = 0;
  missingBytes = 0;
  firstGapAt: number | null = null;
  repeatedBytes = 0;
  /** Out-of-order segments waiting for a hole, sorted by start. */
  private pending: { start: number; data: Uint8Array }[] = [];
  private pendingBytes = 0;
  private sha = '';

  /** The stream starts at `at` (the SYN's sequence number + 1), unless it already started. */
  startAt(at: number): void {
    if (this.next === null) {
      this.next = at;
      this.start = at;
    }
  }

  add(at: number, payload: Uint8Array): void {
    if (this.next === null) this.startAt(at);
    const next = this.next as number;
    const end = at + payload.length;
    if (end <= next) {
      this.repeatedBytes += payload.length;
      return;
    }
    if (at <= next) {
      this.take(at, payload);
      this.drain();
      return;
    }
    // After a hole: keep a copy until the hole fills (or is given up).
    const entry = { start: at, data: payload.slice() };
    const list = this.pending;
    let i = list.length;
    while (i > 0 && list[i - 1].start > at) i--;
    list.splice(i, 0, entry);
    this.pendingBytes += payload.length;
    if (this.pendingBytes > PENDING_LIMIT) this.skipHole();
  }

  /** The rest of the input: holes that never filled are skipped. */
  finish(): void {
    while (this.pending.length > 0) this.skipHole();
    if (this.blockFill > 0) this.blocks.push(this.block.digest('hex'));
    this.blockFill = 0;
    this.sha = this.hash.digest('hex');
  }

  report(): StreamReport {
    return {
      bytes: this.bytes,
      sha256: this.sha,
      start: this.start,
      gaps: this.gaps,
      missingBytes: this.missingBytes,
      firstGapAt: this.firstGapAt,
      repeatedBytes: this.repeatedBytes,
    };
  }

  /** Append the part of a segment starting at or before `next` that is new. */
  private take(at: number, payload: Uint8Array): void {
    const next = this.next as number;
    const skip = next - at;
    this.repeatedBytes += skip;
    this.write(payload.subarray(skip));
    this.next = at + payload.length;
  }

  private drain(): void {
    const list = this.pending;
    let i = 0;
    while (i < list.length && list[i].start <= (this.next as number)) {
      const { start, data } = list[i++];
      this.pendingBytes -= data.length;
      if (start + data.length <= (this.next as number)) this.repeatedBytes += data.length;
      else this.take(start, data);
    }
    if (i > 0) list.splice(0, i);
  }

  private skipHole(): void {
    const first = this.pending[0];
    const hole = first.start - (this.next as number);
    this.gaps++;
    this.missingBytes += hole;
    if (this.firstGapAt === null) this.firstGapAt = this.next;
    this.next = first.start;
    this.drain();
  }

  private write(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.bytes += bytes.length;
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(STREAM_BLOCK - this.blockFill, bytes.length - at);
      this.block.update(bytes.subarray(at, at + n));
      this.blockFill += n;
      at += n;
      if (this.blockFill === STREAM_BLOCK) {
        this.blocks.push(this.block.digest('hex'));
        this.block = createHash('sha1');
        this.blockFill = 0;
      }
    }
  }
}

// ------------------------------------------------------------------ WIRE's segments

/** A connection's WIRE data segments in WIRE order. */
class WireSegments {
  starts = new Float64Array(64);
  ends = new Float64Array(64);
  n = 0;

  add(start: number, end: number): void {
    if (this.n === this.starts.length) {
      const starts = new Float64Array(this.n * 2);
      const ends = new Float64Array(this.n * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.n] = start;
    this.ends[this.n] = end;
    this.n++;
  }
}

/** Which of a connection's WIRE segments one file's packets have taken so far. */
class Cover {
  private readonly taken: Uint8Array;
  /** Every segment before this one is taken. */
  private cursor = 0;
  constructor(private readonly wire: WireSegments) {
    this.taken = new Uint8Array(wire.n);
  }

  /** Take the WIRE segments that tile [start, end); returns how many, and the bytes none of them covers. */
  take(start: number, end: number): { count: number; uncovered: number } {
    const { starts, ends, n } = this.wire;
    const taken = this.taken;
    while (this.cursor < n && taken[this.cursor]) this.cursor++;
    const limit = Math.min(n, this.cursor + SEARCH_WINDOW);
    let i = this.cursor;
    while (i < limit && (taken[i] || starts[i] !== start)) i++;
    let pos = start;
    let count = 0;
    // The aggregate's segments follow one another among the connection's WIRE segments; a
    // segment already taken (a duplicate carried by an earlier packet) is stepped over.
    while (i < limit && pos < end) {
      if (taken[i]) {
        i++;
        continue;
      }
      if (starts[i] !== pos || ends[i] > end) break;
      taken[i] = 1;
      pos = ends[i];
      count++;
      i++;
    }
    return { count, uncovered: end - pos };
  }
}

// ------------------------------------------------------------------ per connection and file

class Side {
  packets = 0;
  dataPackets = 0;
  payloadBytes = 0;
  segments = 0;
  maxSegments = 0;
  readonly histogram = SEGMENT_BUCKETS.map(() => 0);
  maxPayload = 0;
  estimated = 0;
  /** Last relative sequence number seen (to unwrap the next one). */
  near = 0;
  readonly stream = new StreamHasher();
  /** Not WIRE: the WIRE segments this file's packets took. */
  cover: Cover | null = null;

  count(segments: number): void {
    this.segments += segments;
    if (segments > this.maxSegments) this.maxSegments = segments;
    const b = SEGMENT_BUCKETS.findIndex((x) => segments <= x.max);
    this.histogram[b]++;
  }
}

class Connection {
  /** The connection's first sequence number seen (on WIRE if WIRE has it): relative 0. */
  base: number | null = null;
  readonly wire = new WireSegments();
  mss = 0;
  readonly sides: (Side | null)[];
  rerun: { packets: number; dataPackets: number; reasons: Partial<Record<Reason, number>> } | null = null;
  /** What names the connection (copied: a parsed frame's views die with the reader's buffer). */
  readonly p: { ipVersion: number; src: string; dst: string; sport: number; dport: number; vlans: number[] };
  constructor(
    readonly key: string,
    p: ParsedFrame,
    files: number,
  ) {
    this.p = { ipVersion: p.ipVersion, src: p.src, dst: p.dst, sport: p.tcp?.sport ?? 0, dport: p.tcp?.dport ?? 0, vlans: [...p.vlans] };
    this.sides = new Array<Side | null>(files).fill(null);
  }

  side(k: number): Side {
    let s = this.sides[k];
    if (s === null) {
      s = new Side();
      this.sides[k] = s;
    }
    return s;
  }
}

/** `seq` as a sequence number relative to `base`, unwrapped to the value nearest `near`. */
function unwrap(seq: number, base: number, near: number): number {
  const d = (seq - base) >>> 0;
  return d + Math.round((near - d) / TWO32) * TWO32;
}

function flowText(p: Connection['p']): string {
  const a = p.ipVersion === 6 ? `[${p.src}]` : p.src;
  const b = p.ipVersion === 6 ? `[${p.dst}]` : p.dst;
  const vlan = p.vlans.length > 0 ? ` vlan ${p.vlans.join('.')}` : '';
  return `${a}:${p.sport} → ${b}:${p.dport}${vlan}`;
}

/** The frame of a record as the frame kit parses it (a BSD loopback's address family skipped). */
function parseRecord(data: Uint8Array, linkType: number): ParsedFrame | null {
  const link = LINK_TYPES.get(linkType);
  if (!link || data.length < link.prefix) return null;
  return parseFrame(link.prefix ? data.subarray(link.prefix) : data, link.engine);
}

/** The in-memory re-run of WIRE: one engine per interface, as `lro coalesce` runs them. */
class Rerun {
  private readonly engines = new Map<number, Engine | null>();
  packets = 0;
  readonly reasons: Partial<Record<Reason, number>> = {};
  private lastTime = 0;
  constructor(
    private readonly options: EngineOptions,
    private readonly make: (options: EngineOptions) => Promise<Engine>,
    private readonly connection: (p: ParsedFrame) => Connection,
  ) {}

  /** The interface has its engine (or is known to have none): push() may be called. */
  ready(interfaceId: number): boolean {
    return this.engines.has(interfaceId);
  }

  async open(interfaceId: number, linkType: number): Promise<void> {
    const link = LINK_TYPES.get(linkType);
    const engine = link ? await this.make({ ...this.options, linkType: link.engine }) : null;
    if (engine && link) engine.setSink((bytes, meta) => this.tally(bytes, link.engine, meta.reason));
    this.engines.set(interfaceId, engine);
  }

  push(interfaceId: number, linkType: number, data: Uint8Array, timeUs: number): void {
    const engine = this.engines.get(interfaceId);
    if (!engine) return;
    const prefix = LINK_TYPES.get(linkType)?.prefix ?? 0;
    if (timeUs > this.lastTime) this.lastTime = timeUs;
    engine.push(prefix ? data.subarray(Math.min(prefix, data.length)) : data, timeUs);
  }

  close(): void {
    // `lro coalesce` fires the timers of idle interfaces as the capture's time passes.
    for (const engine of this.engines.values()) {
      if (engine === null) continue;
      for (let guard = 0; guard < 1_000_000 && engine.nextDeadline() <= this.lastTime; guard++) engine.advance(engine.nextDeadline());
      engine.close();
    }
  }

  private tally(bytes: Uint8Array, linkType: number, reason: Reason): void {
    this.packets++;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    const p = parseFrame(bytes, linkType);
    if (!p?.tcp) return;
    const c = this.connection(p);
    c.rerun ??= { packets: 0, dataPackets: 0, reasons: {} };
    c.rerun.packets++;
    if (p.tcp.payload.length > 0) c.rerun.dataPackets++;
    c.rerun.reasons[reason] = (c.rerun.reasons[reason] ?? 0) + 1;
  }
}

/** Compare WIRE with its coalescings. Throws CaptureError / FileError on a bad file. */
export async function compareCaptures(opts: CompareOptions): Promise<CompareResult> {
  const inputs = [opts.wire, ...opts.others];
  const connections = new Map<string, Connection>();
  const connection = (p: ParsedFrame): Connection => {
    const key = flowKey(p);
    let c = connections.get(key);
    if (c === undefined) {
      c = new Connection(key, p, inputs.length);
      connections.set(key, c);
    }
    return c;
  };
  const rerun = opts.rerun ? new Rerun(opts.rerun, opts.createEngine ?? createEngine, connection) : null;
  const files: FileReport[] = [];

  for (const [k, input] of inputs.entries()) {
    const reader = openCapture(input.path, { skipBad: opts.skipBad ?? false });
    let records = 0;
    let other = 0;
    try {
      for (let rec = reader.next(); rec !== null; rec = reader.next()) {
        records++;
        if (k === 0 && rerun) {
          if (!rerun.ready(rec.interfaceId)) await rerun.open(rec.interfaceId, rec.linkType);
          rerun.push(rec.interfaceId, rec.linkType, rec.data, rec.timeUs);
        }
        const p = parseRecord(rec.data, rec.linkType);
        const tcp = p?.tcp;
        if (!p || !tcp) {
          other++;
          continue;
        }
        const c = connection(p);
        const side = c.side(k);
        side.packets++;
        c.base ??= tcp.seq;
        const at = unwrap(tcp.seq, c.base, side.near);
        side.near = at;
        if (tcp.flags & SYN) side.stream.startAt(at + 1);
        const length = tcp.payload.length;
        if (length === 0) continue;
        side.dataPackets++;
        side.payloadBytes += length;
        if (length > side.maxPayload) side.maxPayload = length;
        if (k === 0) {
          c.wire.add(at, at + length);
          if (length > c.mss) c.mss = length;
          side.count(1);
        } else {
          side.cover ??= new Cover(c.wire);
          const { count, uncovered } = side.cover.take(at, at + length);
          const estimate = uncovered > 0 ? (c.mss > 0 ? Math.ceil(uncovered / c.mss) : 1) : 0;
          if (estimate > 0) side.estimated++;
          side.count(Math.max(1, count + estimate));
        }
        side.stream.add(at, tcp.payload);
      }
    } finally {
      reader.close();
    }
    files.push({ label: input.label, path: input.path, format: reader.info.format, records, otherPackets: other, skipped: reader.skipped });
  }
  rerun?.close();

  const reports: ConnectionReport[] = [];
  for (const c of connections.values()) {
    for (const s of c.sides) s?.stream.finish();
    const wire = c.sides[0];
    const p = c.p;
    reports.push({
      flow: flowText(p),
      key: c.key,
      ipVersion: p.ipVersion,
      src: p.src,
      sport: p.sport,
      dst: p.dst,
      dport: p.dport,
      vlan: p.vlans.join('.'),
      mss: c.mss > 0 ? c.mss : null,
      sides: c.sides.map((s, k) => (s === null ? null : sideReport(s, k === 0 ? null : wire))),
      ...(c.rerun ? { rerun: c.rerun } : {}),
    });
  }
  const volume = (r: ConnectionReport) => r.sides[0]?.payloadBytes ?? -1;
  const anyVolume = (r: ConnectionReport) => Math.max(...r.sides.map((s) => s?.payloadBytes ?? 0));
  reports.sort((a, b) => volume(b) - volume(a) || anyVolume(b) - anyVolume(a) || (a.flow < b.flow ? -1 : a.flow > b.flow ? 1 : 0));

  const result: CompareResult = { files, connections: reports, totals: inputs.map((_, k) => totals(reports, k)) };
  if (rerun && opts.rerun) {
    const mismatches: string[] = [];
    for (const r of reports) {
      const ours = r.sides[1];
      const again = r.rerun;
      if ((ours?.packets ?? 0) !== (again?.packets ?? 0) || (ours?.dataPackets ?? 0) !== (again?.dataPackets ?? 0)) mismatches.push(r.flow);
    }
    result.rerun = {
      options: opts.rerun,
      packets: rerun.packets,
      reasons: rerun.reasons,
      matchesFirst: mismatches.length === 0,
      mismatches: mismatches.slice(0, 10),
    };
  }
  return result;
}

function sideReport(s: Side, wire: Side | null): SideReport {
  const stream = s.stream.report();
  let identical: boolean | null = null;
  let firstDifference: number | null = null;
  if (wire !== null) {
    const w = wire.stream;
    identical = stream.sha256 === w.report().sha256 && stream.bytes === w.bytes && stream.start === w.start;
    if (!identical) firstDifference = stream.start !== w.start ? 0 : firstDifferentBlock(s.stream.blocks, w.blocks) * STREAM_BLOCK;
  }
  return {
    packets: s.packets,
    dataPackets: s.dataPackets,
    payloadBytes: s.payloadBytes,
    segments: s.segments,
    meanSegments: s.dataPackets ? round2(s.segments / s.dataPackets) : 0,
    maxSegments: s.maxSegments,
    histogram: [...s.histogram],
    meanPayload: s.dataPackets ? round1(s.payloadBytes / s.dataPackets) : 0,
    maxPayload: s.maxPayload,
    estimated: s.estimated,
    stream,
    identical,
    firstDifference,
  };
}

function firstDifferentBlock(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  // Every common block is equal (length included), so the shorter stream ends at a block boundary
  // and the longer one goes on from there.
  return n;
}

function totals(reports: ConnectionReport[], k: number): TotalsReport {
  const t: TotalsReport = {
    packets: 0,
    dataPackets: 0,
    payloadBytes: 0,
    segments: 0,
    meanSegments: 0,
    maxSegments: 0,
    histogram: SEGMENT_BUCKETS.map(() => 0),
    meanPayload: 0,
    maxPayload: 0,
    estimated: 0,
    identicalStreams: 0,
    comparedStreams: 0,
  };
  for (const r of reports) {
    const s = r.sides[k];
    const wire = r.sides[0];
    // A stream is compared when WIRE or this file has payload for the connection (WIRE: its own).
    if (k === 0 ? (s?.payloadBytes ?? 0) > 0 : wire !== null && (wire.payloadBytes > 0 || (s?.payloadBytes ?? 0) > 0)) {
      t.comparedStreams++;
      if (k === 0 || s?.identical) t.identicalStreams++;
    }
    if (!s) continue;
    t.packets += s.packets;
    t.dataPackets += s.dataPackets;
    t.payloadBytes += s.payloadBytes;
    t.segments += s.segments;
    t.maxSegments = Math.max(t.maxSegments, s.maxSegments);
    s.histogram.forEach((n, i) => {
      t.histogram[i] += n;
    });
    t.maxPayload = Math.max(t.maxPayload, s.maxPayload);
    t.estimated += s.estimated;
  }
  t.meanSegments = t.dataPackets ? round2(t.segments / t.dataPackets) : 0;
  t.meanPayload = t.dataPackets ? round1(t.payloadBytes / t.dataPackets) : 0;
  return t;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
