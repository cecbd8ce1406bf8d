// fast-check arbitraries for the fuzzer: engine options, TCP flows built with the
// independent frame builder (bindings/packet/) and then mutated, hostile bytes, clocks that
// misbehave, advance()/flush() interleaving and pushBatch split sizes.
//
// A generated `FuzzCase` is a *description* in builder terms (TcpFrameSpec … plus byte-level
// mutations), so a shrunk counterexample prints as something a human can rebuild; `materialize`
// (oracle.ts) turns it into frames.
import fc from 'fast-check';
import {
  ACK,
  CWR,
  ECE,
  FIN,
  PSH,
  RST,
  SYN,
  URG,
  ipv6FragmentHeader,
  tcpTimestampOption,
  type ArpFrameSpec,
  type LinkType,
  type TcpFrameSpec,
  type UdpFrameSpec,
} from '../../bindings/packet/index.js';
import type { EngineKind, EngineOptions } from '../../bindings/engine/types.js';

// ---------------------------------------------------------------------------------------------
// Case shape

/** Byte-level damage applied to a built frame, in order (see oracle.ts `mutate`). */
export type Mutation =
  | { m: 'flip'; bit: number } //            flip bit (bit mod 8·length)
  | { m: 'byte'; at: number; v: number } //  frame[at mod length] = v
  | { m: 'truncate'; keep: number } //       keep the first (keep mod (length + 1)) bytes
  | { m: 'extend'; n: number; v: number } // append n bytes of value v (padding / garbage)
  | { m: 'ihl'; v: number } //               IPv4 IHL nibble (or IPv6 version nibble)
  | { m: 'doff'; v: number } //              TCP data offset nibble
  | { m: 'iplen'; v: number } //             IPv4 total length / IPv6 payload length
  | { m: 'tcpflags'; v: number } //          TCP flags byte
  | { m: 'proto'; v: number } //             IPv4 protocol / IPv6 next header
  | { m: 'ethertype'; v: number } //         link-layer protocol field
  | { m: 'tag'; tci: number; tpid: number } // insert one more VLAN tag after the link header
  | { m: 'refix' }; //                       recompute IPv4 header and TCP checksums (reach deeper code)

export type FrameSource = { tcp: TcpFrameSpec } | { udp: UdpFrameSpec } | { arp: ArpFrameSpec } | { bytes: Uint8Array };

export type Item = { frame: FrameSource; t: number; mut?: Mutation[] } | { advance: number } | { flush: true };

export interface FuzzCase {
  /** Options of both runs (hashSeed is run A's). */
  options: EngineOptions;
  /** Run B's hash seed: output never depends on it (CONTRACT §6.4). */
  hashSeedB: number;
  /** Run A pushes one frame at a time; run B (this engine) uses pushBatch with `splits`. */
  batched: EngineKind;
  /** pushBatch sizes, used cyclically over each run of frames between advance()/flush(). */
  splits: number[];
  /** Run B collects packets through setSink (zero-copy views) instead of drain(). */
  sink: boolean;
  /**
   * 0: run B gets the frames as fresh arrays. k > 0: as views at varying (odd) byte offsets — into
   * one shared buffer (k even) or each into its own buffer ending exactly with the frame (k odd) —
   * overwritten with garbage right after each push/pushBatch call (the engine must not keep
   * references to the caller's bytes).
   */
  views: number;
  items: Item[];
}

// ---------------------------------------------------------------------------------------------
// Options

const U32 = 2 ** 32;

