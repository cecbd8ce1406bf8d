// The fuzz oracle: one case through both engines, every CONTRACT §6 invariant checked.
//
// Run A pushes one frame at a time and drains after every step; run B, on the other engine and
// with another hash seed, uses pushBatch with the case's split sizes (and sometimes a zero-copy
// sink). Both must produce the same bytes, boundaries, times, reasons and stats (§6.4), nothing
// may throw (§6.6), the WASM memory may not grow (§6.6), and the output must satisfy the
// invariants of test/helpers/invariants.ts (§6.1-3, 5) plus the bookkeeping below (§6.7), and
// what each packet says about itself (§5: inputIndex, firstTimeUs, ipVersion, tcpOffset,
// headerLength, verified, fixedIpId) is judged against the input, as is firstPendingIndex().
// Failures throw an Error whose message says what differs; fast-check shrinks on it.
import { arpFrame, flowKey, internetChecksum, parseFrame, pseudoHeaderSum, tcpFrame, udpFrame } from '../../bindings/packet/index.js';
import { createEngine } from '../../bindings/index.js';
import { resolveOptions } from '../../bindings/engine/options.js';
import { STAGE_BYTES } from '../../bindings/abi.js';
import {
  PASS_THROUGH_CAUSES,
  REASONS,
  type Engine,
  type EngineKind,
  type EngineOptions,
  type Packet,
  type Stats,
} from '../../bindings/engine/types.js';
import type { Step } from '../helpers/engines.js';
import { checkInvariants } from '../helpers/invariants.js';
import { differenceLine, fieldAt, firstDifference } from '../helpers/bytes.js';
import type { FrameSource, FuzzCase, Mutation } from './arbitraries.js';

/** Frames and cases run through the oracle in this process (shrinking included). */
export const tally = { cases: 0, frames: 0 };

/** What the fuzzer reached (summed stats of run A), to see that it exercises every path. */
export const coverage = {
  reasons: Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<string, number>,
  passThroughCauses: Object.fromEntries(PASS_THROUGH_CAUSES.map((k) => [k, 0])) as Record<string, number>,
  tableFull: 0,
  clockClamped: 0,
  flowsCreated: 0,
  aggregatesOf2Plus: 0,
  casesWithAggregates: 0,
  maxSegments: 0,
  maxFrame: 0,
};

function cover(st: Stats, packets: Packet[]): void {
  for (const r of REASONS) coverage.reasons[r] += st.reasons[r];
  for (const k of PASS_THROUGH_CAUSES) coverage.passThroughCauses[k] += st.passThroughCauses[k];
  coverage.tableFull += st.tableFull;
  coverage.clockClamped += st.clockClamped;
  coverage.flowsCreated += st.flowsCreated;
  if (packets.some((p) => p.segments >= 2)) coverage.casesWithAggregates++;
  for (const p of packets) {
    if (p.segments >= 2) coverage.aggregatesOf2Plus++;
    if (p.segments > coverage.maxSegments) coverage.maxSegments = p.segments;
    if (p.data.length > coverage.maxFrame) coverage.maxFrame = p.data.length;
  }
}

const MAX_TIME = 2 ** 53 - 1;

// ---------------------------------------------------------------------------------------------
// Building frames

export function buildFrame(src: FrameSource): Uint8Array {
  if ('tcp' in src) return tcpFrame(src.tcp);
  if ('udp' in src) return udpFrame(src.udp);
  if ('arp' in src) return arpFrame(src.arp);
  return src.bytes.slice();
}

const TAG_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);

/** Offset of the link layer's protocol field, or -1 (raw IP has none). */
function etherTypeAt(linkType: number): number {
  return linkType === 1 ? 12 : linkType === 113 ? 14 : linkType === 276 ? 0 : -1;
}

/** Offset of the network header, walking VLAN tags (as bindings/packet/ does), or -1. */
function l3Of(b: Uint8Array, linkType: number): number {
  if (linkType === 101) return 0;
  const typeAt = etherTypeAt(linkType);
  let off = linkType === 1 ? 14 : linkType === 113 ? 16 : 20;
  if (b.length < off) return -1;
  let type = (b[typeAt] << 8) | b[typeAt + 1];
  while (TAG_TPIDS.has(type)) {
    if (b.length < off + 4) return -1;
    type = (b[off + 2] << 8) | b[off + 3];
    off += 4;
  }
  return off;
}

/** Offset of the TCP/UDP header (first-guess for IPv6 with extension headers), or -1. */
function l4Of(b: Uint8Array, linkType: number): number {
  const l3 = l3Of(b, linkType);
  if (l3 < 0 || l3 >= b.length) return -1;
  const p = parseFrame(b, linkType);
  if (p && p.l4Offset >= 0) return p.l4Offset;
  return b[l3] >> 4 === 6 ? l3 + 40 : l3 + (b[l3] & 15) * 4;
}

