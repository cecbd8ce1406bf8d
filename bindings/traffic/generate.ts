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
 * sequence number s of any flow is payloadByte(s) from packet/payload.ts, so a validator can check every
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
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
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
import { GENERATE_DEFAULTS, type GenerateOptions } from './options.js';
import { Prng } from './prng.js';

export { GENERATE_DEFAULTS, type GenerateOptions };

export interface GeneratedFrame {
  data: Uint8Array;
  timeUs: number;
}

/** Port used by every noise frame (both ends). */
export const NOISE_PORT = 9;

// ---------------------------------------------------------------------------------------------
// Named constants

/** Largest mss: an IPv4 packet of 65535 bytes less 20 bytes of IPv4 and 20 of TCP header. */
const MAX_MSS = 65495;
/** Most flow slots. */
const MAX_FLOWS = 1 << 24;
const MAX_VLAN_ID = 4095;
const LINK_TYPES: readonly number[] = [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2];

/** Receiver window of data segments (A → B) and of pure ACKs (B → A). */
const WINDOW_A = 502;
const WINDOW_B = 2048;
/** Windows of the SYN and the SYN-ACK (Linux's initial windows). */
const SYN_WINDOW = 64240;
const SYNACK_WINDOW = 65160;
/** Window scale advertised in SYNs. */
const WSCALE = 7;

/** Client (A) n is host (n mod CLIENT_HOSTS) + 1: 10.0.0.1 … 10.255.255.254 (fd00:0:0:1::1 …). */
const CLIENT_HOSTS = 16777214;
/** Server (B) of flow n is host 1 + (n mod SERVER_HOSTS): 192.168.0.1 … 192.168.0.8 (fd00:0:0:2::1 …). */
const SERVER_HOSTS = 8;
/** B's port (iperf3's); A's port is seeded random in Linux's ephemeral range. */
const SERVER_PORT = 5201;
const EPHEMERAL_PORT_FIRST = 32768;
const EPHEMERAL_PORT_LAST = 60999;
/** The IPv6 header is 20 bytes longer than IPv4's: IPv6 flows carry mss − 20 to fill the same MTU. */
const IPV6_EXTRA_HEADER = 20;
const IP_ID_MASK = 0xffff;
const FLOW_LABEL_MASK = 0xfffff;

/** TCP option kinds and lengths (RFC 9293, 7323, 2018). */
const TCPOPT_NOP = 1;
const TCPOPT_MSS = 2;
const TCPOPT_WSCALE = 3;
const TCPOPT_SACK_PERMITTED = 4;
const TCPOPT_TIMESTAMP = 8;
const TCPOLEN_MSS = 4;
const TCPOLEN_WSCALE = 3;
const TCPOLEN_SACK_PERMITTED = 2;
const TCPOLEN_TIMESTAMP = 10;
/** NOP, NOP, timestamp: the option bytes of every segment when timestamps are on. */
const TIMESTAMP_OPTION_SPACE = 12;
/** tsval ticks once per millisecond of generated time (1 kHz). */
const NS_PER_TS_TICK = 1e6;

const NS_PER_US = 1000;
const BITS_PER_BYTE = 8;
/** Ethernet frames shorter than this are zero-padded, as on the wire (FCS not included). */
const ETHERNET_MIN_FRAME = 60;

/** Frames of a handshake (SYN, SYN-ACK, ACK) and of a FIN exchange (FIN, FIN, ACK). */
const HANDSHAKE_FRAMES = 3;
const FIN_EXCHANGE_FRAMES = 3;
/** Frames needed to start a flow with a handshake and close it again. */
const HANDSHAKE_COST = HANDSHAKE_FRAMES + FIN_EXCHANGE_FRAMES;

/** Noise kinds (drawn uniformly). */
const NOISE_UDP = 0;
const NOISE_ARP = 1; // UDP on raw IP, which has no ARP
const NOISE_BAD_TCP_CHECKSUM = 2;
const NOISE_BAD_IP_CHECKSUM = 3; // a bad TCP checksum for IPv6, which has no header checksum
const NOISE_TRUNCATED = 4;
/** Noise sources are TEST-NET hosts 1 … NOISE_HOST_LAST, the destination is NOISE_TARGET_HOST. */
const NOISE_HOST_LAST = 253;
const NOISE_TARGET_HOST = 254;
const NOISE_UDP_MAX_PAYLOAD = 200;

/**
 * True for the generator's noise frames: frames parseFrame rejects, non-TCP frames, TCP to/from
 * port 9, and frames whose IPv4 or TCP checksum is wrong.
 */