export const optionsArb: fc.Arbitrary<EngineOptions> = fc
  .record({
    preset: fc.constantFrom<'gro' | 'seed' | 'throughput'>('gro', 'gro', 'gro', 'seed', 'throughput', 'throughput'),
    maxFlows: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 1, arbitrary: fc.constantFrom(16, 1024) }),
    // maxPending: mostly the default (= maxFlows), else a point of [1, maxFlows]
    pendingFrac: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000) },
    ),
    mtu: fc.oneof({ weight: 4, arbitrary: fc.constant(1500) }, { weight: 1, arbitrary: fc.integer({ min: 68, max: 9000 }) }),
    // maxAggregate: default, exactly mtu, or a point of [mtu, 65535]
    aggKind: fc.constantFrom('default', 'default', 'default', 'default', 'mtu', 'any', 'any'),
    aggFrac: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000),
    thrKind: fc.constantFrom('default', 'default', 'default', 'default', 'default', 'any', 'any', 'zero', 'max'),
    thrFrac: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000),
    // maxFrame: mostly none; else jumbo (9014), an Ethernet MTU frame + k segments' worth of
    // 14-byte steps (1514 + 14k), 65535 (a 16-bit length), or any point of [mtu, 70000]
    maxFrame: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(9014, 65535) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 40 }).map((k) => 1514 + 14 * k) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 70000 }) },
    ),
    aggregateTimeoutUs: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 5000 }) },
      { weight: 1, arbitrary: fc.constantFrom(1, 2, U32 - 1) },
    ),
    idleTimeoutMs: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 50 }) },
      { weight: 1, arbitrary: fc.constantFrom(1, U32 - 1) },
    ),
    verifyChecksums: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    fixChecksums: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    hashSeed: fc.integer({ min: 0, max: U32 - 1 }),
    linkType: fc.constantFrom<LinkType>(1, 1, 1, 1, 113, 276, 101),
    // ringBytes: mostly the default (16 MiB), else the smallest (1 MiB: a long case fills it)
    ringBytes: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(2 ** 20) }),
  })
  .map((r) => {
    const maxAggregate = r.aggKind === 'default' ? 65535 : r.aggKind === 'mtu' ? r.mtu : r.mtu + Math.floor(r.aggFrac * (65535 - r.mtu));
    const o: EngineOptions = {
      preset: r.preset,
      maxFlows: r.maxFlows,
      mtu: r.mtu,
      verifyChecksums: r.verifyChecksums,
      fixChecksums: r.fixChecksums,
      hashSeed: r.hashSeed,
      linkType: r.linkType,
    };
    if (r.pendingFrac !== undefined) o.maxPending = 1 + Math.floor(r.pendingFrac * (r.maxFlows - 1));
    if (r.ringBytes !== undefined) o.ringBytes = r.ringBytes;
    if (r.aggKind !== 'default') o.maxAggregate = maxAggregate;
    if (r.thrKind === 'any') o.threshold = Math.floor(r.thrFrac * maxAggregate);
    else if (r.thrKind === 'zero') o.threshold = 0;
    else if (r.thrKind === 'max') o.threshold = maxAggregate;
    else if (r.aggKind !== 'default' && maxAggregate - r.mtu < 0) o.threshold = 0;
    if (r.aggregateTimeoutUs !== undefined) o.aggregateTimeoutUs = r.aggregateTimeoutUs;
    if (r.idleTimeoutMs !== undefined) o.idleTimeoutMs = r.idleTimeoutMs;
    if (r.maxFrame !== undefined) o.maxFrame = Math.max(r.maxFrame, r.mtu);
    return o;
  });

// ---------------------------------------------------------------------------------------------
// Time

/** How the clock moves before an item: relative steps mostly, sometimes backwards or absurd. */
export type TimeMove =
  | { d: number } //   base + d (d ≥ 0, maybe fractional); base moves
  | { back: number } // base − back (earlier than the last time: clamped); base stays
  | { abs: number }; // exactly this value (2^53 − 1, −0 …); base moves if larger. Times outside [0, 2^53) are refused (test/api-contract.test.ts)

export const timeMoveArb: fc.Arbitrary<TimeMove> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ d: 0 }) },
  { weight: 40, arbitrary: fc.integer({ min: 1, max: 100 }).map((d) => ({ d })) },
  { weight: 15, arbitrary: fc.integer({ min: 100, max: 5000 }).map((d) => ({ d })) },
  { weight: 4, arbitrary: fc.double({ min: 0, max: 1000, noNaN: true }).map((d) => ({ d })) },
  { weight: 3, arbitrary: fc.integer({ min: 5000, max: 200_000_000 }).map((d) => ({ d })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 1_000_000 }).map((back) => ({ back })) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 32, 2 ** 40, 2 ** 52).map((d) => ({ d })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2 ** 53 - 1, 2 ** 53 - 2, 2 ** 53 - 1000, 0, -0, 0.5).map((abs) => ({ abs })),
  },
);

