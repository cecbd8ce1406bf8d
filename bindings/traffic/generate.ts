/**
 * Seeded synthetic TCP traffic for tests, the fuzzer and benchmarks.
 *
 * `generateTraffic(options)` streams frames (O(flows) memory). The same options and seed always
 * give byte-identical frames and times; the only randomness is the sfc32 PRNG in prng.ts.
 *
 * Defaults (GENERATE_DEFAULTS — a benchmark may quote these):
 *
 *   seed          1
 *   packets       100 000         frames emitted, exactly (lost segments are not frames)
 *   flows         8               concurrent bulk TCP flows (slots)
 *   mss           1448            payload bytes per full IPv4 segment (1500-byte MTU with timestamps);
 *                                 IPv6 flows carry mss − 20 so both families fill the same MTU
 *   lineRateGbps  10              frame i+1 starts frame_bytes × 8 / rate ns after frame i (no preamble/IFG)
 *   interleave    'random'        each frame comes from a uniformly random flow slot ('round-robin': in turn)
 *   ackEvery      2               receiver sends a pure ACK every 2 received data segments (0 = never)
 *   loss          0               per data segment: not emitted at all (no retransmission)
 *   reorder       0               per data segment: emitted after the flow's next data segment
 *   duplicate     0               per data segment: emitted twice back to back
 *   pshEvery      0               PSH on every N-th data segment of a flow (0 = never)
 *   timestamps    true            TCP timestamp option on every segment (1 kHz tsval clock)
 *   ipv6          0               share of flows (and noise frames) that are IPv6
 *   vlan          null            802.1Q VLAN id on every frame
 *   noise         0               share of frames that are deliberately broken / non-TCP noise
 *   smallSegments null            [lo, hi]: data segment payload length uniform in [lo, hi] instead of mss
 *   handshake     true            SYN / SYN-ACK / ACK first and FIN / FIN / ACK last in every flow
 *   startTimeUs   1 700 000 000 000 000   time of the first frame, µs since the epoch
 *   linkType      1               1 Ethernet, 113 Linux SLL, 276 Linux SLL2, 101 raw IP
 *   seqStart      null            sequence number of every flow's first data byte (null = seeded random u32)
 *   flowSegments  0               0 = flows live for the whole run; N = each flow sends about N data
 *                                 segments (uniform in [N/2, 3N/2]), closes, and a new flow (new 5-tuple)
 *                                 takes its slot
 *
 * Flows. Flow n (n = 0, 1, 2 … in order of creation) is a bulk sender A → B:
 *   IPv4  A = 10.0.0.0 + (n + 1)  (10.0.0.1, 10.0.0.2 …),   B = 192.168.0.(1 + n mod 8)
 *   IPv6  A = fd00:0:0:1::(n + 1),                          B = fd00:0:0:2::(1 + n mod 8)
 *   A's port is seeded random in [32768, 60999], B's port is 5201. 5-tuples are distinct.
 * A sends data segments (flags ACK, PSH per pshEvery; window 502; IPv4 DF set, IP ID incrementing
 * per direction; IPv6 flow label fixed per direction), B answers with pure ACKs. The byte at
 * sequence number s of any flow is payloadByte(s) from frames.ts, so a validator can check every
 * payload byte and, after sorting by sequence number, the whole stream. With `handshake`, the SYN
 * carries sequence number seqStart − 1 (the ISN); the first data byte is at seqStart.
 * Sequence numbers wrap mod 2^32 (force it with seqStart near 2^32).
 *
 * Budget. Exactly `packets` frames are emitted. Near the end, no new impairments are drawn that
 * would not fit, and every open flow is finished: its reordered segment is released and its FIN
 * exchange sent. If `packets` is too small for a handshake (fewer than 6 frames left and no flow
 * open), a flow starts without one (and ends without FIN).
 *
 * Noise (deliberately broken; a validator may exclude it — isNoiseFrame() recognises all of it).
 * Noise frames use TEST-NET addresses 192.0.2.x / 2001:db8::x and port 9 (discard) on both sides:
 *   UDP datagram to port 9;  ARP request (UDP on raw IP);  TCP port 9 with a wrong TCP checksum;
 *   TCP port 9 with a wrong IPv4 header checksum (wrong TCP checksum for IPv6);
 *   a TCP port 9 frame truncated at a random byte (parseFrame returns null for it).
 * Every other generated frame is a valid TCP/IP frame with correct checksums.
 *
 * Times are non-decreasing integers (µs). Ethernet frames shorter than 60 bytes are zero-padded to
 * 60 as on the wire (truncated noise frames excepted).
 */

