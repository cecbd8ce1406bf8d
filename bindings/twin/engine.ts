// The LR algorithm of FIG. 7 in plain TypeScript (twin of assembly/engine.ts): the baseline the
// WASM core is measured against and the oracle it is tested against, decision for decision.
import * as S from '../abi.js';
import { Aggregates, FIN, PSH, RST } from './aggregate.js';
import { Pending } from './pending.js';
import { Ring } from './ring.js';
import { FlowTable } from './flow-table.js';
import { CLASS_CANDIDATE, CLASS_OTHER, Parsed } from './parse.js';
import {
  MAX_TIME,
  OUT_CHECKSUMS_FIXED,
  OUT_FIRST_TIME,
  OUT_FIXED_IP_ID,
  OUT_FLAGS,
  OUT_HEADER_LENGTH,
  OUT_INDEX,
  OUT_IP_VERSION,
  OUT_MSS,
  OUT_REASON,
  OUT_SEGMENTS,
  OUT_SIZE,
  OUT_TCP_OFFSET,
  OUT_TIME,
  OUT_VERIFIED,
  bufferCapacity,
  REASON_AG_TIMER,
  REASON_CAPACITY,
  REASON_DEL_TIMER,
  REASON_FIN,
  REASON_NON_CANDIDATE,
  REASON_PASS_THROUGH,
  REASON_PSH,
  REASON_RST,
  REASON_SHORT,
  REASON_THRESHOLD,
  CAUSE_BAD_TCP_CHECKSUM,
  CAUSE_NO_PAYLOAD,
  CAUSE_TABLE_FULL,
  NO_CAUSE,
  frameLimit,
} from '../abi.js';
import { NONE, TimerList } from './timers.js';

/** What the core is set up with (the resolved engine options it reads; assembly/index.ts init). */
export interface CoreOptions {
  preset: string;
  maxFlows: number;
  maxPending: number;
  maxAggregate: number;
  /** Bytes of the staging ring (rounded down to a multiple of 8). */
  ringBytes: number;
  /** 0 or absent: no limit (abi.ts frameLimit). */
  maxFrame?: number;
  threshold: number;
  aggregateTimeoutUs: number;
  idleTimeoutMs: number;
  verifyChecksums: boolean;
  fixChecksums: boolean;
  hashSeed: number;
  linkType: number;
}

/**
 * Where sent packets go, each described first in TwinCore.out (the core's output descriptor,
 * abi.ts OUT_*). `input` means: the frame being pushed, unchanged.
 */
export interface Emitter {
  aggregate(bytes: Uint8Array, start: number, length: number): void;
  input(): void;
}

export class TwinCore {
  readonly counters = new Float64Array(S.STAT_COUNT);
  /** The output descriptor (assembly/index.ts draws it): what the packet being emitted says about itself. */
  readonly out = new ArrayBuffer(OUT_SIZE);
  private readonly outF64 = new Float64Array(this.out);
  private readonly outU32 = new Uint32Array(this.out);
  private now = 0;
  /** Frames pushed so far over the engine's life: during push, the index of the frame in hand. */
  private frameIndex = 0;
  /** The frame in hand's place on the ring's account (ring.ts ringCharge): an aggregate it starts records it. */
  private frameAt = 0;
  private readonly parsed: Parsed;
  private readonly table: FlowTable;
  private readonly pool: Pending;
  /** The staging ring (ring.ts): the engine stages frames into it (ringReserve) and pushes them from there. */
  readonly ring: Ring;
  private readonly agg: Aggregates;
  private readonly agTimer: TimerList; //  743: pending aggregates in start order
  private readonly delTimer: TimerList; // 724: live connections in last-activity order
  private readonly gro: boolean;
  private readonly verify: boolean;
  private readonly agPeriod: number;
  private readonly delPeriod: number;
  private readonly threshold: number;

  constructor(
    o: CoreOptions,
    private readonly emit: Emitter,
  ) {
    const preset = o.preset === 'seed' ? S.PRESET_SEED : o.preset === 'throughput' ? S.PRESET_THROUGHPUT : S.PRESET_GRO;
    this.gro = preset !== S.PRESET_SEED;
    this.parsed = new Parsed(o.linkType, o.verifyChecksums, this.gro);
    this.table = new FlowTable(o.maxFlows, o.hashSeed);
    this.verify = o.verifyChecksums;
    this.pool = new Pending(o.maxFlows, o.maxPending);
    this.ring = new Ring((o.ringBytes & ~7) >>> 0);
    this.agg = new Aggregates(
      this.pool,
      this.ring,
      bufferCapacity(o.maxAggregate),
      Math.min(o.maxPending, S.BUILD_AREAS),
      o.maxFlows,
      o.maxAggregate,
      frameLimit(o.maxFrame ?? 0),
      preset,
      o.fixChecksums,
    );
    this.agTimer = new TimerList(o.maxFlows);
    this.delTimer = new TimerList(o.maxFlows);
    this.agPeriod = o.aggregateTimeoutUs;
    this.delPeriod = o.idleTimeoutMs * 1000;
    this.threshold = o.threshold;
  }