/** Apply a move to the running base; returns [time to use, new base]. */
export function moveTime(base: number, m: TimeMove): [number, number] {
  if ('d' in m) {
    const t = Math.min(base + m.d, LAST_TIME);
    return [t, t];
  }
  if ('back' in m) return [Math.max(0, base - m.back), base];
  const t = m.abs;
  return [t, Math.max(t, base)];
}

/** The largest time an engine takes (CONTRACT §1). */
const LAST_TIME = 2 ** 53 - 1;

// ---------------------------------------------------------------------------------------------
// Flows

const V4_POOL = ['10.0.0.1', '10.0.0.2', '192.168.1.1', '10.0.0.3'];
const V6_POOL = ['fd00::1', 'fd00::2', '2001:db8::1', '::1'];

interface FlowPlan {
  v6: boolean;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  vlan: number | null;
  qinq: boolean;
  /** TCP options: none, a fixed timestamp, TSval +1 per segment / per 3 segments, TSval and TSecr up and down, raw bytes. */
  opt: 'none' | 'ts' | 'ts-inc' | 'ts-tick' | 'ts-wild' | 'raw';
  rawOpt: Uint8Array;
  /** IPv4 IDs: all 0, fixed at id0, incrementing from id0, or neither (a pattern that jumps). */
  idMode: 'zero' | 'fixed' | 'inc' | 'wild';
  id0: number;
  /** IPv6: an extension header chain on every segment (null: none). */
  ext6: Array<{ type: number; bytes?: Uint8Array }> | null;
  seq0: number;
  ack: number;
  window: number;
  tos: number;
  ttl: number;
  flowLabel: number;
  mss: number;
}

const flowArb: fc.Arbitrary<FlowPlan> = fc.record({
  v6: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  src: fc.nat(3),
  dst: fc.nat(3),
  sport: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(40000, 40001, 5201) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 65535 }) },
  ),
  dport: fc.constantFrom(5201, 5201, 80, 0, 65535),
  vlan: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 4095 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  ),
  qinq: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  opt: fc.constantFrom<FlowPlan['opt']>('none', 'none', 'none', 'none', 'ts', 'ts', 'ts', 'ts-inc', 'ts-tick', 'ts-wild', 'raw'),
  rawOpt: fc.uint8Array({ maxLength: 40 }),
  idMode: fc.constantFrom<FlowPlan['idMode']>('zero', 'zero', 'fixed', 'inc', 'inc', 'inc', 'wild'),
  id0: fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(65534, 65535)),
  ext6: fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: fc.array(fc.record({ type: fc.constantFrom(0, 43, 60), bytes: fc.uint8Array({ maxLength: 20 }) }), {
        minLength: 1,
        maxLength: 3,
      }),
    },
  ),
  seq0: fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 0, max: U32 - 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: U32 - 100_000, max: U32 - 1 }) },
  ),
  ack: fc.integer({ min: 0, max: U32 - 1 }),
  window: fc.integer({ min: 0, max: 65535 }),
  tos: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  ttl: fc.oneof({ weight: 4, arbitrary: fc.constant(64) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
  flowLabel: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xfffff }) }),
  mss: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(1448, 1460, 536, 1440, 1000, 1001) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 2000 }) },
    { weight: 1, arbitrary: fc.constantFrom(1, 2, 3, 7, 8948, 9000) },
  ),
});

/** Exceptional fields of one segment (most segments have none). */
interface Special {
  ttl?: number;
  tos?: number;
  df?: boolean;
  flowLabel?: number;
  ipId?: number;
  /** Added to the segment's IPv4 ID (mod 2^16): breaks an incrementing or fixed pattern. */
  idShift?: number;
  badTcp?: boolean;
  badIp?: boolean;
  padding?: number;
  ipOptions?: Uint8Array;
  fragment?: { mf: boolean; offset: number };
  ext?: Array<{ type: number; bytes?: Uint8Array }>;
  urgent?: number;
  optBytes?: Uint8Array;
}

const extHeaderArb = fc.oneof(
  fc.constantFrom(0, 43, 60, 51).map((type) => ({ type })),
  fc.record({ type: fc.constantFrom(0, 60, 43), bytes: fc.uint8Array({ maxLength: 20 }) }),
  fc.record({ off: fc.constantFrom(0, 0, 1, 100), mf: fc.boolean() }).map(({ off, mf }) => ipv6FragmentHeader(off, mf, 7)),
);

