// Public types of the engine surface (docs/CONTRACT.md). Both engines (WASM core, TS twin)
// implement `Engine`; `createEngine` (create.ts) picks one.

import { PASS_THROUGH_CAUSES, REASONS } from '../abi.js';

export { PASS_THROUGH_CAUSES, REASONS };

export type Reason = (typeof REASONS)[number];
/** Why a frame went out unchanged (reason 'pass-through'): docs/CONTRACT.md §2. */
export type PassThroughCause = (typeof PASS_THROUGH_CAUSES)[number];

export interface Packet {
  /** Frame bytes (same link layer as the input). The caller owns them. */
  data: Uint8Array;
  /** Engine-clock time (µs) at which the packet was sent. */
  timeUs: number;
  /** Segments in this packet: 1 for pass-through and one-segment aggregates. */
  segments: number;
  /** First segment's TCP payload length; 0 for non-TCP pass-through. */
  mss: number;
  reason: Reason;
  /** False only for a multi-segment aggregate built with `fixChecksums: false`. */
  checksumsFixed: boolean;
  /**
   * Frames pushed before the packet's first segment, counted from 0 over the engine's life (push,
   * pushBatch and pushStaged alike): a pass-through's own index. See Engine.firstPendingIndex().
   */
  inputIndex: number;
  /** Engine-clock time (µs, floored and clamped like every time) at which its first segment was pushed; a pass-through's timeUs. */
  firstTimeUs: number;
  /**
   * 4 or 6 when the link layer says IPv4 / IPv6 (Ethernet type after at most one VLAN tag, the SLL
   * protocol, or raw IP) and the version nibble agrees, with the fixed IP header (20 / 40 bytes)
   * present; else 0. An aggregate: its connection's version.
   */
  ipVersion: 4 | 6 | 0;
  /** Offset of the TCP header in `data` (link header and VLAN tag included) when the frame is TCP with its ports present; else 0. */
  tcpOffset: number;
  /** tcpOffset + TCP header length (options included) when the whole TCP header is present; else 0. Aggregates: the first segment's. */
  headerLength: number;
  /** True only for an aggregate (of one or more segments) built with verifyChecksums on: every segment's TCP checksum was verified. */
  verified: boolean;
  /** An IPv4 aggregate of two or more segments whose IP IDs all equal the first segment's. Metadata only. */
  fixedIpId: boolean;
}

export type Preset = 'gro' | 'seed' | 'throughput';
export type EngineKind = 'wasm' | 'ts';

export interface EngineOptions {
  /** 'wasm' (default): the AssemblyScript core. 'ts': the pure-TypeScript twin. */
  engine?: EngineKind;
  /**
   * 'gro' (default): Linux GRO's checks; 'throughput': gro, but PSH joins and an ACK, window or TCP
   * timestamp that moves forward does not end an aggregate; 'seed': the patent's checks exactly.
   */
  preset?: Preset;
  /** Connections tracked at once (default 1024, range [1, 2^24]); about 150 bytes each. */
  maxFlows?: number;
  /**
   * Aggregates pending at once (default maxFlows, range [1, maxFlows]): each takes a 44-byte
   * descriptor (its bytes stay in the ring, ringBytes, or, for up to 64 at a time, in a build area
   * of maxAggregate + 128 bytes). A new aggregate that finds every
   * descriptor in use first sends the oldest pending one (reason `capacity`).
   */
  maxPending?: number;
  /**
   * Bytes of the staging ring (default 16 MiB, range [1 MiB, 2 GiB]): frames are staged there and
   * a pending aggregate's segments stay there until it is sent, so it bounds the traffic held at
   * once (the 1 ms AgTimer at 100 Gbit/s needs ≈ 12.5 MB). When the ring has no room for the next
   * frames, the oldest pending aggregate is sent first (reason `capacity`). Most of the engine's memory.
   */
  ringBytes?: number;
  /** MAX_AGREG: largest IP length field of an aggregate (default 65535, range [mtu, 65535]). */
  maxAggregate?: number;
  /**
   * Largest frame an aggregate may be, link header included (default 0: no limit beyond
   * maxAggregate; else [mtu, 2^32)): an aggregate is sent (reason `capacity`) before the next
   * segment would make it larger, and a segment whose frame is already larger passes through.
   * 65535 for a consumer with a 16-bit frame length (tcpip.js), the MTU + 14 for a VM's NIC (v86).
   */
  maxFrame?: number;
  /** Network MTU (default 1500, range [68, 65535]). */
  mtu?: number;
  /** THRESHOLD (754): an aggregate larger than this is sent (default maxAggregate − mtu, range [0, maxAggregate]). */
  threshold?: number;
  /** AgTimer (743): longest an aggregate waits, in µs (default 1000, range [1, 2^32)). */
  aggregateTimeoutUs?: number;
  /** DelTimer (724): idle time before a connection is deleted, in ms (default 10000, range [1, 2^32)). */
  idleTimeoutMs?: number;
  /** Verify TCP checksums of candidates (default true). IPv4 header checksums are always verified. */
  verifyChecksums?: boolean;
  /** Rewrite IPv4 and TCP checksums of aggregates (default true). */
  fixChecksums?: boolean;
  /** Seed of the flow-table hash (u32; default random). Output never depends on it. */
  hashSeed?: number;
  /** pcap LINKTYPE of the frames: 1 Ethernet (default), 113 Linux SLL, 276 Linux SLL2, 101 raw IP. */
  linkType?: number;
}