export function isNoiseFrame(frame: Uint8Array, linkType: number = 1): boolean {
  const p = parseFrame(frame, linkType);
  if (!p?.tcp) return true;
  if (p.tcp.sport === NOISE_PORT || p.tcp.dport === NOISE_PORT) return true;
  return !p.ipChecksumOk || !p.tcpChecksumOk;
}

function checkInt(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new RangeError(`generateTraffic: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
}

function checkProb(name: string, v: number, hiExclusive: boolean): void {
  if (!(v >= 0) || (hiExclusive ? v >= 1 : v > 1))
    throw new RangeError(`generateTraffic: ${name} must be in [0, 1${hiExclusive ? ')' : ']'}, got ${v}`);
}

/** Options merged with GENERATE_DEFAULTS and validated. */
export function resolveGenerateOptions(options: GenerateOptions = {}): Required<GenerateOptions> {
  const o: Required<GenerateOptions> = { ...GENERATE_DEFAULTS };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  if (!Number.isFinite(o.seed)) throw new RangeError(`generateTraffic: seed must be finite, got ${o.seed}`);
  checkInt('packets', o.packets, 0, Number.MAX_SAFE_INTEGER);
  checkInt('flows', o.flows, 1, MAX_FLOWS);
  checkInt('mss', o.mss, 1, MAX_MSS);
  if (!(o.lineRateGbps > 0) || !Number.isFinite(o.lineRateGbps))
    throw new RangeError(`generateTraffic: lineRateGbps must be > 0, got ${o.lineRateGbps}`);
  if (o.interleave !== 'random' && o.interleave !== 'round-robin')
    throw new RangeError(`generateTraffic: bad interleave ${String(o.interleave)}`);
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
    checkInt('smallSegments[0]', lo, 1, MAX_MSS);
    checkInt('smallSegments[1]', hi, lo, MAX_MSS);
  }
  if (!LINK_TYPES.includes(o.linkType)) throw new RangeError(`generateTraffic: bad linkType ${o.linkType}`);
  if (o.vlan !== null) {
    checkInt('vlan', o.vlan, 0, MAX_VLAN_ID);
    if (o.linkType === LINKTYPE_RAW) throw new RangeError('generateTraffic: raw IP (linkType 101) cannot carry a VLAN tag');
  }
  if (!Number.isFinite(o.startTimeUs)) throw new RangeError(`generateTraffic: bad startTimeUs ${o.startTimeUs}`);
  if (o.seqStart !== null && !Number.isInteger(o.seqStart))
    throw new RangeError(`generateTraffic: seqStart must be an integer, got ${o.seqStart}`);
  return o;
}

/**
 * Seeded synthetic traffic (see the header comment): exactly `packets` frames, streamed. Options
 * are validated when the first frame is asked for.
 */
export function* generateTraffic(options: GenerateOptions = {}): Generator<GeneratedFrame> {
  const generator = new TrafficGenerator(resolveGenerateOptions(options));
  for (let frame = generator.next(); frame !== null; frame = generator.next()) yield frame;
}

// ---------------------------------------------------------------------------------------------
// Flows

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
    if (f.phase === SYN_SENT) c += HANDSHAKE_FRAMES - 1 + FIN_EXCHANGE_FRAMES;
    else if (f.phase === SYNACK_SENT) c += HANDSHAKE_FRAMES - 2 + FIN_EXCHANGE_FRAMES;
    else if (f.phase === EST) c += FIN_EXCHANGE_FRAMES;
  }
  return c;
}

/** Flow n's client (A): 10.0.0.0 + host, or fd00:0:0:1::host. */
function clientAddress(v6: boolean, host: number): Uint8Array {
  return v6
    ? new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, (host >>> 24) & 0xff, (host >>> 16) & 0xff, (host >>> 8) & 0xff, host & 0xff])
    : new Uint8Array([10, (host >>> 16) & 0xff, (host >>> 8) & 0xff, host & 0xff]);
}

/** Flow n's server (B): 192.168.0.host, or fd00:0:0:2::host. */
function serverAddress(v6: boolean, host: number): Uint8Array {
  return v6 ? new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, host]) : new Uint8Array([192, 168, 0, host]);
}

/** A TEST-NET address for noise: 192.0.2.host, or 2001:db8::host. */
function noiseAddress(v6: boolean, host: number): Uint8Array {
  return v6 ? new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]) : new Uint8Array([192, 0, 2, host]);
}

// ---------------------------------------------------------------------------------------------
// The generator

/**
 * One run of generateTraffic: the flow slots, the frame budget and the wire clock. `next()`
 * returns the next frame, or null after exactly `packets` frames. Every random draw goes through
 * the one PRNG, in a fixed order, so the same options give the same bytes.
 */
class TrafficGenerator {
  private readonly rng: Prng;
  private readonly linkType: LinkType;
  private readonly vlan: number | undefined;
  private readonly nsPerByte: number;
  /** The timestamp option (NOP, NOP, kind, length, tsval, tsecr), rewritten per segment. */
  private readonly tsScratch = new Uint8Array(TIMESTAMP_OPTION_SPACE);
  private readonly slots: Flow[] = [];

  private elapsedNs = 0;
  private emitted = 0;
  /** Sum of flowCost over all slots. */
  private committed = 0;
  /** Slots whose flow has started and not been recycled. */
  private active = 0;
  private nextFlow = 0;
  /** Next slot of round-robin interleaving. */
  private rr = 0;
  /** Slot being closed once the budget is all committed. */
  private closeSlot = 0;

  constructor(private readonly o: Required<GenerateOptions>) {
    this.rng = new Prng(o.seed);
    this.linkType = o.linkType;
    this.vlan = o.vlan === null ? undefined : o.vlan;
    this.nsPerByte = BITS_PER_BYTE / o.lineRateGbps;
    this.tsScratch.set([TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP]);
    for (let i = 0; i < o.flows; i++) this.slots.push(this.newFlow());
  }

  /** The next frame and its time, or null when all `packets` have been emitted. */
  next(): GeneratedFrame | null {
    const o = this.o;
    while (this.emitted < o.packets) {
      const remaining = o.packets - this.emitted;
      let frame: Uint8Array | null;
      if (remaining === this.committed) {
        frame = this.closingFrame();
      } else if (this.rng.chance(o.noise)) {
        frame = this.noiseFrame();
      } else {
        let slot: number;
        if (o.interleave === 'round-robin') {
          slot = this.rr;
          this.rr = (this.rr + 1) % o.flows;
        } else {
          slot = this.rng.int(0, o.flows - 1);
        }
        frame = this.step(slot, remaining);
      }
      if (frame === null) continue;
      const timeUs = o.startTimeUs + Math.floor(this.elapsedNs / NS_PER_US);
      this.elapsedNs += frame.length * this.nsPerByte;
      this.emitted++;
      return { data: frame, timeUs };
    }
    return null;
  }

  // --- The flow state machine ------------------------------------------------------------------

  private newFlow(): Flow {
    const o = this.o;
    const rng = this.rng;
    const n = this.nextFlow++;
    const v6 = rng.chance(o.ipv6);
    const dataStart = o.seqStart === null ? rng.next() : o.seqStart >>> 0;
    const half = Math.floor(o.flowSegments / 2);
    return {
      n,
      v6,
      a: clientAddress(v6, (n % CLIENT_HOSTS) + 1),
      b: serverAddress(v6, 1 + (n % SERVER_HOSTS)),
      sport: EPHEMERAL_PORT_FIRST + (rng.next() % (EPHEMERAL_PORT_LAST - EPHEMERAL_PORT_FIRST + 1)),
      dport: SERVER_PORT,
      mss: v6 ? Math.max(1, o.mss - IPV6_EXTRA_HEADER) : o.mss,
      isnA: (dataStart - 1) >>> 0,
      isnB: rng.next(),
      nextSeq: dataStart,
      ipIdA: rng.next() & IP_ID_MASK,
      ipIdB: rng.next() & IP_ID_MASK,
      labelA: rng.next() & FLOW_LABEL_MASK,
      labelB: rng.next() & FLOW_LABEL_MASK,
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
  }

  /** Act on the flow in slot `start` (or, if it cannot start, on a later slot). Returns a frame or null. */
  private step(start: number, remaining: number): Uint8Array | null {
    const o = this.o;
    const slots = this.slots;
    let i = start;
    for (let tries = 0; tries <= 2 * o.flows + 1; tries++) {
      let f = slots[i];
      if (f.queue.length > 0) return this.pop(f);
      if (f.phase === CLOSING) {
        // Finished: a new flow takes the slot.
        this.releaseHeld(f);
        this.active--;
        f = slots[i] = this.newFlow();
      }
      const room = remaining - this.committed;
      if (f.phase === NEW) {
        if (o.handshake && room >= HANDSHAKE_COST) {
          this.active++;
          f.phase = SYN_SENT;
          f.queue.push(this.synFrame(f));
          this.committed += flowCost(f);
          return this.pop(f);
        }
        if (o.handshake && this.active > 0) {
          i = (i + 1) % o.flows; // not enough budget for a whole flow: let an open one go on
          continue;
        }
        this.active++;
        f.hs = false;
        f.phase = EST;
      }
      if (f.phase === SYN_SENT || f.phase === SYNACK_SENT) {
        this.queueMandatory(f);
        return this.pop(f);
      }
      // EST
      if (f.segs >= f.quota && room >= HANDSHAKE_COST) {
        this.queueClose(f);
        if (f.queue.length > 0) return this.pop(f);
        continue; // nothing to send (no handshake, nothing held): recycle the slot now
      }
      this.dataStep(f, room);
      return f.queue.length > 0 ? this.pop(f) : null;
    }
    throw new Error('generateTraffic: internal error (no flow can act)');
  }

  /** Budget exhausted by committed frames: emit them, slot by slot. */
  private closingFrame(): Uint8Array {
    for (let tries = 0; tries <= this.o.flows; tries++) {
      const f = this.slots[this.closeSlot];
      if (f.queue.length === 0) this.queueMandatory(f);
      if (f.queue.length > 0) return this.pop(f);
      this.closeSlot = (this.closeSlot + 1) % this.o.flows;
    }
    throw new Error('generateTraffic: internal error (budget accounting)');
  }

  private pop(f: Flow): Uint8Array {
    this.committed--;
    return f.queue.shift() as Uint8Array;
  }

  /** Queue the next frame(s) the flow owes (handshake step or close). Cost unchanged. */
  private queueMandatory(f: Flow): void {
    if (f.phase === SYN_SENT) {
      f.queue.push(this.synAckFrame(f));
      f.phase = SYNACK_SENT;
    } else if (f.phase === SYNACK_SENT) {
      f.queue.push(this.handshakeAckFrame(f));
      f.phase = EST;
    } else if (f.phase === EST) {
      this.queueClose(f);
    }
  }

  /** Queue the held segment and the FIN exchange; the flow becomes CLOSING. Cost unchanged. */
  private queueClose(f: Flow): void {
    this.releaseHeld(f);
    if (f.hs) this.queueFinExchange(f);
    f.phase = CLOSING;
  }

  /** Queue the held segment (if any). Cost unchanged: held copies become queued copies. */
  private releaseHeld(f: Flow): void {
    if (f.held === null) return;
    f.queue.push(f.held);
    if (f.heldCopies === 2) f.queue.push(f.held.slice());
    f.held = null;
    f.heldCopies = 0;
  }

  // --- Data segments, ACKs and their impairments -------------------------------------------------

  /** One data segment of an established flow; `room` = frames we may still commit. */
  private dataStep(f: Flow, room: number): void {
    const o = this.o;
    const rng = this.rng;
    const length = o.smallSegments === null ? f.mss : rng.int(o.smallSegments[0], o.smallSegments[1]);
    const seq = f.nextSeq;
    f.nextSeq = (seq + length) >>> 0;
    f.segs++;
    // Impairments, drawn in this order: loss, then (if it is sent) duplicate and reorder.
    const lost = rng.chance(o.loss);
    let copies = lost ? 0 : rng.chance(o.duplicate) ? 2 : 1;
    const hold = !lost && f.heldCopies === 0 && rng.chance(o.reorder);
    let ack = !lost && o.ackEvery > 0 && f.sinceAck + 1 >= o.ackEvery;
    if (copies + (ack ? 1 : 0) > room) {
      // Out of budget: a plain segment (room >= 1 here).
      copies = Math.min(copies, 1);
      ack = false;
    }
    this.committed += copies + (ack ? 1 : 0);
    const psh = o.pshEvery > 0 && f.segs % o.pshEvery === 0;
    if (lost) {
      f.ipIdA = (f.ipIdA + 1) & IP_ID_MASK; // sent, then lost in the network
      this.releaseHeld(f);
      return;
    }
    const frame = this.dataFrame(f, seq, length, psh);
    if (hold) {
      f.held = frame;
      f.heldCopies = copies;
    } else {
      f.queue.push(frame);
      if (copies === 2) f.queue.push(frame.slice());
      this.releaseHeld(f);
    }
    f.sinceAck++;
    if (ack) {
      f.sinceAck = 0;
      f.queue.push(this.pureAckFrame(f, f.nextSeq));
    }
  }

  private dataFrame(f: Flow, seq: number, length: number, psh: boolean): Uint8Array {
    const ts = this.tsNow(f.tsOffA);
    f.lastTsA = ts;
    return this.fromA(f, seq, (f.isnB + 1) >>> 0, psh ? ACK | PSH : ACK, WINDOW_A, length, this.timestampOption(ts, f.lastTsB));
  }

  private pureAckFrame(f: Flow, ack: number): Uint8Array {
    const ts = this.tsNow(f.tsOffB);
    f.lastTsB = ts;
    return this.fromB(f, (f.isnB + 1) >>> 0, ack, ACK, WINDOW_B, this.timestampOption(ts, f.lastTsA));
  }

  // --- Handshake and FIN exchange --------------------------------------------------------------

  private synFrame(f: Flow): Uint8Array {
    const ts = this.tsNow(f.tsOffA);
    f.lastTsA = ts;
    return this.fromA(f, f.isnA, 0, SYN, SYN_WINDOW, 0, this.synOptions(f, ts, 0));
  }

  private synAckFrame(f: Flow): Uint8Array {
    const ts = this.tsNow(f.tsOffB);
    f.lastTsB = ts;
    return this.fromB(f, f.isnB, (f.isnA + 1) >>> 0, SYN | ACK, SYNACK_WINDOW, this.synOptions(f, ts, f.lastTsA));
  }

  private handshakeAckFrame(f: Flow): Uint8Array {
    const ts = this.tsNow(f.tsOffA);
    f.lastTsA = ts;
    return this.fromA(f, (f.isnA + 1) >>> 0, (f.isnB + 1) >>> 0, ACK, WINDOW_A, 0, this.timestampOption(ts, f.lastTsB));
  }

  /** FIN from A, FIN from B, ACK from A. */
  private queueFinExchange(f: Flow): void {
    const fin = f.nextSeq;
    let ts = this.tsNow(f.tsOffA);
    f.lastTsA = ts;
    f.queue.push(this.fromA(f, fin, (f.isnB + 1) >>> 0, FIN | ACK, WINDOW_A, 0, this.timestampOption(ts, f.lastTsB)));
    ts = this.tsNow(f.tsOffB);
    f.lastTsB = ts;
    f.queue.push(this.fromB(f, (f.isnB + 1) >>> 0, (fin + 1) >>> 0, FIN | ACK, WINDOW_B, this.timestampOption(ts, f.lastTsA)));
    ts = this.tsNow(f.tsOffA);
    f.lastTsA = ts;
    f.queue.push(this.fromA(f, (fin + 1) >>> 0, (f.isnB + 2) >>> 0, ACK, WINDOW_A, 0, this.timestampOption(ts, f.lastTsB)));
  }

  // --- Noise ----------------------------------------------------------------------------------

  private noiseFrame(): Uint8Array {
    const rng = this.rng;
    const kind = rng.int(NOISE_UDP, NOISE_TRUNCATED);
    const v6 = rng.chance(this.o.ipv6);
    const host = rng.int(1, NOISE_HOST_LAST);
    const src = noiseAddress(v6, host);
    const dst = noiseAddress(v6, NOISE_TARGET_HOST);
    const spec = this.makeSpec(v6, src, dst, NOISE_PORT, NOISE_PORT, rng.next(), 0, ACK, WINDOW_A, undefined, 0, 0, 0);
    switch (kind) {
      case NOISE_UDP:
        spec.payload = rng.int(0, NOISE_UDP_MAX_PAYLOAD);
        return this.padEthernet(udpFrame(spec));
      case NOISE_ARP:
        if (this.linkType === LINKTYPE_RAW) {
          spec.payload = rng.int(0, NOISE_UDP_MAX_PAYLOAD);
          return udpFrame(spec);
        }
        return this.padEthernet(
          arpFrame({
            linkType: this.linkType,
            vlan: this.vlan,
            senderIp: `192.0.2.${host}`,
            targetIp: `192.0.2.${NOISE_TARGET_HOST}`,
          }),
        );
      case NOISE_BAD_TCP_CHECKSUM:
        spec.payload = rng.int(0, this.o.mss);
        spec.badTcpChecksum = true;
        return this.padEthernet(tcpFrame(spec));
      case NOISE_BAD_IP_CHECKSUM:
        spec.payload = rng.int(0, this.o.mss);
        spec.badIpChecksum = !v6;
        spec.badTcpChecksum = v6;
        return this.padEthernet(tcpFrame(spec));
      default: {
        // NOISE_TRUNCATED
        spec.payload = rng.int(0, this.o.mss);
        const full = tcpFrame(spec);
        return full.slice(0, rng.int(1, full.length - 1));
      }
    }
  }

  // --- Frame building -------------------------------------------------------------------------

  /** A frame from A (the sender) to B. */
  private fromA(
    f: Flow,
    seq: number,
    ack: number,
    flags: number,
    window: number,
    payload: number,
    options: Uint8Array | undefined,
  ): Uint8Array {
    const spec = this.makeSpec(f.v6, f.a, f.b, f.sport, f.dport, seq, ack, flags, window, options, payload, f.ipIdA, f.labelA);
    f.ipIdA = (f.ipIdA + 1) & IP_ID_MASK;
    return this.padEthernet(tcpFrame(spec));
  }

  /** A frame from B (the receiver) to A. */
  private fromB(f: Flow, seq: number, ack: number, flags: number, window: number, options: Uint8Array | undefined): Uint8Array {
    const spec = this.makeSpec(f.v6, f.b, f.a, f.dport, f.sport, seq, ack, flags, window, options, 0, f.ipIdB, f.labelB);
    f.ipIdB = (f.ipIdB + 1) & IP_ID_MASK;
    return this.padEthernet(tcpFrame(spec));
  }

  /**
   * Every spec handed to tcpFrame / udpFrame has this one shape (all keys, same order), so the
   * builders' property loads stay monomorphic.
   */
  private makeSpec(
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
  ): TcpFrameSpec & UdpFrameSpec {
    return {
      linkType: this.linkType,
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
      vlan: this.vlan,
      badIpChecksum: false,
      badTcpChecksum: false,
    };
  }

  private padEthernet(frame: Uint8Array): Uint8Array {
    if (this.linkType !== LINKTYPE_ETHERNET || frame.length >= ETHERNET_MIN_FRAME) return frame;
    const out = new Uint8Array(ETHERNET_MIN_FRAME);
    out.set(frame);
    return out;
  }

  /** The tsval clock of a direction (its offset plus 1 kHz ticks of generated time), u32. */
  private tsNow(offset: number): number {
    return (offset + Math.floor(this.elapsedNs / NS_PER_TS_TICK)) >>> 0;
  }

  /** NOP, NOP, timestamp (or nothing when timestamps are off). tcpFrame copies the bytes. */
  private timestampOption(tsval: number, tsecr: number): Uint8Array | undefined {
    if (!this.o.timestamps) return undefined;
    const s = this.tsScratch;
    s[4] = tsval >>> 24;
    s[5] = (tsval >>> 16) & 0xff;
    s[6] = (tsval >>> 8) & 0xff;
    s[7] = tsval & 0xff;
    s[8] = tsecr >>> 24;
    s[9] = (tsecr >>> 16) & 0xff;
    s[10] = (tsecr >>> 8) & 0xff;
    s[11] = tsecr & 0xff;
    return s;
  }

  /**
   * SYN options as Linux sends them: MSS, SACK-permitted, timestamps, NOP, window scale (without
   * timestamps: MSS, NOP, NOP, SACK-permitted, NOP, window scale). The MSS option counts the
   * timestamp option's bytes back in, since data segments carry it.
   */
  private synOptions(f: Flow, tsval: number, tsecr: number): Uint8Array {
    const timestamps = this.o.timestamps;
    const mssOpt = Math.min(65535, f.mss + (timestamps ? TIMESTAMP_OPTION_SPACE : 0));
    const mss = [TCPOPT_MSS, TCPOLEN_MSS, mssOpt >>> 8, mssOpt & 0xff];
    const wscale = [TCPOPT_NOP, TCPOPT_WSCALE, TCPOLEN_WSCALE, WSCALE];
    if (timestamps) {
      return new Uint8Array([
        ...mss,
        TCPOPT_SACK_PERMITTED,
        TCPOLEN_SACK_PERMITTED,
        TCPOPT_TIMESTAMP,
        TCPOLEN_TIMESTAMP,
        tsval >>> 24,
        (tsval >>> 16) & 0xff,
        (tsval >>> 8) & 0xff,
        tsval & 0xff,
        tsecr >>> 24,
        (tsecr >>> 16) & 0xff,
        (tsecr >>> 8) & 0xff,
        tsecr & 0xff,
        ...wscale,
      ]);
    }
    return new Uint8Array([...mss, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERMITTED, TCPOLEN_SACK_PERMITTED, ...wscale]);
  }
}