const specialArb: fc.Arbitrary<Special> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ ttl: fc.constantFrom(0, 1, 63, 255) }) },
  { weight: 3, arbitrary: fc.record({ tos: fc.constantFrom(1, 2, 3, 0x10, 0xff) }) },
  { weight: 2, arbitrary: fc.record({ df: fc.constant(false) }) },
  { weight: 2, arbitrary: fc.record({ flowLabel: fc.integer({ min: 0, max: 0xfffff }) }) },
  { weight: 2, arbitrary: fc.record({ ipId: fc.integer({ min: 0, max: 65535 }) }) },
  { weight: 2, arbitrary: fc.record({ idShift: fc.constantFrom(-1, 1, 2, 0x8000) }) },
  { weight: 4, arbitrary: fc.record({ badTcp: fc.constant(true) }) },
  { weight: 2, arbitrary: fc.record({ badIp: fc.constant(true) }) },
  { weight: 4, arbitrary: fc.record({ padding: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constantFrom(200, 1500)) }) },
  { weight: 2, arbitrary: fc.record({ ipOptions: fc.uint8Array({ minLength: 1, maxLength: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ fragment: fc.record({ mf: fc.boolean(), offset: fc.constantFrom(0, 0, 1, 185, 8191) }) }) },
  { weight: 3, arbitrary: fc.record({ ext: fc.array(extHeaderArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ ext: fc.array(extHeaderArb, { minLength: 7, maxLength: 10 }) }) },
  { weight: 1, arbitrary: fc.record({ urgent: fc.integer({ min: 1, max: 65535 }) }) },
  { weight: 2, arbitrary: fc.record({ optBytes: fc.uint8Array({ maxLength: 40 }) }) },
);

const FLAG_EXTRAS = [PSH, FIN, SYN, RST, URG, CWR, CWR, ECE, 0x100, FIN | PSH, SYN | FIN, RST | FIN, ECE | CWR, CWR | PSH, 0];

/** A run of segments of one flow with the same shape. */
interface Group {
  flow: number;
  count: number;
  len: { k: 'mss' } | { k: 'n'; n: number } | { k: 'big'; less: number };
  lastLen: number | null; //   the last segment's payload length (short / zero) if set
  flags: number; //            extra flag bits
  flagsOn: 'last' | 'all' | 'first';
  noAck: boolean; //           clear the ACK bit
  seqJump: number; //          added to the flow's next sequence number before the group
  ackBump: number;
  /** Added to the ACK after each segment of the group (the peer's data acknowledged as it goes). */
  ackEach: number;
  windowBump: number;
  special: Special | null;
  specialOn: 'all' | 'first' | 'last';
  dt: TimeMove;
  dtEach: TimeMove;
  retransmit: boolean; //      send the group again right after (duplicates)
}

const groupArb: fc.Arbitrary<Group> = fc.record({
  flow: fc.nat(9),
  count: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 1, arbitrary: fc.integer({ min: 9, max: 60 }) }),
  len: fc.oneof(
    { weight: 12, arbitrary: fc.constant({ k: 'mss' as const }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 3000 }).map((n) => ({ k: 'n' as const, n })) },
    { weight: 1, arbitrary: fc.constantFrom(0, 1).map((n) => ({ k: 'n' as const, n })) },
    { weight: 1, arbitrary: fc.constantFrom(0, 0, 1, 2, 7, 1000).map((less) => ({ k: 'big' as const, less })) },
  ),
  lastLen: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 1500 }) }),
  flags: fc.oneof(
    { weight: 10, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.constantFrom(...FLAG_EXTRAS) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1ff }) },
  ),
  flagsOn: fc.constantFrom<Group['flagsOn']>('last', 'last', 'all', 'first'),
  noAck: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  seqJump: fc.oneof(
    { weight: 20, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: -3000, max: 3000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: U32 - 1 }) },
  ),
  ackBump: fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -5, max: 100_000 }) }),
  ackEach: fc.oneof(
    { weight: 12, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 3000 }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 31, 2 ** 31 - 1) },
  ),
  windowBump: fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 65535 }) }),
  special: fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: specialArb }),
  specialOn: fc.constantFrom<Group['specialOn']>('all', 'first', 'last'),
  dt: timeMoveArb,
  dtEach: fc.oneof({ weight: 3, arbitrary: fc.constantFrom({ d: 0 }, { d: 1 }, { d: 10 }) }, { weight: 1, arbitrary: timeMoveArb }),
  retransmit: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