import {
  ACK,
  FIN,
  PSH,
  SYN,
  arpFrame,
  parseFrame,
  tcpFrame,
  udpFrame,
  type LinkType,
  type TcpFrameSpec,
  type UdpFrameSpec,
} from '../packet/index.js';
import { Prng } from './prng.js';

export interface GenerateOptions {
  /** Default 1. */
  seed?: number;
  /** Total frames to emit, default 100_000. */
  packets?: number;
  /** Concurrent bulk TCP flows, default 8. */
  flows?: number;
  /** Payload bytes per full segment (IPv6 flows: mss − 20), default 1448. */
  mss?: number;
  /** Each frame takes bytes × 8 / rate on the wire, default 10. */
  lineRateGbps?: number;
  /** How flows share the wire, default 'random' (seeded). */
  interleave?: 'round-robin' | 'random';
  /** Reverse-direction pure ACK every N received data segments per flow, default 2 (0 = none). */
  ackEvery?: number;
  /** Per data segment probabilities, default 0. loss < 1. */
  loss?: number;
  reorder?: number;
  duplicate?: number;
  /** PSH on every N-th data segment (0 = never, default 0). */
  pshEvery?: number;
  /** TCP timestamp option on every segment, default true. */
  timestamps?: boolean;
  /** Share of flows that are IPv6, default 0. */
  ipv6?: number;
  /** VLAN id on every frame, default null. */
  vlan?: number | null;
  /** Share of frames that are noise (see the header comment), default 0. */
  noise?: number;
  /** Payload length range [lo, hi] (1 ≤ lo ≤ hi) instead of mss, default null. */
  smallSegments?: [number, number] | null;
  /** SYN / SYN-ACK / ACK at the start and FIN at the end of each flow, default true. */
  handshake?: boolean;
  /** Time of the first frame in µs, default 1_700_000_000_000_000. */
  startTimeUs?: number;
  /** Default 1 (Ethernet). */
  linkType?: LinkType;
  /** Sequence number of each flow's first data byte (u32), default null = seeded random per flow. */
  seqStart?: number | null;
  /** About this many data segments per flow before it closes and is replaced; 0 (default) = whole run. */
  flowSegments?: number;
}

export interface GeneratedFrame {
  data: Uint8Array;
  timeUs: number;
}

export const GENERATE_DEFAULTS: Readonly<Required<GenerateOptions>> = Object.freeze({
  seed: 1,
  packets: 100_000,
  flows: 8,
  mss: 1448,
  lineRateGbps: 10,
  interleave: 'random',
  ackEvery: 2,
  loss: 0,
  reorder: 0,
  duplicate: 0,
  pshEvery: 0,
  timestamps: true,
  ipv6: 0,
  vlan: null,
  noise: 0,
  smallSegments: null,
  handshake: true,
  startTimeUs: 1_700_000_000_000_000,
  linkType: 1,
  seqStart: null,
  flowSegments: 0,
});

/** Port used by every noise frame (both ends). */
export const NOISE_PORT = 9;

/** Receiver window of data segments (A → B) and of pure ACKs (B → A). */
const WINDOW_A = 502;
const WINDOW_B = 2048;
/** Window scale advertised in SYNs. */
const WSCALE = 7;

/**
 * True for the generator's noise frames: frames parseFrame rejects, non-TCP frames, TCP to/from
 * port 9, and frames whose IPv4 or TCP checksum is wrong.
 */