function put16(b: Uint8Array, at: number, v: number): void {
  if (at < 0 || at + 1 >= b.length) return;
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

/** Recompute the IPv4 header checksum and the TCP checksum of whatever the headers now say. */
function refix(b: Uint8Array, linkType: number): void {
  const l3 = l3Of(b, linkType);
  if (l3 < 0 || l3 >= b.length) return;
  if (b[l3] >> 4 === 4) {
    const ihl = (b[l3] & 15) * 4;
    if (ihl >= 20 && l3 + ihl <= b.length) {
      put16(b, l3 + 10, 0);
      put16(b, l3 + 10, ~internetChecksum(b, l3, l3 + ihl) & 0xffff);
    }
  }
  const p = parseFrame(b, linkType);
  if (!p?.tcp) return;
  const end = p.l3Offset + (p.ipVersion === 4 ? 0 : 40) + p.ipLength;
  const l4 = p.l4Offset;
  const addrLen = p.ipVersion === 4 ? 4 : 16;
  const srcAt = p.ipVersion === 4 ? l3 + 12 : l3 + 8;
  const src = b.slice(srcAt, srcAt + addrLen);
  const dst = b.slice(srcAt + addrLen, srcAt + 2 * addrLen);
  put16(b, l4 + 16, 0);
  put16(b, l4 + 16, ~internetChecksum(b, l4, end, pseudoHeaderSum(src, dst, 6, end - l4)) & 0xffff);
}

/** Apply byte-level damage, in order. Never throws; returns a new array when the length changes. */
export function mutate(frame: Uint8Array, muts: readonly Mutation[], linkType: number): Uint8Array {
  let b = frame;
  for (const mu of muts) {
    switch (mu.m) {
      case 'flip':
        if (b.length > 0) {
          const bit = mu.bit % (b.length * 8);
          b[bit >> 3] ^= 1 << (bit & 7);
        }
        break;
      case 'byte':
        if (b.length > 0) b[mu.at % b.length] = mu.v;
        break;
      case 'truncate':
        b = b.slice(0, mu.keep % (b.length + 1));
        break;
      case 'extend': {
        const out = new Uint8Array(b.length + mu.n).fill(mu.v);
        out.set(b, 0);
        b = out;
        break;
      }
      case 'ihl': {
        const l3 = l3Of(b, linkType);
        if (l3 >= 0 && l3 < b.length) b[l3] = (b[l3] & 0xf0) | mu.v;
        break;
      }
      case 'doff': {
        const l4 = l4Of(b, linkType);
        if (l4 >= 0 && l4 + 12 < b.length) b[l4 + 12] = (b[l4 + 12] & 0x0f) | (mu.v << 4);
        break;
      }
      case 'iplen': {
        const l3 = l3Of(b, linkType);
        if (l3 >= 0 && l3 < b.length) put16(b, b[l3] >> 4 === 6 ? l3 + 4 : l3 + 2, mu.v);
        break;
      }
      case 'tcpflags': {
        const l4 = l4Of(b, linkType);
        if (l4 >= 0 && l4 + 13 < b.length) b[l4 + 13] = mu.v;
        break;
      }
      case 'proto': {
        const l3 = l3Of(b, linkType);
        if (l3 >= 0 && l3 < b.length) {
          const at = b[l3] >> 4 === 6 ? l3 + 6 : l3 + 9;
          if (at < b.length) b[at] = mu.v;
        }
        break;
      }
      case 'ethertype':
        put16(b, etherTypeAt(linkType), mu.v);
        break;
      case 'tag': {
        const typeAt = etherTypeAt(linkType);
        const base = linkType === 1 ? 14 : linkType === 113 ? 16 : 20;
        if (typeAt < 0 || b.length < base) break;
        const out = new Uint8Array(b.length + 4);
        out.set(b.subarray(0, base), 0);
        out.set(b.subarray(base), base + 4);
        out[base + 2] = b[typeAt];
        out[base + 3] = b[typeAt + 1];
        put16(out, base, mu.tci);
        put16(out, typeAt, mu.tpid);
        b = out;
        break;
      }
      case 'refix':
        refix(b, linkType);
        break;
    }
  }
  return b;
}

/** The case's steps with real frames (mutations applied). */
export function materialize(c: FuzzCase): Step[] {
  const linkType = c.options.linkType ?? 1;
  return c.items.map((it): Step => {
    if ('advance' in it) return { advance: it.advance };
    if ('flush' in it) return { flush: true };
    const built = buildFrame(it.frame);
    return { frame: it.mut ? mutate(built, it.mut, linkType) : built, t: it.t };
  });
}

// ---------------------------------------------------------------------------------------------
// Running one engine

interface RunOutput {
  packets: Packet[];
  stats: Stats;
  /** Packets drained after each step (single mode only). */
  perStep: number[];
  memoryBefore: number;
  memoryAfter: number;
}

class EngineThrew extends Error {}

/** The frames as views at offsets of every alignment: one shared buffer (k even) or one each (k odd). */
function asViews(steps: Step[], k: number): Step[] {
  let total = 0;
  for (const s of steps) if ('frame' in s) total += s.frame.length + 8;
  const shared = new Uint8Array(total + 8);
  let at = 0;
  let i = 0;
  return steps.map((s) => {
    if (!('frame' in s)) return s;
    if (k & 1) {
      // Own buffer, the frame flush against its end (no slack for word reads past it).
      const off = (k + i++) & 7;
      // k = 7: a SharedArrayBuffer (frames handed over from a worker).
      const own = new Uint8Array(k === 7 ? new SharedArrayBuffer(off + s.frame.length) : new ArrayBuffer(off + s.frame.length));
      own.set(s.frame, off);
      return { frame: own.subarray(off), t: s.t };
    }
    at += (k + i++) & 7;
    const view = shared.subarray(at, at + s.frame.length);
    view.set(s.frame);
    at += s.frame.length;
    return { frame: view, t: s.t };
  });
}

function describeError(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}

/** splits = null: push() one frame at a time and drain after every step. */
async function execute(
  kind: EngineKind,
  options: EngineOptions,
  steps: Step[],
  splits: number[] | null,
  sink: boolean,
  views = 0,
): Promise<RunOutput> {
  if (views > 0) steps = asViews(steps, views);
  // Garbage over the caller's bytes once the engine has returned, and from inside the sink over
  // those of the call in progress (views only: they are our copies).
  const scribble = (frames: readonly Uint8Array[]) => {
    if (views > 0) for (const f of frames) f.fill(0xa5);
  };
  let inCall: readonly Uint8Array[] = [];
  const engine: Engine = await createEngine({ ...options, engine: kind });
  const memory = () => (kind === 'wasm' ? (engine as unknown as { memoryBytes(): number }).memoryBytes() : 0);
  const memoryBefore = memory();
  const packets: Packet[] = [];
  const perStep: number[] = [];
  // firstPendingIndex(): never decreases, never above the frames pushed, and no packet handed out
  // after an answer has a smaller inputIndex (what an in-order writer relies on). Packets are
  // judged when they are handed out: in the sink, or drained after each step (push mode).
  let floor = 0;
  let pushed = 0;
  const observe = (where: string, exact = false) => {
    const f = engine.firstPendingIndex();
    if (!Number.isInteger(f) || f < floor) throw new Error(`${kind}: firstPendingIndex() ${f} ${where}, below an earlier answer ${floor}`);
    if (f > pushed || (exact && f !== pushed)) {
      throw new Error(`${kind}: firstPendingIndex() ${f} ${where}, ${pushed} frames pushed${exact ? ', nothing pending' : ''}`);
    }
    floor = f;
  };
  const admit = (p: Omit<Packet, 'data'>) => {
    if (p.inputIndex < floor) {
      throw new Error(`${kind}: packet (${p.reason}) with inputIndex ${p.inputIndex} after firstPendingIndex() answered ${floor}`);
    }
  };
  if (sink) {
    engine.setSink((data, meta) => {
      admit(meta);
      packets.push({ data: data.slice(), ...meta });
      scribble(inCall);
      const f = engine.firstPendingIndex();
      if (!(f >= floor)) throw new Error(`${kind}: firstPendingIndex() ${f} in the sink, below an earlier answer ${floor}`);
      floor = f;
    });
  }
  const take = (judge: boolean) => {
    const got = engine.drain();
    if (sink && got.length > 0) throw new Error(`${kind}: drain() returned ${got.length} packets while a sink is set`);
    for (const p of got) {
      if (judge) admit(p);
      packets.push(p);
    }
  };
  let at = -1;
  try {
    if (splits === null) {
      for (at = 0; at < steps.length; at++) {
        const s = steps[at];
        if ('frame' in s) {
          inCall = [s.frame];
          engine.push(s.frame, s.t);
          pushed++;
          scribble([s.frame]);
        } else if ('advance' in s) engine.advance(s.advance);
        else engine.flush();
        take(true);
        perStep.push(packets.length);
        observe(`after step ${at}`, 'flush' in s);
      }
    } else {
      let k = 0;
      let frames: Uint8Array[] = [];
      let times: number[] = [];
      const pushPending = () => {
        while (frames.length > 0) {
          if (k % 7 === 3) engine.pushBatch([], []);
          const n = splits[k++ % splits.length];
          const batch = frames.slice(0, n);
          // Every third call hands the batch over from one buffer (pushFrom; a SharedArrayBuffer
          // when views is odd), every third from the staging area (pushStaged), if it fits there.
          const how = k % 3;
          const total = batch.reduce((sum, f) => sum + f.length + (k & 7), 0);
          if (how === 0 || (how === 2 && total > STAGE_BYTES)) {
            inCall = batch;
            engine.pushBatch(batch, times.slice(0, n));
          } else {
            const area =
              how === 2 ? engine.stagingArea() : new Uint8Array(views & 1 ? new SharedArrayBuffer(total) : new ArrayBuffer(total));
            const offsets: number[] = [];
            let at = 0;
            for (const f of batch) {
              at += k & 7;
              area.set(f, at);
              offsets.push(at);
              at += f.length;
            }
            const lengths = batch.map((f) => f.length);
            inCall = [area];
            if (how === 2) engine.pushStaged(offsets, lengths, times.slice(0, n));
            else engine.pushFrom(area, offsets, lengths, times.slice(0, n));
          }
          inCall = [];
          pushed += batch.length;
          observe('after a pushBatch');
          scribble(batch);
          frames = frames.slice(n);
          times = times.slice(n);
        }
      };
      for (at = 0; at < steps.length; at++) {
        const s = steps[at];
        if ('frame' in s) {
          frames.push(s.frame);
          times.push(s.t);
        } else {
          pushPending();
          if ('advance' in s) engine.advance(s.advance);
          else engine.flush();
          observe(`after step ${at}`, 'flush' in s);
        }
      }
      pushPending();
    }
    at = steps.length;
    engine.close();
    take(splits === null);
    observe('after close()', true);
    const again = engine.drain();
    if (again.length > 0) throw new Error(`${kind}: drain() after close() and drain() returned ${again.length} packets`);
    engine.close(); // idempotent
    take(false);
  } catch (e) {
    throw new EngineThrew(
      `${kind} engine (${splits === null ? 'push' : `pushBatch ${JSON.stringify(splits)}`}) ` +
        `threw at step ${at} of ${steps.length}: ${describeError(e)}`,
    );
  }
  return { packets, stats: engine.stats(), perStep, memoryBefore, memoryAfter: memory() };
}

// ---------------------------------------------------------------------------------------------
// Comparing and checking

function meta(p: Packet) {
  return {
    len: p.data.length,
    timeUs: p.timeUs,
    segments: p.segments,
    mss: p.mss,
    reason: p.reason,
    checksumsFixed: p.checksumsFixed,
    inputIndex: p.inputIndex,
    firstTimeUs: p.firstTimeUs,
    ipVersion: p.ipVersion,
    tcpOffset: p.tcpOffset,
    headerLength: p.headerLength,
    verified: p.verified,
    fixedIpId: p.fixedIpId,
  };
}

const hexByte = (v: number | undefined) => (v === undefined ? 'none' : `0x${v.toString(16).padStart(2, '0')}`);

/** Byte-for-byte, field-for-field equality of two runs; a readable message on the first difference. */
function compareRuns(la: string, a: RunOutput, lb: string, b: RunOutput, linkType: number): void {
  const n = Math.max(a.packets.length, b.packets.length);
  for (let i = 0; i < n; i++) {
    const pa = a.packets[i];
    const pb = b.packets[i];
    if (!pa || !pb) {
      throw new Error(
        `packet count differs: ${la} ${a.packets.length}, ${lb} ${b.packets.length}; ` +
          `first extra #${i}: ${JSON.stringify(meta((pa ?? pb)!))} (${pa ? la : lb})`,
      );
    }
    const ma = JSON.stringify(meta(pa));
    const mb = JSON.stringify(meta(pb));
    const d = firstDifference(pa.data, pb.data, linkType);
    if (ma !== mb || d) {
      throw new Error(
        `packet #${i} differs: ${la} ${ma} vs ${lb} ${mb}` +
          (d ? `; first differing byte at ${d.offset} (${d.field}): ${la} ${hexByte(d.actual)} vs ${lb} ${hexByte(d.expected)}` : ''),
      );
    }
  }
  const sa = JSON.stringify(a.stats);
  const sb = JSON.stringify(b.stats);
  if (sa !== sb) throw new Error(`stats differ:\n ${la} ${sa}\n ${lb} ${sb}`);
}

function fail(message: string): never {
  throw new Error(message);
}

/** The engine clock after each step, and how many times it was clamped (CONTRACT §1). */
function modelClock(steps: Step[]): { clock: number[]; clamped: number } {
  let now = 0;
  let clamped = 0;
  const clock: number[] = [];
  for (const s of steps) {
    if ('frame' in s || 'advance' in s) {
      let x = Math.floor('frame' in s ? s.t : s.advance);
      if (!(x >= now)) {
        clamped++;
        x = now;
      }
      now = Math.min(x, MAX_TIME);
    }
    clock.push(now);
  }
  return { clock, clamped };
}

type Parsed = NonNullable<ReturnType<typeof parseFrame>>;

const F_FIN = 0x01,
  F_SYN = 0x02,
  F_RST = 0x04,
  F_PSH = 0x08,
  F_URG = 0x20,
  F_CWR = 0x80;

interface KeyedInput {
  p: Parsed;
  frame: Uint8Array;
  /** Engine clock when it was pushed. */
  t: number;
  /** Its position among the frames pushed (inputIndex). */
  index: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** IPv6: the extension headers before the transport header, in order (the judge walks what it parsed). */
function ipv6ExtChain(x: KeyedInput): number[] {
  const b = x.frame;
  const l3 = x.p.l3Offset;
  const types: number[] = [];
  let next = b[l3 + 6];
  let at = l3 + 40;
  while (at < x.p.l4Offset) {
    types.push(next);
    const len = next === 44 ? 8 : next === 51 ? (b[at + 1] + 2) * 4 : (b[at + 1] + 1) * 8;
    next = b[at];
    at += len;
  }
  return types;
}

/** Why segment `x` could not have been aggregated at all (CONTRACT §2, §4 own fields), or null. */
function notAggregable(x: KeyedInput, o: ReturnType<typeof resolveOptions>): string | null {
  const c = x.p;
  const t = c.tcp!;
  if (t.payload.length === 0) return 'no payload';
  if (c.ipVersion === 4 && (c.ipHeaderLength !== 20 || !c.ipChecksumOk)) return 'IPv4 options or bad header checksum';
  if (c.ipVersion === 6 && c.ipHeaderLength !== 40) {
    if (o.preset === 'seed') return 'IPv6 extension headers (seed)';
    const odd = ipv6ExtChain(x).find((type) => type !== 0 && type !== 43 && type !== 60);
    if (odd !== undefined) return `IPv6 extension header ${odd}`;
  }
  if (c.fragment) return 'fragment';
  if (c.ttl < 1) return 'TTL 0';
  if ((t.flags & (F_SYN | F_RST | F_URG)) !== 0) return 'SYN/RST/URG';
  if (o.preset === 'seed' && (t.flags & F_CWR) !== 0) return 'CWR (seed)';
  if (o.verifyChecksums && !c.tcpChecksumOk) return 'bad TCP checksum';
  if (o.preset === 'seed' && t.headerLength !== 20) return 'TCP options (seed)';
  if (c.ipLength > o.maxAggregate) return 'larger than maxAggregate';
  if (o.maxFrame > 0 && x.frame.length > o.maxFrame) return 'a frame larger than maxFrame';
  return null;
}

/**
 * Where a timestamp option starts in TCP option bytes, or -1: the first option of kind 8 and
 * length 10, walking the options (EOL ends the walk, NOP is one byte, any other option says its
 * length, which must be at least 2 and fit).
 */
export function timestampAt(opts: Uint8Array): number {
  let i = 0;
  while (i < opts.length) {
    const kind = opts[i];
    if (kind === 0) return -1;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= opts.length) return -1;
    const len = opts[i + 1];
    if (len < 2 || i + len > opts.length) return -1;
    if (kind === 8 && len === 10) return i;
    i += len;
  }
  return -1;
}

const be32 = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
/** a ≥ b in sequence-number (serial) arithmetic mod 2^32. */
const serialGe = (a: number, b: number) => ((a - b) | 0) >= 0;

/** Why segment k of `parts` could not have joined the aggregate of parts 0 … k − 1, or null. */
function cannotJoin(parts: KeyedInput[], k: number, o: ReturnType<typeof resolveOptions>): string | null {
  const first = parts[0].p;
  const prev = parts[k - 1].p;
  const c = parts[k].p;
  const f = first.tcp!;
  const t = c.tcp!;
  const throughput = o.preset === 'throughput';
  if (t.seq !== (prev.tcp!.seq + prev.tcp!.payload.length) >>> 0) return 'sequence gap';
  if (throughput ? !serialGe(t.ack, prev.tcp!.ack) : t.ack !== f.ack) return throughput ? 'ACK goes back' : 'ACK differs';
  if ((prev.tcp!.flags & F_FIN) !== 0) return 'after a FIN';
  if (o.preset === 'seed') {
    if ((t.flags & 0xff) !== (f.flags & 0xff)) return 'flags differ (seed)';
    return null;
  }
  if (((t.flags ^ f.flags) & 0xff & ~(F_PSH | F_FIN)) !== 0) return 'flags differ beyond PSH/FIN';
  if (!throughput && (prev.tcp!.flags & F_PSH) !== 0) return 'after a PSH';
  if (k > 1 && prev.tcp!.payload.length < f.payload.length) return 'after a short segment';
  if (!sameBytes(t.options, f.options)) {
    if (!throughput) return 'options differ';
    const at = timestampAt(t.options);
    if (at < 0 || t.options.length !== f.options.length) return 'options differ (no timestamp to tell apart)';
    for (let i = 0; i < t.options.length; i++) {
      if ((i < at + 2 || i >= at + 10) && t.options[i] !== f.options[i]) return 'options differ beyond TSval/TSecr';
    }
  }
  if (throughput) {
    const at = timestampAt(t.options);
    const po = prev.tcp!.options;
    if (at >= 0 && (!serialGe(be32(t.options, at + 2), be32(po, at + 2)) || !serialGe(be32(t.options, at + 6), be32(po, at + 6))))
      return 'TSval or TSecr goes back';
  } else if (t.window !== f.window) return 'window differs';
  if (c.ttl !== first.ttl || c.tos !== first.tos || c.df !== first.df || c.flowLabel !== first.flowLabel) return 'IP fields differ';
  if (c.ipVersion === 4) {
    // The second segment fixes the mode: incrementing (first + 1) or fixed (first); later ones follow it.
    const offset = (c.ipId - first.ipId) & 0xffff;
    const fixed = k > 1 && parts[1].p.ipId === first.ipId;
    if (k === 1 ? offset > 1 : offset !== (fixed ? 0 : k & 0xffff)) return `IPv4 ID ${c.ipId} breaks the pattern of ${first.ipId}`;
  } else {
    const ext = (x: KeyedInput) => x.frame.subarray(x.p.l3Offset + 40, x.p.l4Offset);
    if (!sameBytes(ext(parts[k]), ext(parts[0]))) return 'IPv6 extension headers differ';
  }
  if (t.payload.length > f.payload.length) return 'longer than the MSS';
  return null;
}

/**
 * Every output packet explained by the input (an independent model of what the engine may do).
 * Per connection (the judge's key), the output packets consume that connection's input frames in
 * order: a one-segment packet is the next frame, byte-identical; an aggregate of n segments is
 * the next n frames, each of which could be aggregated (§2, §4 own fields) and could join the
 * first (§4 comparison table, per preset), glued as §5 says: the first frame's headers with only
 * the IP length, IPv4 header checksum, window, PSH/FIN and TCP checksum changed (throughput: ACK
 * and TSval / TSecr too; checksums untouched with fixChecksums off), the payloads concatenated,
 * the ACK, window, TSval / TSecr and FIN of the last, PSH if any had it. Sizes stay
 * within maxAggregate and THRESHOLD, times within AgTimer and DelTimer, and the reasons psh,
 * short, threshold, ag-timer and del-timer are checked against their definitions.
 */
function explainOutput(inputs: KeyedInput[], packets: Packet[], o: ReturnType<typeof resolveOptions>): void {
  const byKey = new Map<string, KeyedInput[]>();
  for (const x of inputs) {
    const key = flowKey(x.p);
    const list = byKey.get(key);
    if (list) list.push(x);
    else byKey.set(key, [x]);
  }
  const next = new Map<string, number>();
  const MAX = MAX_TIME;
  for (const [i, packet] of packets.entries()) {
    const a = parseFrame(packet.data, o.linkType);
    if (!a?.tcp) {
      if (packet.segments >= 2) fail(`aggregate #${i} does not parse as TCP`);
      continue;
    }
    const key = flowKey(a);
    const list = byKey.get(key) ?? [];
    const j = next.get(key) ?? 0;
    const n = packet.segments;
    const where = `packet #${i} ${JSON.stringify(meta(packet))} of ${key} (its input frames ${j}..${j + n - 1} of ${list.length})`;
    if (j + n > list.length) fail(`${where}: more segments out than in`);
    next.set(key, j + n);
    const parts = list.slice(j, j + n);
    if (n === 1 && !sameBytes(packet.data, parts[0].frame)) {
      fail(
        `${where}: not the next input frame of its connection (${differenceLine(firstDifference(packet.data, parts[0].frame, o.linkType)!)})`,
      );
    }
    // §5: its first segment's position and time.
    if (packet.inputIndex !== parts[0].index) fail(`${where}: inputIndex is not its first segment's (${parts[0].index})`);
    if (packet.firstTimeUs !== parts[0].t) fail(`${where}: firstTimeUs is not its first segment's time (${parts[0].t})`);
    if (packet.reason === 'pass-through') continue;
    // An aggregate (maybe of one segment): every part aggregable and joinable.
    const first = parts[0];
    const last = parts[n - 1];
    for (const [k, x] of parts.entries()) {
      const why = notAggregable(x, o) ?? (k > 0 ? cannotJoin(parts, k, o) : null);
      if (why) fail(`${where}: segment ${k} cannot be in an aggregate: ${why}`);
      if (k > 0 && !(x.t < Math.min(first.t + o.aggregateTimeoutUs, MAX)))
        fail(`${where}: segment ${k} arrived after the AgTimer deadline`);
      if (k > 0 && !(x.t < Math.min(parts[k - 1].t + o.idleTimeoutMs * 1000, MAX)))
        fail(`${where}: segment ${k} arrived after the DelTimer deadline`);
    }
    if (packet.mss !== first.p.tcp!.payload.length) fail(`${where}: mss is not the first segment's payload length`);
    const fp = first.p;
    if (
      packet.ipVersion !== fp.ipVersion ||
      packet.tcpOffset !== fp.l4Offset ||
      packet.headerLength !== fp.l4Offset + fp.tcp!.headerLength
    ) {
      fail(
        `${where}: ipVersion / tcpOffset / headerLength are not the first segment's (${fp.ipVersion}, ${fp.l4Offset}, ${fp.l4Offset + fp.tcp!.headerLength})`,
      );
    }
    if (packet.verified !== o.verifyChecksums) fail(`${where}: verified is not verifyChecksums`);
    const fixedIpId = n >= 2 && fp.ipVersion === 4 && parts.every((x) => x.p.ipId === fp.ipId);
    if (packet.fixedIpId !== fixedIpId) fail(`${where}: fixedIpId ${packet.fixedIpId}, IDs ${parts.map((x) => x.p.ipId).join(' ')}`);
    if (packet.timeUs < last.t) fail(`${where}: sent before its last segment arrived`);
    const size = a.ipLength;
    if (size > o.maxAggregate) fail(`${where}: larger than maxAggregate`);
    if (o.maxFrame > 0 && packet.data.length > o.maxFrame) fail(`${where}: a frame larger than maxFrame ${o.maxFrame}`);
    if (n >= 2 && size - last.p.tcp!.payload.length > o.threshold) fail(`${where}: grew past THRESHOLD before its last segment`);
    if (packet.reason === 'ag-timer' && packet.timeUs !== Math.min(first.t + o.aggregateTimeoutUs, MAX))
      fail(`${where}: ag-timer not at its deadline`);
    if (packet.reason === 'del-timer' && packet.timeUs !== Math.min(last.t + o.idleTimeoutMs * 1000, MAX))
      fail(`${where}: del-timer not at its deadline`);
    if (packet.reason === 'threshold' && !(size > o.threshold)) fail(`${where}: threshold but not larger than THRESHOLD`);
    if (packet.reason === 'psh' && (o.preset !== 'gro' || (last.p.tcp!.flags & F_PSH) === 0)) fail(`${where}: psh without PSH`);
    if (packet.reason === 'short' && (o.preset === 'seed' || !(last.p.tcp!.payload.length < first.p.tcp!.payload.length))) {
      fail(`${where}: short but the last segment is not shorter than the MSS`);
    }
    if (n === 1) continue;
    // §5: the glued packet.
    const b = packet.data;
    const fb = first.frame;
    const at = a.tcp;
    const l3 = a.l3Offset;
    const l4 = a.l4Offset;
    const hdrEnd = l4 + at.headerLength;
    if (first.p.l4Offset !== l4 || first.p.tcp!.headerLength !== at.headerLength)
      fail(`${where}: header layout differs from the first segment's`);
    const free = new Set<number>(a.ipVersion === 4 ? [l3 + 2, l3 + 3, l3 + 10, l3 + 11] : [l3 + 4, l3 + 5]);
    for (const x of [l4 + 13, l4 + 14, l4 + 15, l4 + 16, l4 + 17]) free.add(x);
    // throughput carries the last segment's ACK and TSval / TSecr too.
    const tsAt = timestampAt(first.p.tcp!.options);
    if (o.preset === 'throughput') {
      for (let x = 8; x < 12; x++) free.add(l4 + x);
      if (tsAt >= 0) for (let x = 2; x < 10; x++) free.add(l4 + 20 + tsAt + x);
    }
    for (let k = 0; k < hdrEnd; k++) {
      if (!free.has(k) && fb[k] !== b[k]) fail(`${where}: header byte ${k} (${fieldAt(fb, k, o.linkType)}) is not the first segment's`);
    }
    if (!o.fixChecksums) {
      const same =
        at.checksum === first.p.tcp!.checksum && (a.ipVersion === 6 || (b[l3 + 10] === fb[l3 + 10] && b[l3 + 11] === fb[l3 + 11]));
      if (!same) fail(`${where}: fixChecksums off but the checksum fields changed`);
    }
    const lt = last.p.tcp!;
    if (at.ack !== lt.ack || at.window !== lt.window) fail(`${where}: ACK/window not the last segment's`);
    if (tsAt >= 0 && !sameBytes(at.options.subarray(tsAt + 2, tsAt + 10), lt.options.subarray(tsAt + 2, tsAt + 10)))
      fail(`${where}: TSval / TSecr not the last segment's`);
    const psh = parts.reduce((bits, x) => bits | (x.p.tcp!.flags & F_PSH), 0);
    if ((at.flags & 0xff) !== ((first.p.tcp!.flags | psh | (lt.flags & F_FIN)) & 0xff))
      fail(`${where}: flags are not first | any segment's PSH | last's FIN`);
    let off = 0;
    for (const [k, x] of parts.entries()) {
      const pl = x.p.tcp!.payload;
      const got = at.payload.subarray(off, off + pl.length);
      if (!sameBytes(got, pl))
        fail(`${where}: payload of segment ${k} not at offset ${off} (its byte ${firstDifference(got, pl, null)!.offset} differs)`);
      off += pl.length;
    }
    if (off !== at.payload.length) fail(`${where}: payload longer than its segments'`);
  }
  for (const [key, list] of byKey) {
    if ((next.get(key) ?? 0) !== list.length) fail(`connection ${key}: ${list.length} frames in, ${next.get(key) ?? 0} out`);
  }
}

/**
 * The frame as the judge (bindings/packet/) should see it. The judge walks 0x9100 as a VLAN TPID;
 * the engine, like Linux GRO, knows only 0x8100 / 0x88a8 (CONTRACT §1), so to it such a frame is not
 * IP and belongs to no connection. Renaming that TPID to an unknown ethertype (0x9101) makes the
 * judge agree; inputs and outputs are renamed alike (the engine passes them through unchanged).
 */
export function judgeView(frame: Uint8Array, linkType: number): Uint8Array {
  const typeAt = etherTypeAt(linkType);
  if (typeAt < 0) return frame;
  let off = linkType === 1 ? 14 : linkType === 113 ? 16 : 20;
  if (frame.length < off) return frame;
  let at = typeAt;
  for (;;) {
    const type = (frame[at] << 8) | frame[at + 1];
    if (type === 0x9100) {
      const copy = frame.slice();
      copy[at + 1] = 0x01;
      return copy;
    }
    if (!TAG_TPIDS.has(type) || frame.length < off + 4) return frame;
    at = off + 2;
    off += 4;
  }
}

/** The documented ipVersion rule (CONTRACT §5), on the bytes the engine saw. */
export function ipVersionRule(b: Uint8Array, linkType: number): 0 | 4 | 6 {
  let type: number;
  let off: number;
  if (linkType === 101) {
    if (b.length < 1) return 0;
    type = b[0] >> 4 === 4 ? 0x0800 : b[0] >> 4 === 6 ? 0x86dd : 0;
    off = 0;
  } else {
    off = linkType === 1 ? 14 : linkType === 113 ? 16 : 20;
    if (b.length < off) return 0;
    const at = etherTypeAt(linkType);
    type = (b[at] << 8) | b[at + 1];
    if (linkType === 1 && (type === 0x8100 || type === 0x88a8)) {
      // at most one tag (CONTRACT §1)
      if (b.length < 18) return 0;
      type = (b[16] << 8) | b[17];
      off = 18;
    }
  }
  if (type === 0x0800 && b.length >= off + 20 && b[off] >> 4 === 4) return 4;
  if (type === 0x86dd && b.length >= off + 40 && b[off] >> 4 === 6) return 6;
  return 0;
}

/**
 * A pass-through's tcpOffset and headerLength as the independent parser sees the frame: TCP with
 * its ports inside the IP packet / its whole header there. null where that parser has no opinion
 * (the IP packet does not parse: cut, lengths inconsistent), or (IPv6 fragment headers) the
 * offset may be either.
 */
function tcpLayoutOf(raw: Uint8Array, judged: Uint8Array, linkType: number): { tcpOffset: number | null; headerLength: number } | null {
  if (ipVersionRule(raw, linkType) === 0) return { tcpOffset: 0, headerLength: 0 };
  const q = parseFrame(judged, linkType);
  if (!q || q.ipVersion === 0) return null;
  if (q.tcp) return { tcpOffset: q.l4Offset, headerLength: q.l4Offset + q.tcp.headerLength };
  if (q.protocol !== 6 || (q.fragment && q.fragment.offset !== 0)) return { tcpOffset: 0, headerLength: 0 };
  if (q.fragment) return { tcpOffset: null, headerLength: 0 };
  const end = q.l3Offset + (q.ipVersion === 4 ? 0 : 40) + q.ipLength;
  return { tcpOffset: q.l4Offset + 4 <= end ? q.l4Offset : 0, headerLength: 0 };
}

/**
 * Pass-throughs of run A (push, drained after every step): each is the very frame at its
 * inputIndex, sent during that frame's own push at that push's clock, unverified, and its
 * ipVersion / tcpOffset / headerLength are what the rule and the independent parser say.
 */
function judgePassThroughs(steps: Step[], a: RunOutput, clock: number[], linkType: number): void {
  const frameStep: number[] = [];
  steps.forEach((s, i) => {
    if ('frame' in s) frameStep.push(i);
  });
  let step = 0;
  for (const [k, p] of a.packets.entries()) {
    while (a.perStep[step] <= k) step++;
    if (p.reason !== 'pass-through') {
      if (frameStep[p.inputIndex] > step) fail(`packet #${k} (${p.reason}): sent before its first segment (#${p.inputIndex}) was pushed`);
      if (p.firstTimeUs !== clock[frameStep[p.inputIndex]])
        fail(`packet #${k} (${p.reason}): firstTimeUs is not its first segment's push time`);
      continue;
    }
    const where = `pass-through #${k} ${JSON.stringify(meta(p))}`;
    const s = steps[frameStep[p.inputIndex]] as { frame: Uint8Array; t: number };
    if (frameStep[p.inputIndex] !== step) fail(`${where}: sent at step ${step}, its frame was pushed at step ${frameStep[p.inputIndex]}`);
    if (!sameBytes(p.data, s.frame)) fail(`${where}: not the bytes of input frame ${p.inputIndex}`);
    if (p.timeUs !== clock[step] || p.firstTimeUs !== p.timeUs) fail(`${where}: timeUs / firstTimeUs not its push time ${clock[step]}`);
    if (p.verified || p.fixedIpId) fail(`${where}: verified / fixedIpId on a pass-through`);
    const version = ipVersionRule(s.frame, linkType);
    if (p.ipVersion !== version) fail(`${where}: ipVersion ${p.ipVersion}, the rule says ${version}`);
    const layout = tcpLayoutOf(s.frame, judgeView(s.frame, linkType), linkType);
    if (layout && ((layout.tcpOffset !== null && p.tcpOffset !== layout.tcpOffset) || p.headerLength !== layout.headerLength)) {
      fail(
        `${where}: tcpOffset ${p.tcpOffset} / headerLength ${p.headerLength}, the parser says ${layout.tcpOffset} / ${layout.headerLength}`,
      );
    }
    if (p.headerLength !== 0 && !(p.tcpOffset > 0 && p.headerLength >= p.tcpOffset + 20 && p.headerLength <= p.data.length)) {
      fail(`${where}: headerLength ${p.headerLength} inconsistent with tcpOffset ${p.tcpOffset}`);
    }
  }
}

/** Run a case; throws on any failure. Returns the number of frames it pushed. */
export async function checkCase(c: FuzzCase, hooks: { single?: EngineKind } = {}): Promise<number> {
  const steps = materialize(c);
  const frames = steps.filter((s): s is { frame: Uint8Array; t: number } => 'frame' in s);
  tally.cases++;
  tally.frames += frames.length;
  const resolved = resolveOptions({ ...c.options, engine: 'ts' });
  const single: EngineKind = hooks.single ?? (c.batched === 'wasm' ? 'ts' : 'wasm');
  const la = `${single}/push`;
  const lb = `${c.batched}/pushBatch|pushFrom|pushStaged${c.sink ? '+sink' : ''}${c.views ? `+views${c.views}` : ''}`;
  const a = await execute(single, c.options, steps, null, false);
  const b = await execute(c.batched, { ...c.options, hashSeed: c.hashSeedB }, steps, c.splits, c.sink, c.views);
  compareRuns(la, a, lb, b, resolved.linkType);

  // §6.6: the WASM memory never grows.
  for (const [label, r] of [
    [la, a],
    [lb, b],
  ] as const) {
    if (r.memoryBefore !== r.memoryAfter) fail(`${label}: WASM memory grew from ${r.memoryBefore} to ${r.memoryAfter} bytes`);
  }

  const packets = a.packets;
  const st = a.stats;
  cover(st, packets);
  const { clock, clamped } = modelClock(steps);
  const finalClock = clock.length > 0 ? clock[clock.length - 1] : 0;

  // §6.7 bookkeeping: everything that went in came out, once.
  const bytesIn = frames.reduce((n, f) => n + f.frame.length, 0);
  const bytesOut = packets.reduce((n, p) => n + p.data.length, 0);
  const segmentsOut = packets.reduce((n, p) => n + p.segments, 0);
  const check = (ok: boolean, what: string) => {
    if (!ok) fail(`${what}\n stats ${JSON.stringify(st)}`);
  };
  check(st.packetsIn === frames.length, `packetsIn ${st.packetsIn} ≠ frames pushed ${frames.length}`);
  check(st.bytesIn === bytesIn, `bytesIn ${st.bytesIn} ≠ ${bytesIn}`);
  check(st.packetsOut === packets.length, `packetsOut ${st.packetsOut} ≠ packets handed out ${packets.length}`);
  check(st.bytesOut === bytesOut, `bytesOut ${st.bytesOut} ≠ ${bytesOut}`);
  check(st.segmentsAggregated + st.passedThrough === st.packetsIn, 'segmentsAggregated + passedThrough ≠ packetsIn after close()');
  check(st.packetsOut === st.aggregates + st.passedThrough, 'packetsOut ≠ aggregates + passedThrough');
  check(segmentsOut === st.packetsIn, `segments in output ${segmentsOut} ≠ packetsIn ${st.packetsIn}`);
  check(st.flowsActive === st.flowsCreated - st.flowsDeleted, 'flowsActive ≠ flowsCreated − flowsDeleted');
  check(st.flowsActive >= 0 && st.flowsActive <= resolved.maxFlows, `flowsActive ${st.flowsActive} outside [0, maxFlows]`);
  check(st.clockClamped === clamped, `clockClamped ${st.clockClamped} ≠ expected ${clamped}`);
  for (const r of REASONS) {
    const n = packets.filter((p) => p.reason === r).length;
    check(st.reasons[r] === n, `reasons[${r}] ${st.reasons[r]} ≠ packets with that reason ${n}`);
  }
  check(st.reasons['pass-through'] === st.passedThrough, 'reasons[pass-through] ≠ passedThrough');
  // §2: every pass-through has exactly one cause; table-full ones are the tableFull counter.
  const causes = PASS_THROUGH_CAUSES.reduce((n, k) => n + st.passThroughCauses[k], 0);
  check(
    causes === st.reasons['pass-through'],
    `passThroughCauses sum to ${causes}, reasons[pass-through] is ${st.reasons['pass-through']}`,
  );
  check(st.passThroughCauses['table-full'] === st.tableFull, 'passThroughCauses[table-full] ≠ tableFull');

  // Per packet: sane metadata, times on the engine clock, never backwards.
  let last = 0;
  for (const [i, p] of packets.entries()) {
    const where = `packet #${i} ${JSON.stringify(meta(p))}`;
    if (!(p.segments >= 1)) fail(`${where}: segments < 1`);
    if (!Number.isInteger(p.timeUs) || p.timeUs < 0 || p.timeUs > finalClock) fail(`${where}: time outside [0, final clock ${finalClock}]`);
    if (p.timeUs < last) fail(`${where}: time goes back (previous ${last})`);
    last = p.timeUs;
    if (p.checksumsFixed !== (p.segments < 2 || resolved.fixChecksums)) fail(`${where}: checksumsFixed wrong`);
    if (p.reason === 'pass-through' && p.segments !== 1) fail(`${where}: pass-through with several segments`);
    if (p.segments >= 2 && p.mss <= 0) fail(`${where}: aggregate with mss 0`);
    if (!Number.isInteger(p.inputIndex) || p.inputIndex < 0 || p.inputIndex >= frames.length)
      fail(`${where}: inputIndex outside the input`);
    if (!(p.firstTimeUs <= p.timeUs)) fail(`${where}: firstTimeUs after timeUs`);
    if (p.fixedIpId && (p.segments < 2 || p.ipVersion !== 4)) fail(`${where}: fixedIpId on a packet that is not an IPv4 aggregate`);
  }
  judgePassThroughs(steps, a, clock, resolved.linkType);
  // Packets drained after step i were sent at a time in [clock before i, clock after i].
  let from = 0;
  for (let i = 0; i < steps.length; i++) {
    const lo = i > 0 ? clock[i - 1] : 0;
    for (let k = from; k < a.perStep[i]; k++) {
      const t = packets[k].timeUs;
      if (t < lo || t > clock[i])
        fail(`packet #${k} (${packets[k].reason}) sent at ${t}, outside step ${i}'s clock window [${lo}, ${clock[i]}]`);
    }
    from = a.perStep[i];
  }

  // One-segment packets are input frames, byte-identical (padding included), each used at most once.
  const inputs = new Map<string, number>();
  for (const f of frames) {
    const k = Buffer.from(f.frame.buffer, f.frame.byteOffset, f.frame.length).toString('latin1');
    inputs.set(k, (inputs.get(k) ?? 0) + 1);
  }
  for (const [i, p] of packets.entries()) {
    if (p.segments !== 1) continue;
    const k = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.length).toString('latin1');
    const n = inputs.get(k) ?? 0;
    if (n === 0) fail(`packet #${i} ${JSON.stringify(meta(p))}: a one-segment packet that is not an input frame (or repeats one)`);
    inputs.set(k, n - 1);
  }

  // §6.1-3, 5 with the independent parser. Effective times (clamped clock) for the AgTimer bound.
  const lt = resolved.linkType;
  const timed: Step[] = steps.map((s, i) => ('frame' in s ? { frame: judgeView(s.frame, lt), t: clock[i] } : s));
  const judged = packets.map((p) => ({ ...p, data: judgeView(p.data, lt) }));
  let allTcpValid = true;
  if (!resolved.verifyChecksums) {
    for (const f of frames) {
      const p = parseFrame(f.frame, resolved.linkType);
      if (p?.tcp && !p.tcpChecksumOk) {
        allTcpValid = false;
        break;
      }
    }
  }
  try {
    checkInvariants(timed, judged, {
      maxAggregate: resolved.maxAggregate,
      aggregateTimeoutUs: resolved.aggregateTimeoutUs,
      // With verification off a corrupted segment legitimately yields a bad aggregate checksum.
      fixChecksums: resolved.fixChecksums && (resolved.verifyChecksums || allTcpValid),
      linkType: resolved.linkType,
    });
    const keyed: KeyedInput[] = [];
    let index = 0;
    for (const x of timed) {
      if (!('frame' in x)) continue;
      const p = parseFrame(x.frame, lt);
      if (p?.tcp) keyed.push({ p, frame: x.frame, t: x.t, index });
      index++;
    }
    explainOutput(keyed, judged, resolved);
  } catch (e) {
    fail(`invariant: ${(e as Error).message.split('\n').slice(0, 12).join('\n')}`);
  }
  return frames.length;
}

/** Human-readable form of a case (Uint8Array as hex) for reports. */
export function describeCase(c: FuzzCase): string {
  return JSON.stringify(c, (_k, v) => {
    if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    return v;
  });
}