type Event =
  | { e: 'group'; g: Group }
  | { e: 'udp'; payload: number; flow: number; dt: TimeMove }
  | { e: 'arp'; padding: number; dt: TimeMove }
  | { e: 'bytes'; bytes: Uint8Array; dt: TimeMove; prefix: boolean }
  | { e: 'advance'; dt: TimeMove }
  | { e: 'flush' };

/** Random bytes, sometimes behind a plausible link + IP header so parsing goes further. */
export const randomBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1600 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 13, 14, 15, 17, 18, 33, 34, 53, 54, 60).map((n) => new Uint8Array(n)) },
);

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 30, arbitrary: groupArb.map((g) => ({ e: 'group' as const, g })) },
  {
    weight: 1,
    arbitrary: fc.record({ e: fc.constant('udp' as const), payload: fc.integer({ min: 0, max: 1500 }), flow: fc.nat(9), dt: timeMoveArb }),
  },
  { weight: 1, arbitrary: fc.record({ e: fc.constant('arp' as const), padding: fc.constantFrom(0, 18), dt: timeMoveArb }) },
  { weight: 2, arbitrary: fc.record({ e: fc.constant('bytes' as const), bytes: randomBytesArb, dt: timeMoveArb, prefix: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ e: fc.constant('advance' as const), dt: timeMoveArb }) },
  { weight: 1, arbitrary: fc.constant({ e: 'flush' as const }) },
);

/** Post-build reordering: swap two frames, or copy one to another place (duplicate). */
interface Reorder {
  op: 'swap' | 'dup' | 'drop';
  i: number;
  j: number;
}

const reorderArb: fc.Arbitrary<Reorder> = fc.record({
  op: fc.constantFrom<Reorder['op']>('swap', 'swap', 'dup', 'drop'),
  i: fc.nat(),
  j: fc.nat(),
});

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 1 << 20 }).map((bit) => ({ m: 'flip' as const, bit })) },
  {
    weight: 3,
    arbitrary: fc.record({ m: fc.constant('byte' as const), at: fc.nat({ max: 1 << 16 }), v: fc.integer({ min: 0, max: 255 }) }),
  },
  { weight: 4, arbitrary: fc.nat({ max: 1 << 17 }).map((keep) => ({ m: 'truncate' as const, keep })) },
  {
    weight: 2,
    arbitrary: fc.record({
      m: fc.constant('extend' as const),
      n: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.constant(70000)),
      v: fc.constantFrom(0, 0xff, 0x55),
    }),
  },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 15 }).map((v) => ({ m: 'ihl' as const, v })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 15 }).map((v) => ({ m: 'doff' as const, v })) },
  {
    weight: 3,
    arbitrary: fc
      .oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 19, 20, 39, 40, 41, 60, 65535))
      .map((v) => ({ m: 'iplen' as const, v })),
  },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }).map((v) => ({ m: 'tcpflags' as const, v })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 6, 17, 41, 43, 44, 51, 59, 60, 255).map((v) => ({ m: 'proto' as const, v })) },
  { weight: 1, arbitrary: fc.constantFrom(0x0800, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x9100, 0).map((v) => ({ m: 'ethertype' as const, v })) },
  {
    weight: 1,
    arbitrary: fc.record({
      m: fc.constant('tag' as const),
      tci: fc.integer({ min: 0, max: 0xffff }),
      tpid: fc.constantFrom(0x8100, 0x88a8),
    }),
  },
  { weight: 4, arbitrary: fc.constant({ m: 'refix' as const }) },
);