  private deadline(period: number): number {
    return Math.min(this.now + period, MAX_TIME);
  }

  /**
   * 710: the frame b arrives at time t (the core's pushFrame). b is ring.bytes[at, at + b.length)
   * (staged in the window ringReserve handed out), or with `at` -1 a frame longer than
   * STAGE_FRAME_MAX (never a candidate, never held).
   */
  push(b: Uint8Array, t: number, at: number): void {
    this.frameAt = this.ring.ringCharge(Math.min(b.length, S.STAGE_FRAME_MAX));
    this.arrive(b, t, at);
    this.frameIndex += 1; // after the frame: while it was processed, frameIndex was its index
  }

  /** push's body: fire the deadlines up to t, then FIG. 7 for this frame. */
  private arrive(b: Uint8Array, t: number, at: number): void {
    this.advance(t);
    const fullLen = b.length;
    const c = this.counters;
    c[S.STAT_PACKETS_IN]++;
    c[S.STAT_BYTES_IN] += fullLen;
    const p = this.parsed;
    const cls = p.parse(b); // 712-714
    if (cls === CLASS_OTHER) return this.passInput(fullLen, 0, p.cause);
    const table = this.table;
    let f = table.lookup(p.key); // 716-722
    if (cls !== CLASS_CANDIDATE || p.payloadLen === 0) {
      // Not aggregable, but it may belong to a connection: keep per-connection order.
      if (f !== NONE) this.touch(f);
      return this.cannotJoin(f, fullLen, cls === CLASS_CANDIDATE ? CAUSE_NO_PAYLOAD : p.cause);
    }
    if (f === NONE) {
      if (!p.verifyPayload(b)) return this.passInput(fullLen, p.payloadLen, CAUSE_BAD_TCP_CHECKSUM); // 714
      if (table.isFull()) {
        // 726: no room, Simple NIC path
        c[S.STAT_TABLE_FULL]++;
        return this.passInput(fullLen, p.payloadLen, CAUSE_TABLE_FULL);
      }
      f = table.insert(p.key); // 728
      c[S.STAT_FLOWS_CREATED]++;
      this.delTimer.set(f, this.deadline(this.delPeriod), false); // 724
    } else {
      this.touch(f); // 724
    }
    // From here a bad payload checksum (714, verified as late as possible: as it joins)
    // and a segment whose own fields forbid aggregation (732, FIG. 4 424-428) take the same path.
    const agg = this.agg;
    const forbid = agg.ownFieldsForbid(p, b);
    if (forbid !== NO_CAUSE) return this.cannotJoin(f, fullLen, forbid);
    let joined = false;
    if (agg.segments[f] !== 0) {
      const reason = agg.mismatch(f, p, b); // 736-741
      if (reason === 0) {
        if (!agg.append(f, p, b, at)) return this.cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM); // 745
        joined = true;
      } else {
        if (!p.verifyPayload(b)) return this.cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM);
        this.send(f, reason, this.now); // 746-750
      }
    }
    if (!joined) {
      // 742
      if (!this.pool.pendingFree()) {
        // every descriptor holds an aggregate (maxPending < maxFlows): free the oldest
        if (!p.verifyPayload(b)) return this.cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM);
        this.send(this.agTimer.head, REASON_CAPACITY, this.now);
      }
      if (!agg.start(f, p, b, at, this.frameAt)) return this.cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM); // 744-745
      // The AgTimer list stays in start order, so its head is the first pending index (firstPendingIndex).
      const s = this.pool.pendingPtr(f);
      this.pool.firstIndex[s] = this.frameIndex;
      this.pool.firstTime[s] = this.now;
      this.agTimer.set(f, this.deadline(this.agPeriod), false); // 743
    }
    if ((p.flags & FIN) !== 0) {
      // 752: FIN ends the aggregate and the connection (758)
      this.send(f, REASON_FIN, this.now);
      return this.deleteFlow(f);
    }
    if (this.gro) {
      if ((p.flags & PSH) !== 0 && !agg.throughput) return this.send(f, REASON_PSH, this.now);
      if (p.payloadLen < agg.mss[f]) return this.send(f, REASON_SHORT, this.now);
    }
    if (agg.ipSize[f] > this.threshold) this.send(f, REASON_THRESHOLD, this.now); // 754-756
  }

  /** Move the clock to t (floored, never backwards) and fire every deadline ≤ t in order. */
  advance(t: number): void {
    let x = Math.floor(t);
    if (!(x >= this.now)) {
      this.counters[S.STAT_CLOCK_CLAMPED]++;
      x = this.now;
    }
    if (x > MAX_TIME) x = MAX_TIME;
    this.now = x;
    const ag = this.agTimer;
    const del = this.delTimer;
    for (;;) {
      const a = ag.head;
      const d = del.head;
      const agAt = a === NONE ? Infinity : ag.deadline[a];
      const delAt = d === NONE ? Infinity : del.deadline[d];
      if (agAt <= delAt) {
        // equal deadlines: the aggregate that started first goes first
        if (agAt > x) return;
        this.send(a, REASON_AG_TIMER, agAt); // 780-784
      } else {
        if (delAt > x) return;
        this.send(d, REASON_DEL_TIMER, delAt); // 790-794
        this.deleteFlow(d);
      }
    }
  }

  /** The earliest AgTimer or DelTimer deadline, or Infinity. */
  nextDeadline(): number {
    const ag = this.agTimer.head;
    const del = this.delTimer.head;
    return Math.min(ag === NONE ? Infinity : this.agTimer.deadline[ag], del === NONE ? Infinity : this.delTimer.deadline[del]);
  }

  /** Send every pending aggregate in start order (flush / close / end of input). */
  flushAll(reason: number): void {
    for (let f = this.agTimer.head; f !== NONE; f = this.agTimer.head) this.send(f, reason, this.now);
  }

  /**
   * The inputIndex of the oldest pending aggregate (the head of the AgTimer list, which is in start
   * order), or when none is pending the index the next frame gets (in a push: the frame in hand).
   * No packet sent later has a smaller inputIndex. Reads only: callable from within the emitter.
   */
  firstPendingIndex(): number {
    const f = this.agTimer.head;
    return f === NONE ? this.frameIndex : this.pool.firstIndex[this.pool.pendingPtr(f)];
  }

  /** The oldest pending aggregate held in the ring (not in a build area: at most BUILD_AREAS are skipped), or NONE. */
  private oldestHeld(): number {
    if (this.agg.heldInRing === 0) return NONE;
    let a = this.agTimer.head;
    while (a !== NONE && this.pool.area[this.pool.pendingPtr(a)] >= 0) a = this.agTimer.nextOf(a);
    return a;
  }

  /**
   * Before the next frame, of account cost `cost` and time t, is staged (ring.ts): first the
   * deadlines ≤ t fire, as its push fires them before anything else (CONTRACT §4 Timers; a time
   * behind the clock is left to its push, which counts it), then while it would pass the oldest held
   * aggregate's place on the account + ring size − RING_MARGIN, that aggregate is sent (reason
   * `capacity`). Returns the account cost the next frames may take from here (at most
   * ring size − RING_MARGIN): a chunk staged within it needs no early send.
   */
  ringMakeRoom(cost: number, t: number): number {
    if (Math.floor(t) > this.now) this.advance(t);
    const limit = this.ring.size - S.RING_MARGIN;
    for (;;) {
      const oldest = this.oldestHeld();
      if (oldest === NONE) return limit;
      const room = this.pool.accountAt[this.pool.pendingPtr(oldest)] + limit - this.ring.used;
      if (room >= cost) return Math.min(room, limit);
      this.send(oldest, REASON_CAPACITY, this.now);
    }
  }

  /**
   * A window of at least `need` bytes (≤ ring size) at the ring's head for the next frames
   * (ring.ts), returned as its start (ring.windowEnd: its end), after ringMakeRoom. Nothing held:
   * the whole ring, from 0. Else the free bytes after the head, or from 0 up to the tail (the
   * oldest held aggregate's first segment) when the end of the ring is too short. The account's
   * margin makes one of them long enough; were neither, the oldest held aggregate would be sent
   * first (`capacity`; the core's debug build asserts it never is).
   */
  ringReserve(need: number): number {
    const ring = this.ring;
    for (;;) {
      const a = this.oldestHeld();
      if (a === NONE) {
        ring.ringOpen(0, ring.size);
        break;
      }
      const tail = this.pool.first[this.pool.pendingPtr(a)];
      const head = ring.head;
      if (tail >= head) {
        // wrapped: held from the tail to where the head wrapped, and from 0 to the head
        if (tail - head >= need) {
          ring.ringOpen(head, tail);
          break;
        }
      } else if (ring.size - head >= need) {
        ring.ringOpen(head, ring.size);
        break;
      } else if (tail >= need) {
        ring.ringOpen(0, tail);
        break;
      }
      this.send(a, REASON_CAPACITY, this.now);
    }
    return ring.head;
  }

  /**
   * The frame passes through for `cause` (abi.ts CAUSE_*); if it belongs to connection f (NONE:
   * to none), f's run ends first.
   */
  private cannotJoin(f: number, fullLen: number, cause: number): void {
    if (f !== NONE) this.endSegmentRun(f, this.parsed.flags);
    this.passInput(fullLen, this.parsed.payloadLen, cause);
  }

  /** A frame of connection f that cannot join: send its aggregate first; FIN / RST delete it (758). */
  private endSegmentRun(f: number, flags: number): void {
    const reason = (flags & RST) !== 0 ? REASON_RST : (flags & FIN) !== 0 ? REASON_FIN : REASON_NON_CANDIDATE;
    this.send(f, reason, this.now);
    if (reason !== REASON_NON_CANDIDATE) this.deleteFlow(f);
  }

  /** 724: restart the DelTimer. */
  private touch(f: number): void {
    this.delTimer.set(f, this.deadline(this.delPeriod), true);
  }

  /** "Sending AgPacket" (760-768): finish flow f's aggregate and hand it out. */
  private send(f: number, reason: number, time: number): void {
    const agg = this.agg;
    const segments = agg.segments[f];
    if (segments === 0) return; // 762: connection buffer empty
    const length = agg.finish(f);
    const c = this.counters;
    c[S.STAT_PACKETS_OUT]++;
    c[S.STAT_AGGREGATES]++;
    c[S.STAT_SEGMENTS_AGGREGATED] += segments;
    c[S.STAT_BYTES_OUT] += length;
    c[S.STAT_REASONS + reason]++;
    agg.segments[f] = 0;
    this.agTimer.stop(f); // before the sink runs: firstPendingIndex() no longer counts it
    let flags = this.verify ? OUT_VERIFIED : 0; // every segment was verified as it joined
    if (segments < 2 || agg.fixChecksums) flags |= OUT_CHECKSUMS_FIXED;
    if (segments >= 2 && agg.fixedId[f] !== 0) flags |= OUT_FIXED_IP_ID;
    const l4 = agg.l4[f];
    const pool = this.pool;
    const s = pool.pendingPtr(f);
    this.describe(
      pool.firstIndex[s],
      pool.firstTime[s],
      time,
      segments,
      agg.mss[f],
      reason,
      agg.ipVersion[f],
      l4,
      l4 + agg.tcpHdrLen[f],
      flags,
    );
    pool.pendingRelease(f); // state cleared before the packet goes out; its bytes stay until the next window is handed out, which no sink can cause (CONTRACT §7: not re-entrant)
    this.emit.aggregate(agg.outBytes, agg.outStart, length);
  }

  private deleteFlow(f: number): void {
    this.delTimer.stop(f);
    this.table.remove(f);
    this.counters[S.STAT_FLOWS_DELETED]++;
  }

  /** 730, 766: the Simple NIC path, for `cause` (counted: the causes sum to the pass-through count). */
  private passInput(length: number, mss: number, cause: number): void {
    const c = this.counters;
    c[S.STAT_PACKETS_OUT]++;
    c[S.STAT_PASSED_THROUGH]++;
    c[S.STAT_BYTES_OUT] += length;
    c[S.STAT_REASONS + REASON_PASS_THROUGH]++;
    c[S.STAT_CAUSES + cause]++;
    const p = this.parsed;
    this.describe(this.frameIndex, this.now, this.now, 1, mss, REASON_PASS_THROUGH, p.ipVersion, p.l4, p.headerLength, OUT_CHECKSUMS_FIXED);
    this.emit.input();
  }

  /** What the packet about to be emitted says about itself, into the output descriptor. */
  private describe(
    index: number,
    firstTime: number,
    time: number,
    segments: number,
    mss: number,
    reason: number,
    ipVersion: number,
    tcpOffset: number,
    headerLength: number,
    flags: number,
  ): void {
    const d = this.outF64;
    const u = this.outU32;
    d[OUT_INDEX >> 3] = index;
    d[OUT_FIRST_TIME >> 3] = firstTime;
    d[OUT_TIME >> 3] = time;
    u[OUT_SEGMENTS >> 2] = segments;
    u[OUT_MSS >> 2] = mss;
    u[OUT_REASON >> 2] = reason;
    u[OUT_IP_VERSION >> 2] = ipVersion;
    u[OUT_TCP_OFFSET >> 2] = tcpOffset;
    u[OUT_HEADER_LENGTH >> 2] = headerLength;
    u[OUT_FLAGS >> 2] = flags;
  }

  flowsActive(): number {
    return this.table.active;
  }
}