export type ResolvedOptions = Required<EngineOptions>;

export interface Stats {
  packetsIn: number;
  packetsOut: number;
  aggregates: number;
  segmentsAggregated: number;
  passedThrough: number;
  bytesIn: number;
  bytesOut: number;
  flowsCreated: number;
  flowsDeleted: number;
  flowsActive: number;
  tableFull: number;
  clockClamped: number;
  reasons: Record<Reason, number>;
  /** Pass-throughs per cause; they sum to reasons['pass-through'] (docs/CONTRACT.md §2). */
  passThroughCauses: Record<PassThroughCause, number>;
}

/** Zero-copy sink: `data` and `meta` are valid only during the call (both are reused); copy what you keep. */
export type PacketSink = (data: Uint8Array, meta: Omit<Packet, 'data'>) => void;

/** Engine.pushFrom: frames given as one view, with offsets (relative to the view), lengths and times. */
export type PushFrom = (view: Uint8Array, offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>) => void;

export interface Engine {
  readonly options: ResolvedOptions;
  /** Fire every deadline ≤ timeUs, then process the frame. Never throws on bad bytes. */
  push(frame: Uint8Array, timeUs: number): void;
  /** Same as push() for each frame in order; one boundary crossing per batch on the WASM engine. */
  pushBatch(frames: readonly Uint8Array[], timesUs: ArrayLike<number>): void;
  /**
   * Input staged in place: a region of the engine's own memory (1 MiB, always the same). Write
   * frames into it, then pushStaged() them: they are copied from there into the engine's ring
   * (one copy, as pushFrom's). push(), pushBatch() and pushFrom() do not touch it.
   */
  stagingArea(): Uint8Array;
  /** Same as pushBatch() for the frames at stagingArea()[offsets[i], offsets[i] + lengths[i]). */
  pushStaged(offsets: ArrayLike<number>, lengths: ArrayLike<number>, timesUs: ArrayLike<number>): void;
  /**
   * Frames that live in any buffer (an ArrayBuffer, a SharedArrayBuffer, WASM memory): the frame i
   * is view[offsets[i], offsets[i] + lengths[i]) (offsets relative to the view). Same result as
   * pushBatch() of those subarrays, with one copy into the engine (the WASM engine: one set() per
   * run of frames that follow each other, into the staging area) and no subarray per frame.
   * A frame outside the view is a RangeError.
   */
  pushFrom: PushFrom;
  /** Move the clock: fire every deadline ≤ timeUs. */
  advance(timeUs: number): void;
  /** Send every pending aggregate now (reason 'flush'). Connections stay. */
  flush(): void;
  /** Packets sent since the last drain, in order. The caller owns them. */
  drain(): Packet[];
  /**
   * drain() without a copy the caller keeps, the cheap way to take packets: the same packets, but
   * their `data` are views of the engine's output buffer, valid until the next call that can send
   * packets (push, pushBatch, pushStaged, pushFrom, advance, flush, close). Nothing is allocated
   * per packet but the Packet object. Copy (`slice()`) what must live longer.
   */
  drainViews(): Packet[];
  /**
   * Deliver packets to `sink` as they are sent (zero-copy views) instead of queueing them for
   * drain(). If the sink throws, the engine finishes the call it was in (every packet still goes
   * to the sink) and that call then throws the first error.
   */
  setSink(sink: PacketSink | null): void;
  stats(): Stats;
  /** Engine-clock time (µs) of the next AgTimer or DelTimer deadline; Infinity if none is set. */
  nextDeadline(): number;
  /**
   * The inputIndex of the oldest pending aggregate's first segment, or when nothing is pending the
   * index the next frame will get (during a push: the frame being processed). No packet handed out
   * later has a smaller inputIndex, so a consumer that keeps input order may release every packet
   * whose inputIndex is below it. Reads state only: callable from within a sink, and after close().
   */
  firstPendingIndex(): number;
  /** Send everything pending (reason 'close') and release the engine; drain() still returns them. */
  close(): void;
}