/** Mutations of the built frames: sparse (`at` picks a frame) or dense (every frame). */
const damageArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ dense: 0, list: [] as Array<{ at: number; muts: Mutation[] }> }) },
  {
    weight: 4,
    arbitrary: fc.record({
      dense: fc.constant(0),
      list: fc.array(fc.record({ at: fc.nat(), muts: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }), { maxLength: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      dense: fc.integer({ min: 1, max: 3 }), // every dense-th frame gets `list[k].muts` cyclically
      list: fc.array(fc.record({ at: fc.constant(0), muts: fc.array(mutationArb, { minLength: 1, maxLength: 3 }) }), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
  },
);

export interface PlanOptions {
  maxEvents?: number;
  maxFlows?: number;
}

/** Plan (flows + events + reorders + damage) → items, for the link type of `o`. */
function buildItems(
  o: EngineOptions,
  flows: FlowPlan[],
  events: Event[],
  reorders: Reorder[],
  damage: { dense: number; list: Array<{ at: number; muts: Mutation[] }> },
): Item[] {
  const linkType = (o.linkType ?? 1) as LinkType;
  const raw = linkType === 101;
  const next = flows.map((f) => f.seq0);
  const acks = flows.map((f) => f.ack);
  const windows = flows.map((f) => f.window);
  const tsval = flows.map(() => 1000);
  const tsecr = flows.map(() => 77);
  const sent = flows.map(() => 0); // segments built so far, per flow
  const ids = flows.map((f) => (f.idMode === 'zero' ? 0 : f.id0));
  const items: Item[] = [];
  let base = 0;
  const at = (m: TimeMove): number => {
    const [t, b] = moveTime(base, m);
    base = b;
    return t;
  };
  const addr = (f: FlowPlan, i: number) => (f.v6 ? V6_POOL : V4_POOL)[i];
  const vlanOf = (f: FlowPlan): number | number[] | undefined => {
    if (raw || f.vlan === null) return undefined;
    return f.qinq ? [f.vlan, (f.vlan + 1) & 0xfff] : f.vlan;
  };

  for (const ev of events) {
    if (ev.e === 'flush') {
      items.push({ flush: true });
      continue;
    }
    if (ev.e === 'advance') {
      items.push({ advance: at(ev.dt) });
      continue;
    }
    if (ev.e === 'bytes') {
      let bytes = ev.bytes;
      if (ev.prefix && !raw) {
        // Ethernet-ish header announcing IPv4 / IPv6, then the random bytes.
        const p = new Uint8Array(14 + bytes.length);
        p[12] = bytes.length & 1 ? 0x86 : 0x08;
        p[13] = bytes.length & 1 ? 0xdd : 0x00;
        p.set(bytes, 14);
        if (bytes.length > 0) p[14] = (bytes.length & 1 ? 0x60 : 0x40) | (bytes[0] & 0x0f);
        bytes = p;
      }
      items.push({ frame: { bytes }, t: at(ev.dt) });
      continue;
    }
    if (ev.e === 'arp') {
      if (raw) continue;
      items.push({ frame: { arp: { linkType: linkType as 1 | 113 | 276, padding: ev.padding } }, t: at(ev.dt) });
      continue;
    }
    const f = flows[(ev.e === 'udp' ? ev.flow : ev.g.flow) % flows.length];
    if (ev.e === 'udp') {
      items.push({
        frame: {
          udp: { linkType, src: addr(f, f.src), dst: addr(f, f.dst), sport: f.sport, dport: f.dport, vlan: vlanOf(f), payload: ev.payload },
        },
        t: at(ev.dt),
      });
      continue;
    }
    const g = ev.g;
    const fi = g.flow % flows.length;
    next[fi] = (next[fi] + g.seqJump + U32) % U32;
    acks[fi] = (acks[fi] + g.ackBump + U32) % U32;
    windows[fi] = (windows[fi] + g.windowBump) & 0xffff;
    const groupItems: Item[] = [];
    for (let k = 0; k < g.count; k++) {
      const first = k === 0;
      const last = k === g.count - 1;
      const sp =
        g.special && (g.specialOn === 'all' || (g.specialOn === 'first' && first) || (g.specialOn === 'last' && last)) ? g.special : null;
      let options: Uint8Array | undefined;
      const nth = sent[fi]++;
      if (sp?.optBytes) options = sp.optBytes;
      else if (f.opt === 'ts') options = tcpTimestampOption(tsval[fi], 77);
      else if (f.opt === 'ts-inc') options = tcpTimestampOption(tsval[fi]++, 77);
      else if (f.opt === 'ts-tick') {
        if (nth % 3 === 2) tsecr[fi] = (tsecr[fi] + 1) >>> 0;
        options = tcpTimestampOption(nth % 3 === 0 ? tsval[fi]++ : tsval[fi], tsecr[fi]);
      } else if (f.opt === 'ts-wild') {
        // Up and down by a little, or a jump of half the sequence space (serial arithmetic's edge).
        const step = [0, 1, -1, 2, 0x80000000][(nth * 7 + fi) % 5];
        tsval[fi] = (tsval[fi] + step) >>> 0;
        tsecr[fi] = (tsecr[fi] + [0, 0, 1, -1][nth % 4]) >>> 0;
        options = tcpTimestampOption(tsval[fi], tsecr[fi]);
      } else if (f.opt === 'raw') options = f.rawOpt;
      const optLen = options ? (options.length + 3) & ~3 : 0;
      const ext = f.v6 ? (sp?.ext ?? f.ext6 ?? undefined) : undefined;
      const extLen = ext
        ? ext.reduce((n, h) => n + (h.type === 44 ? 8 : (2 + (h.bytes?.length ?? (h.type === 51 ? 10 : 0)) + 7) & ~7), 0)
        : 0;
      const ipOptions = !f.v6 && sp?.ipOptions ? sp.ipOptions : undefined;
      const ipOptLen = ipOptions ? (ipOptions.length + 3) & ~3 : 0;
      const maxPayload = (f.v6 ? 65535 - extLen : 65535 - 20 - ipOptLen) - 20 - optLen;
      let len = g.len.k === 'mss' ? f.mss : g.len.k === 'n' ? g.len.n : maxPayload - g.len.less;
      if (last && g.lastLen !== null) len = g.lastLen;
      len = Math.max(0, Math.min(len, maxPayload));
      let flags = g.noAck ? 0 : ACK;
      if (g.flagsOn === 'all' || (g.flagsOn === 'last' && last) || (g.flagsOn === 'first' && first)) flags |= g.flags;
      const spec: TcpFrameSpec = {
        linkType,
        ipVersion: f.v6 ? 6 : 4,
        src: addr(f, f.src),
        dst: addr(f, f.dst),
        sport: f.sport,
        dport: f.dport,
        seq: next[fi],
        ack: acks[fi],
        flags,
        window: windows[fi],
        payload: len,
        ttl: sp?.ttl ?? f.ttl,
        tos: sp?.tos ?? f.tos,
      };
      const v = vlanOf(f);
      if (v !== undefined) spec.vlan = v;
      if (options) spec.options = options;
      if (f.v6) spec.flowLabel = sp?.flowLabel ?? f.flowLabel;
      if (!f.v6) {
        // IPv4 ID by the flow's mode (a wild one jumps around); a special may shift or replace it.
        const id = f.idMode === 'wild' ? (f.id0 + nth * 40503) & 0xffff : ids[fi];
        if (f.idMode === 'inc') ids[fi] = (ids[fi] + 1) & 0xffff;
        spec.ipId = (id + (sp?.idShift ?? 0)) & 0xffff;
      }
      if (ext) spec.ipv6ExtHeaders = ext;
      if (sp) {
        if (sp.df !== undefined && !f.v6) spec.df = sp.df;
        if (sp.ipId !== undefined && !f.v6) spec.ipId = sp.ipId;
        if (sp.badTcp) spec.badTcpChecksum = true;
        if (sp.badIp && !f.v6) spec.badIpChecksum = true;
        if (sp.padding !== undefined) spec.padding = sp.padding;
        if (ipOptions) spec.ipOptions = ipOptions;
        if (sp.fragment && !f.v6) spec.fragment = sp.fragment;
        if (sp.urgent !== undefined) spec.urgent = sp.urgent;
      }
      groupItems.push({ frame: { tcp: spec }, t: at(first ? g.dt : g.dtEach) });
      next[fi] = (next[fi] + len) % U32;
      acks[fi] = (acks[fi] + g.ackEach + U32) % U32;
    }
    items.push(...groupItems);
    if (g.retransmit) for (const it of groupItems) items.push({ ...it, t: at(g.dtEach) } as Item);
  }

  // Reorder / duplicate / drop frames (times stay attached to positions).
  const framePositions = () => items.map((it, i) => ('frame' in it ? i : -1)).filter((i) => i >= 0);
  for (const r of reorders) {
    const pos = framePositions();
    if (pos.length < 1) break;
    const a = pos[r.i % pos.length];
    const b = pos[r.j % pos.length];
    const ia = items[a] as Extract<Item, { frame: FrameSource }>;
    const ib = items[b] as Extract<Item, { frame: FrameSource }>;
    if (r.op === 'swap') {
      items[a] = { ...ia, frame: ib.frame };
      items[b] = { ...ib, frame: ia.frame };
    } else if (r.op === 'dup') {
      items.splice(b + 1, 0, { ...ib, frame: ia.frame });
    } else if (pos.length > 1) {
      items.splice(a, 1);
    }
  }

  // Byte-level damage.
  const pos = framePositions();
  if (pos.length > 0) {
    if (damage.dense > 0) {
      let k = 0;
      for (let n = 0; n < pos.length; n += damage.dense) {
        const it = items[pos[n]] as Extract<Item, { frame: FrameSource }>;
        items[pos[n]] = { ...it, mut: [...(it.mut ?? []), ...damage.list[k++ % damage.list.length].muts] };
      }
    } else {
      for (const d of damage.list) {
        const i = pos[d.at % pos.length];
        const it = items[i] as Extract<Item, { frame: FrameSource }>;
        items[i] = { ...it, mut: [...(it.mut ?? []), ...d.muts] };
      }
    }
  }
  return items;
}

const splitsArb = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }) },
    { weight: 3, arbitrary: fc.integer({ min: 5, max: 64 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 5000 }) },
  ),
  { minLength: 1, maxLength: 6 },
);