export function isNoiseFrame(frame: Uint8Array, linkType: number = 1): boolean {
  const p = parseFrame(frame, linkType);
  if (!p || !p.tcp) return true;
  if (p.tcp.sport === NOISE_PORT || p.tcp.dport === NOISE_PORT) return true;
  return !p.ipChecksumOk || !p.tcpChecksumOk;
}

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`generateTraffic: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

function checkProb(name: string, v: number, hiExclusive: boolean): void {
  if (!(v >= 0) || (hiExclusive ? v >= 1 : v > 1)) throw new RangeError(`generateTraffic: ${name} must be in [0, 1${hiExclusive ? ')' : ']'}, got ${v}`);
}

/** Options merged with GENERATE_DEFAULTS and validated. */
export function resolveGenerateOptions(options: GenerateOptions = {}): Required<GenerateOptions> {
  const o: Required<GenerateOptions> = { ...GENERATE_DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  if (!Number.isFinite(o.seed)) throw new RangeError(`generateTraffic: seed must be finite, got ${o.seed}`);
  checkInt('packets', o.packets, 0, Number.MAX_SAFE_INTEGER);
  checkInt('flows', o.flows, 1, 1 << 24);
  checkInt('mss', o.mss, 1, 65495);
  if (!(o.lineRateGbps > 0) || !Number.isFinite(o.lineRateGbps)) throw new RangeError(`generateTraffic: lineRateGbps must be > 0, got ${o.lineRateGbps}`);
  if (o.interleave !== 'random' && o.interleave !== 'round-robin') throw new RangeError(`generateTraffic: bad interleave ${String(o.interleave)}`);
  checkInt('ackEvery', o.ackEvery, 0, Number.MAX_SAFE_INTEGER);
  checkInt('pshEvery', o.pshEvery, 0, Number.MAX_SAFE_INTEGER);
  checkInt('flowSegments', o.flowSegments, 0, Number.MAX_SAFE_INTEGER);
  checkProb('loss', o.loss, true);
  checkProb('reorder', o.reorder, false);
  checkProb('duplicate', o.duplicate, false);
  checkProb('ipv6', o.ipv6, false);
  checkProb('noise', o.noise, false);
  if (o.smallSegments !== null) {
    const [lo, hi] = o.smallSegments;
    checkInt('smallSegments[0]', lo, 1, 65495);
    checkInt('smallSegments[1]', hi, lo, 65495);
  }
  if (![1, 101, 113, 276].includes(o.linkType)) throw new RangeError(`generateTraffic: bad linkType ${o.linkType}`);
  if (o.vlan !== null) {
    checkInt('vlan', o.vlan, 0, 4095);
    if (o.linkType === 101) throw new RangeError('generateTraffic: raw IP (linkType 101) cannot carry a VLAN tag');
  }
  if (!Number.isFinite(o.startTimeUs)) throw new RangeError(`generateTraffic: bad startTimeUs ${o.startTimeUs}`);
  if (o.seqStart !== null && !Number.isInteger(o.seqStart)) throw new RangeError(`generateTraffic: seqStart must be an integer, got ${o.seqStart}`);
  return o;
}

// Flow phases.
const NEW = 0; // slot not started: costs nothing
const SYN_SENT = 1; // SYN queued or sent; SYN-ACK and ACK to come
const SYNACK_SENT = 2; // ACK to come
const EST = 3; // sending data
const CLOSING = 4; // everything left is in the queue; the slot is recycled when it empties

interface Flow {
  n: number;
  v6: boolean;
  a: Uint8Array;
  b: Uint8Array;
  sport: number;
  dport: number;
  /** Payload bytes of a full segment. */
  mss: number;
  isnA: number;
  isnB: number;
  /** Sequence number of A's next new data byte. */
  nextSeq: number;
  ipIdA: number;
  ipIdB: number;
  labelA: number;
  labelB: number;
  tsOffA: number;
  tsOffB: number;
  lastTsA: number;
  lastTsB: number;
  phase: number;
  /** This flow has a handshake and a FIN exchange. */
  hs: boolean;
  /** Data segments generated (lost ones included). */
  segs: number;
  quota: number;
  /** Received data segments since the last ACK. */
  sinceAck: number;
  /** Frames to emit, in order. */
  queue: Uint8Array[];
  /** A reordered segment waiting for the flow's next data segment; heldCopies is 1 or 2 (duplicated). */
  held: Uint8Array | null;
  heldCopies: number;
}

/** Frames this flow must still emit (queued, held, rest of the handshake, the FIN exchange). */
function flowCost(f: Flow): number {
  let c = f.queue.length + f.heldCopies;
  if (f.hs) {
    if (f.phase === SYN_SENT) c += 2 + 3;
    else if (f.phase === SYNACK_SENT) c += 1 + 3;
    else if (f.phase === EST) c += 3;
  }
  return c;
}

/** Frames needed to start a flow with a handshake and close it again. */
const HANDSHAKE_COST = 6;

export function* generateTraffic(options: GenerateOptions = {}): Generator<GeneratedFrame> {
  const o = resolveGenerateOptions(options);
  const rng = new Prng(o.seed);
  const linkType = o.linkType;
  const vlan = o.vlan === null ? undefined : o.vlan;
  const F = o.flows;
  const N = o.packets;
  const nsPerByte = 8 / o.lineRateGbps;
  const tsScratch = new Uint8Array(12);
  tsScratch[0] = 1;
  tsScratch[1] = 1;
  tsScratch[2] = 8;
  tsScratch[3] = 10;

  let elapsedNs = 0;
  let emitted = 0;
  /** Sum of flowCost over all slots. */
  let committed = 0;
  /** Slots whose flow has started and not been recycled. */
  let active = 0;
  let nextFlow = 0;
  let rr = 0;
  let closeSlot = 0;

  const tsNow = (offset: number): number => (offset + Math.floor(elapsedNs / 1e6)) >>> 0;

  const newFlow = (): Flow => {
    const n = nextFlow++;
    const v6 = rng.chance(o.ipv6);
    const m = (n % 16777214) + 1;
    const server = 1 + (n % 8);
    let a: Uint8Array;
    let b: Uint8Array;
    if (v6) {
      a = new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, (m >>> 24) & 0xff, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff]);
      b = new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, server]);
    } else {
      a = new Uint8Array([10, (m >>> 16) & 0xff, (m >>> 8) & 0xff, m & 0xff]);
      b = new Uint8Array([192, 168, 0, server]);
    }
    const dataStart = o.seqStart === null ? rng.next() : o.seqStart >>> 0;
    const half = Math.floor(o.flowSegments / 2);
    return {
      n,
      v6,
      a,
      b,
      sport: 32768 + (rng.next() % 28232),
      dport: 5201,
      mss: v6 ? Math.max(1, o.mss - 20) : o.mss,
      isnA: (dataStart - 1) >>> 0,
      isnB: rng.next(),
      nextSeq: dataStart,
      ipIdA: rng.next() & 0xffff,
      ipIdB: rng.next() & 0xffff,
      labelA: rng.next() & 0xfffff,
      labelB: rng.next() & 0xfffff,
      tsOffA: rng.next(),
      tsOffB: rng.next(),
      lastTsA: 0,
      lastTsB: 0,
      phase: NEW,
      hs: true,
      segs: 0,
      quota: o.flowSegments === 0 ? Infinity : rng.int(Math.max(1, half), o.flowSegments + half),
      sinceAck: 0,
      queue: [],
      held: null,
      heldCopies: 0,
    };
  };

  const padEthernet = (frame: Uint8Array): Uint8Array => {
    if (linkType !== 1 || frame.length >= 60) return frame;
    const out = new Uint8Array(60);
    out.set(frame);
    return out;
  };

  const timestampOption = (tsval: number, tsecr: number): Uint8Array | undefined => {
    if (!o.timestamps) return undefined;
    tsScratch[4] = tsval >>> 24;
    tsScratch[5] = (tsval >>> 16) & 0xff;
    tsScratch[6] = (tsval >>> 8) & 0xff;
    tsScratch[7] = tsval & 0xff;
    tsScratch[8] = tsecr >>> 24;
    tsScratch[9] = (tsecr >>> 16) & 0xff;
    tsScratch[10] = (tsecr >>> 8) & 0xff;
    tsScratch[11] = tsecr & 0xff;
    return tsScratch; // tcpFrame copies it
  };

  /** SYN options as Linux sends them: MSS, SACK-permitted, timestamps, NOP, window scale. */
  const synOptions = (f: Flow, tsval: number, tsecr: number): Uint8Array => {
    const mssOpt = Math.min(65535, f.mss + (o.timestamps ? 12 : 0));
    if (o.timestamps) {
      return new Uint8Array([2, 4, mssOpt >>> 8, mssOpt & 0xff, 4, 2, 8, 10, tsval >>> 24, (tsval >>> 16) & 0xff, (tsval >>> 8) & 0xff, tsval & 0xff, tsecr >>> 24, (tsecr >>> 16) & 0xff, (tsecr >>> 8) & 0xff, tsecr & 0xff, 1, 3, 3, WSCALE]);
    }
    return new Uint8Array([2, 4, mssOpt >>> 8, mssOpt & 0xff, 1, 1, 4, 2, 1, 3, 3, WSCALE]);
  };

  /**
   * Every spec handed to tcpFrame / udpFrame has this one shape (all keys, same order), so the
   * builders' property loads stay monomorphic.
   */
  const makeSpec = (
    v6: boolean,
    src: Uint8Array,
    dst: Uint8Array,
    sport: number,
    dport: number,
    seq: number,
    ack: number,
    flags: number,
    window: number,
    options: Uint8Array | undefined,
    payload: number,
    ipId: number,
    flowLabel: number,
  ): TcpFrameSpec & UdpFrameSpec => ({
    linkType,
    ipVersion: v6 ? 6 : 4,
    src,
    dst,
    sport,
    dport,
    seq,
    ack,
    flags,
    window,
    options,
    payload,
    ipId,
    flowLabel,
    vlan,
    badIpChecksum: false,
    badTcpChecksum: false,
  });

  /** A frame from A (the sender) to B. */
  const fromA = (f: Flow, seq: number, ack: number, flags: number, window: number, payload: number, options: Uint8Array | undefined): Uint8Array => {
    const spec = makeSpec(f.v6, f.a, f.b, f.sport, f.dport, seq, ack, flags, window, options, payload, f.ipIdA, f.labelA);
    f.ipIdA = (f.ipIdA + 1) & 0xffff;
    return padEthernet(tcpFrame(spec));
  };

  /** A frame from B (the receiver) to A. */
  const fromB = (f: Flow, seq: number, ack: number, flags: number, window: number, options: Uint8Array | undefined): Uint8Array => {
    const spec = makeSpec(f.v6, f.b, f.a, f.dport, f.sport, seq, ack, flags, window, options, 0, f.ipIdB, f.labelB);
    f.ipIdB = (f.ipIdB + 1) & 0xffff;
    return padEthernet(tcpFrame(spec));
  };

  const synFrame = (f: Flow): Uint8Array => {
    const ts = tsNow(f.tsOffA);
    f.lastTsA = ts;
    return fromA(f, f.isnA, 0, SYN, 64240, 0, synOptions(f, ts, 0));
  };
  const synAckFrame = (f: Flow): Uint8Array => {
    const ts = tsNow(f.tsOffB);
    f.lastTsB = ts;
    return fromB(f, f.isnB, (f.isnA + 1) >>> 0, SYN | ACK, 65160, synOptions(f, ts, f.lastTsA));
  };
  const handshakeAckFrame = (f: Flow): Uint8Array => {
    const ts = tsNow(f.tsOffA);
    f.lastTsA = ts;
    return fromA(f, (f.isnA + 1) >>> 0, (f.isnB + 1) >>> 0, ACK, WINDOW_A, 0, timestampOption(ts, f.lastTsB));
  };
  const dataFrame = (f: Flow, seq: number, length: number, psh: boolean): Uint8Array => {
    const ts = tsNow(f.tsOffA);
    f.lastTsA = ts;
    return fromA(f, seq, (f.isnB + 1) >>> 0, psh ? ACK | PSH : ACK, WINDOW_A, length, timestampOption(ts, f.lastTsB));
  };
  const pureAckFrame = (f: Flow, ack: number): Uint8Array => {
    const ts = tsNow(f.tsOffB);
    f.lastTsB = ts;
    return fromB(f, (f.isnB + 1) >>> 0, ack, ACK, WINDOW_B, timestampOption(ts, f.lastTsA));
  };

  /** Queue the held segment (if any). Cost unchanged: held copies become queued copies. */
  const releaseHeld = (f: Flow): void => {
    if (f.held === null) return;
    f.queue.push(f.held);
    if (f.heldCopies === 2) f.queue.push(f.held.slice());
    f.held = null;
    f.heldCopies = 0;
  };

  /** Queue the held segment and the FIN exchange; the flow becomes CLOSING. Cost unchanged. */
  const queueClose = (f: Flow): void => {
    releaseHeld(f);
    if (f.hs) {
      const fin = f.nextSeq;
      let ts = tsNow(f.tsOffA);
      f.lastTsA = ts;
      f.queue.push(fromA(f, fin, (f.isnB + 1) >>> 0, FIN | ACK, WINDOW_A, 0, timestampOption(ts, f.lastTsB)));
      ts = tsNow(f.tsOffB);
      f.lastTsB = ts;
      f.queue.push(fromB(f, (f.isnB + 1) >>> 0, (fin + 1) >>> 0, FIN | ACK, WINDOW_B, timestampOption(ts, f.lastTsA)));
      ts = tsNow(f.tsOffA);
      f.lastTsA = ts;
      f.queue.push(fromA(f, (fin + 1) >>> 0, (f.isnB + 2) >>> 0, ACK, WINDOW_A, 0, timestampOption(ts, f.lastTsB)));
    }
    f.phase = CLOSING;
  };

  /** Queue the next frame(s) the flow owes (handshake step or close). Cost unchanged. */
  const queueMandatory = (f: Flow): void => {
    if (f.phase === SYN_SENT) {
      f.queue.push(synAckFrame(f));
      f.phase = SYNACK_SENT;
    } else if (f.phase === SYNACK_SENT) {
      f.queue.push(handshakeAckFrame(f));
      f.phase = EST;
    } else if (f.phase === EST) {
      queueClose(f);
    }
  };

  const pop = (f: Flow): Uint8Array => {
    committed--;
    return f.queue.shift() as Uint8Array;
  };

  /** One data segment of an established flow; `room` = frames we may still commit. */
  const dataStep = (f: Flow, room: number): void => {
    const length = o.smallSegments === null ? f.mss : rng.int(o.smallSegments[0], o.smallSegments[1]);
    const seq = f.nextSeq;
    f.nextSeq = (seq + length) >>> 0;
    f.segs++;
    const lost = rng.chance(o.loss);
    let copies = lost ? 0 : rng.chance(o.duplicate) ? 2 : 1;
    const hold = !lost && f.heldCopies === 0 && rng.chance(o.reorder);
    let ack = !lost && o.ackEvery > 0 && f.sinceAck + 1 >= o.ackEvery;
    if (copies + (ack ? 1 : 0) > room) {
      // Out of budget: a plain segment (room >= 1 here).
      copies = Math.min(copies, 1);
      ack = false;
    }
    committed += copies + (ack ? 1 : 0);
    const psh = o.pshEvery > 0 && f.segs % o.pshEvery === 0;
    if (lost) {
      f.ipIdA = (f.ipIdA + 1) & 0xffff; // sent, then lost in the network
      releaseHeld(f);
      return;
    }
    const frame = dataFrame(f, seq, length, psh);
    if (hold) {
      f.held = frame;
      f.heldCopies = copies;
    } else {
      f.queue.push(frame);
      if (copies === 2) f.queue.push(frame.slice());
      releaseHeld(f);
    }
    f.sinceAck++;
    if (ack) {
      f.sinceAck = 0;
      f.queue.push(pureAckFrame(f, f.nextSeq));
    }
  };

  /** Act on the flow in slot i (or, if it cannot start, on a later slot). Returns a frame or null. */
  const step = (start: number, remaining: number): Uint8Array | null => {
    let i = start;
    for (let tries = 0; tries <= 2 * F + 1; tries++) {
      let f = slots[i];
      if (f.queue.length > 0) return pop(f);
      if (f.phase === CLOSING) {
        // Finished: a new flow takes the slot.
        releaseHeld(f);
        active--;
        f = slots[i] = newFlow();
      }
      const room = remaining - committed;
      if (f.phase === NEW) {
        if (o.handshake && room >= HANDSHAKE_COST) {
          active++;
          f.phase = SYN_SENT;
          f.queue.push(synFrame(f));
          committed += flowCost(f);
          return pop(f);
        }
        if (o.handshake && active > 0) {
          i = (i + 1) % F; // not enough budget for a whole flow: let an open one go on
          continue;
        }
        active++;
        f.hs = false;
        f.phase = EST;
      }
      if (f.phase === SYN_SENT || f.phase === SYNACK_SENT) {
        queueMandatory(f);
        return pop(f);
      }
      // EST
      if (f.segs >= f.quota && room >= HANDSHAKE_COST) {
        queueClose(f);
        if (f.queue.length > 0) return pop(f);
        continue; // nothing to send (no handshake, nothing held): recycle the slot now
      }
      dataStep(f, room);
      return f.queue.length > 0 ? pop(f) : null;
    }
    throw new Error('generateTraffic: internal error (no flow can act)');
  };

  /** Budget exhausted by committed frames: emit them, slot by slot. */
  const closingFrame = (): Uint8Array => {
    for (let tries = 0; tries <= F; tries++) {
      const f = slots[closeSlot];
      if (f.queue.length === 0) queueMandatory(f);
      if (f.queue.length > 0) return pop(f);
      closeSlot = (closeSlot + 1) % F;
    }
    throw new Error('generateTraffic: internal error (budget accounting)');
  };

  const noiseFrame = (): Uint8Array => {
    const kind = rng.int(0, 4);
    const v6 = rng.chance(o.ipv6);
    const host = rng.int(1, 253);
    const src = v6 ? new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]) : new Uint8Array([192, 0, 2, host]);
    const dst = v6 ? new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 254]) : new Uint8Array([192, 0, 2, 254]);
    const spec = makeSpec(v6, src, dst, NOISE_PORT, NOISE_PORT, rng.next(), 0, ACK, WINDOW_A, undefined, 0, 0, 0);
    switch (kind) {
      case 0:
        spec.payload = rng.int(0, 200);
        return padEthernet(udpFrame(spec));
      case 1:
        if (linkType === 101) {
          spec.payload = rng.int(0, 200);
          return udpFrame(spec);
        }
        return padEthernet(arpFrame({ linkType, vlan, senderIp: `192.0.2.${host}`, targetIp: '192.0.2.254' }));
      case 2:
        spec.payload = rng.int(0, o.mss);
        spec.badTcpChecksum = true;
        return padEthernet(tcpFrame(spec));
      case 3:
        spec.payload = rng.int(0, o.mss);
        spec.badIpChecksum = !v6;
        spec.badTcpChecksum = v6;
        return padEthernet(tcpFrame(spec));
      default: {
        spec.payload = rng.int(0, o.mss);
        const full = tcpFrame(spec);
        return full.slice(0, rng.int(1, full.length - 1));
      }
    }
  };

  const slots: Flow[] = [];
  for (let i = 0; i < F; i++) slots.push(newFlow());

  while (emitted < N) {
    const remaining = N - emitted;
    let frame: Uint8Array | null;
    if (remaining === committed) {
      frame = closingFrame();
    } else if (rng.chance(o.noise)) {
      frame = noiseFrame();
    } else {
      let slot: number;
      if (o.interleave === 'round-robin') {
        slot = rr;
        rr = (rr + 1) % F;
      } else {
        slot = rng.int(0, F - 1);
      }
      frame = step(slot, remaining);
    }
    if (frame === null) continue;
    const timeUs = o.startTimeUs + Math.floor(elapsedNs / 1000);
    elapsedNs += frame.length * nsPerByte;
    emitted++;
    yield { data: frame, timeUs };
  }
}