const viewsArb = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) });

/** A whole fuzz case. `maxEvents` bounds the case size (events → ~8 frames each on average). */
export function fuzzCaseArb(plan: PlanOptions = {}): fc.Arbitrary<FuzzCase> {
  const maxEvents = plan.maxEvents ?? 40;
  return fc
    .record({
      options: optionsArb,
      hashSeedB: fc.integer({ min: 0, max: U32 - 1 }),
      batched: fc.constantFrom<EngineKind>('wasm', 'ts'),
      splits: splitsArb,
      sink: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      views: viewsArb,
      flows: fc.array(flowArb, { minLength: 1, maxLength: plan.maxFlows ?? 10 }),
      events: fc.array(eventArb, { minLength: 1, maxLength: maxEvents, size: 'medium' }),
      reorders: fc.oneof(
        { weight: 3, arbitrary: fc.constant([] as Reorder[]) },
        { weight: 1, arbitrary: fc.array(reorderArb, { minLength: 1, maxLength: 6 }) },
      ),
      damage: damageArb,
    })
    .map((r) => ({
      options: r.options,
      hashSeedB: r.hashSeedB,
      batched: r.batched,
      splits: r.splits,
      sink: r.sink,
      views: r.views,
      items: buildItems(r.options, r.flows, r.events, r.reorders, r.damage),
    }));
}

/** Pure garbage: random byte frames (any link type), random times, random options. Cheap and many. */
export function bytesCaseArb(maxFrames = 200): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      options: optionsArb,
      hashSeedB: fc.integer({ min: 0, max: U32 - 1 }),
      batched: fc.constantFrom<EngineKind>('wasm', 'ts'),
      splits: splitsArb,
      sink: fc.boolean(),
      views: viewsArb,
      frames: fc.array(fc.record({ bytes: randomBytesArb, dt: timeMoveArb }), { minLength: 1, maxLength: maxFrames, size: 'max' }),
    })
    .map((r) => {
      let base = 0;
      const items: Item[] = r.frames.map(({ bytes, dt }) => {
        const [t, b] = moveTime(base, dt);
        base = b;
        return { frame: { bytes }, t };
      });
      return { options: r.options, hashSeedB: r.hashSeedB, batched: r.batched, splits: r.splits, sink: r.sink, views: r.views, items };
    });
}
