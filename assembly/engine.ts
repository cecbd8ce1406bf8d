// The LR algorithm of FIG. 7 (twin: bindings/twin/engine.ts): one frame at a time, decisions as
// early returns, every packet handed to the bindings through the two imports below.
import {
  FIN, PSH, RST, aggAppend, aggFinish, aggStart, fixChecksums, gro, heldInRing, mismatch, outPtr, ownFieldsForbid, throughput,
} from './aggregate';
import { PD_AREA, PD_AT, PD_INDEX, PD_TIME, pendingFree, pendingPtr, pendingRelease } from './pending';
import { RING_MARGIN, head, ringBase, ringCharge, ringOpen, ringSize, ringUsed } from './ring';
import {
  F_FRAME, F_PENDING, F_FIXED_ID, F_IP_SIZE, F_IP_VERSION, F_L4, F_MSS, F_SEGMENTS, F_TCP_HDR_LEN, NONE, flowPtr,
} from './flow';
import { active, lookup, maxFlows, tableInsert, tableRemove } from './flow-table';
import * as P from './parse';
import {
  REASON_AG_TIMER, REASON_CAPACITY, REASON_DEL_TIMER, REASON_FIN, REASON_NON_CANDIDATE, REASON_PASS_THROUGH,
  REASON_PSH, REASON_RST, REASON_SHORT, REASON_THRESHOLD,
  CAUSE_BAD_TCP_CHECKSUM, CAUSE_COUNT, CAUSE_NO_PAYLOAD, CAUSE_TABLE_FULL, NO_CAUSE,
} from './reason';
import * as S from './stats';
import { AG_TIMER, DEL_TIMER, agHead, agNextOf, agTail, deadlineOf, delHead, timerSet, timerStop } from './timers';

// Every packet goes out through one of two imports, its metadata written first into the output
// descriptor at `outDesc` (drawn in index.ts; bindings/engine/queue.ts reads it). Byte offsets
// and flag bits, each equal to the same name in bindings/abi.ts (test/abi.test.ts checks):
const OUT_INDEX: usize = 0; //          f64 inputIndex: frames pushed before the first segment
const OUT_FIRST_TIME: usize = 8; //     f64 engine clock when the first segment was pushed
const OUT_TIME: usize = 16; //          f64 engine clock when the packet is sent
const OUT_SEGMENTS: usize = 24; //      u32
const OUT_MSS: usize = 28; //           u32 first segment's payload length
const OUT_REASON: usize = 32; //        u32 reason code
const OUT_IP_VERSION: usize = 36; //    u32 4, 6 or 0
const OUT_TCP_OFFSET: usize = 40; //    u32 offset of the TCP header, or 0
const OUT_HEADER_LENGTH: usize = 44; // u32 TCP offset + TCP header length, or 0
const OUT_FLAGS: usize = 48; //         u32 the bits below
export const OUT_SIZE: usize = 56;
const OUT_CHECKSUMS_FIXED: u32 = 1;
const OUT_VERIFIED: u32 = 2;
const OUT_FIXED_IP_ID: u32 = 4;

/** A finished aggregate in linear memory, described at outDesc; valid until the next call into the core. */
@external("env", "emitAggregate")
declare function emitAggregate(ptr: usize, length: i32): void;
/** The frame being processed (batch index `batchIndex`), unchanged, described at outDesc. */
@external("env", "emitInput")
declare function emitInput(batchIndex: i32): void;

/** Largest time on the engine clock (µs); deadlines saturate here. */
const MAX_TIME: f64 = 9007199254740991;

export let agPeriod: f64 = 1000;
export let delPeriod: f64 = 10000000;
export let threshold: i32 = 64035;
/** The output descriptor (OUT_SIZE bytes, laid out by index.ts). */
export let outDesc: usize = 0;
let now: f64 = 0;
/** Frames pushed so far over the engine's life: during pushFrame, the index of the frame in hand. */
let frameIndex: f64 = 0;
/** The frame in hand's place on the ring's account (ring.ts ringCharge): an aggregate it starts records it. */
export let frameAt: f64 = 0;
let batchIndex: i32 = 0;

/** The engine clock and the frame count start at 0. */
export function clockReset(): void {
  now = 0;
  frameIndex = 0;
}

@inline function deadline(period: f64): f64 {
  return min(now + period, MAX_TIME);
}

/** 710: the frame at b (`len` bytes staged of `fullLen`, batch slot `slot`) arrives at time t. */
@inline export function pushFrame(b: usize, len: i32, fullLen: i32, t: f64, slot: i32): void {
  frameAt = ringCharge(<u32>len);
  arrive(b, len, fullLen, t, slot);
  frameIndex += 1; // after the frame: while it was processed, frameIndex was its index
}

/** pushFrame's body: fire the deadlines up to t, then FIG. 7 for this frame. */
function arrive(b: usize, len: i32, fullLen: i32, t: f64, slot: i32): void {
  advance(t);
  batchIndex = slot;
  S.count(S.STAT_PACKETS_IN);
  S.count(S.STAT_BYTES_IN, <f64>fullLen);
  const cls = P.parse(b, len, fullLen); // 712-714
  if (cls == P.CLASS_OTHER) return passInput(fullLen, 0, P.cause);
  const k = P.keyScratch;
  let f = lookup(k); // 716-722
  if (cls != P.CLASS_CANDIDATE || P.payloadLen == 0) {
    // Not aggregable, but it may belong to a connection: keep per-connection order.
    if (f != NONE) touch(f);
    return cannotJoin(f, fullLen, cls == P.CLASS_CANDIDATE ? CAUSE_NO_PAYLOAD : P.cause);
  }
  if (f == NONE) {
    if (!P.verifyPayload(b)) return passInput(fullLen, P.payloadLen, CAUSE_BAD_TCP_CHECKSUM); // 714
    if (active == maxFlows) { // 726: no room, Simple NIC path
      S.count(S.STAT_TABLE_FULL);
      return passInput(fullLen, P.payloadLen, CAUSE_TABLE_FULL);
    }
    f = tableInsert(k); // 728
    S.count(S.STAT_FLOWS_CREATED);
    timerSet(DEL_TIMER, f, deadline(delPeriod), false); // 724
  } else {
    touch(f); // 724
  }
  // From here a bad payload checksum (714, verified as late as possible: as it joins)
  // and a segment whose own fields forbid aggregation (732, FIG. 4 424-428) take the same path.
  const forbid = ownFieldsForbid(b);
  if (forbid != NO_CAUSE) return cannotJoin(f, fullLen, forbid);
  const r = flowPtr(f);
  let joined = false;
  if (load<u32>(r, F_SEGMENTS) != 0) {
    const reason = mismatch(f, b); // 736-741
    if (reason == 0) {
      if (!aggAppend(f, b)) return cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM); // 745
      joined = true;
    } else {
      if (!P.verifyPayload(b)) return cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM);
      send(f, reason, now); // 746-750
    }
  }
  if (!joined) { // 742
    if (!pendingFree()) { // every descriptor holds an aggregate (maxPending < maxFlows): free the oldest
      if (!P.verifyPayload(b)) return cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM);
      send(agHead, REASON_CAPACITY, now);
    }
    if (!aggStart(f, b, frameAt)) return cannotJoin(f, fullLen, CAUSE_BAD_TCP_CHECKSUM); // 744-745
    // The AgTimer list stays in start order, so its head is the first pending index (firstPendingIndex).
    if (!ASC_NO_ASSERT) assert(agTail == NONE || load<f64>(pendingPtr(agTail), PD_INDEX) < frameIndex, 'AgTimer list out of start order');
    const s = pendingPtr(f);
    store<f64>(s, frameIndex, PD_INDEX);
    store<f64>(s, now, PD_TIME);
    timerSet(AG_TIMER, f, deadline(agPeriod), false); // 743
  }
  if ((P.flags & FIN) != 0) { // 752: FIN ends the aggregate and the connection (758)
    send(f, REASON_FIN, now);
    return deleteFlow(f);
  }
  if (gro) {
    if ((P.flags & PSH) != 0 && !throughput) return send(f, REASON_PSH, now);
    if (<u32>P.payloadLen < load<u32>(r, F_MSS)) return send(f, REASON_SHORT, now);
  }
  if (<i32>load<u32>(r, F_IP_SIZE) > threshold) send(f, REASON_THRESHOLD, now); // 754-756
}

/** Move the clock to t (floored, never backwards) and fire every deadline ≤ t in order. */
export function advance(t: f64): void {
  let x = Math.floor(t);
  if (!(x >= now)) {
    S.count(S.STAT_CLOCK_CLAMPED);
    x = now;
  }
  if (x > MAX_TIME) x = MAX_TIME;
  now = x;
  for (;;) {
    const a = agHead;
    const d = delHead;
    const agAt = a == NONE ? Infinity : deadlineOf(AG_TIMER, a);
    const delAt = d == NONE ? Infinity : deadlineOf(DEL_TIMER, d);
    if (agAt <= delAt) { // equal deadlines: the aggregate that started first goes first
      if (agAt > x) return;
      send(a, REASON_AG_TIMER, agAt); // 780-784
    } else {
      if (delAt > x) return;
      send(d, REASON_DEL_TIMER, delAt); // 790-794
      deleteFlow(d);
    }
  }
}

/** The earliest AgTimer or DelTimer deadline, or Infinity. */
export function nextDeadline(): f64 {
  const agAt = agHead == NONE ? Infinity : deadlineOf(AG_TIMER, agHead);
  const delAt = delHead == NONE ? Infinity : deadlineOf(DEL_TIMER, delHead);
  return min(agAt, delAt);
}

/** Send every pending aggregate in start order (flush / close / end of input). */
export function flushAll(reason: i32): void {
  for (let f = agHead; f != NONE; f = agHead) send(f, reason, now);
}

/**
 * The inputIndex of the oldest pending aggregate (the head of the AgTimer list, which is in start
 * order), or when none is pending the index the next frame gets (in a push: the frame in hand).
 * No packet sent later has a smaller inputIndex. Reads only: callable from within emit*.
 */
export function firstPendingIndex(): f64 {
  return agHead == NONE ? frameIndex : load<f64>(pendingPtr(agHead), PD_INDEX);
}

/** The oldest pending aggregate held in the ring (not in a build area: at most BUILD_AREAS are skipped), or NONE. */
function oldestHeld(): i32 {
  if (heldInRing == 0) return NONE;
  let a = agHead;
  while (a != NONE && load<i32>(pendingPtr(a), PD_AREA) >= 0) a = agNextOf(a);
  return a;
}

/**
 * Before the next frame, of account cost `cost` and time t, is staged (ring.ts): first the
 * deadlines ≤ t fire, as its push fires them before anything else (CONTRACT §4 Timers; a time
 * behind the clock is left to its push, which counts it), then while it would pass the oldest held
 * aggregate's place on the account + ringSize − RING_MARGIN, that aggregate is sent (reason
 * `capacity`). Returns the account cost the next frames may take from here (at most
 * ringSize − RING_MARGIN): a chunk staged within it needs no early send.
 */
export function ringMakeRoom(cost: u32, t: f64): f64 {
  if (Math.floor(t) > now) advance(t);
  const limit = <f64>(ringSize - RING_MARGIN);
  for (;;) {
    const oldest = oldestHeld();
    if (oldest == NONE) return limit;
    const room = load<f64>(pendingPtr(oldest), PD_AT) + limit - ringUsed;
    if (room >= <f64>cost) return min(room, limit);
    send(oldest, REASON_CAPACITY, now);
  }
  return limit; // unreachable
}

/**
 * A window of at least `need` bytes (≤ ringSize) at the ring's head for the next frames (ring.ts),
 * returned as its start (ringWindowEnd: its end), after ringMakeRoom. Nothing held: the whole
 * ring, from 0. Else the free bytes after the head, or from 0 up to the tail (the oldest held
 * aggregate's first segment) when the end of the ring is too short. The account's margin makes
 * one of them long enough; were neither, the oldest held aggregate would be sent first
 * (`capacity`; the debug build asserts it never is).
 */
export function ringReserve(need: u32): u32 {
  for (;;) {
    const oldest = oldestHeld();
    if (oldest == NONE) {
      ringOpen(0, ringSize);
      break;
    }
    const tail = load<u32>(flowPtr(oldest), F_FRAME) - <u32>ringBase; // its first segment
    if (tail >= head) { // wrapped: held from the tail to where the head wrapped, and from 0 to the head
      if (tail - head >= need) {
        ringOpen(head, tail);
        break;
      }
    } else if (ringSize - head >= need) {
      ringOpen(head, ringSize);
      break;
    } else if (tail >= need) {
      ringOpen(0, tail);
      break;
    }
    if (!ASC_NO_ASSERT) assert(false, 'ringReserve: no window although the account had room');
    send(oldest, REASON_CAPACITY, now);
  }
  return head;
}

/**
 * The frame passes through for `cause` (reason.ts CAUSE_*); if it belongs to connection f (NONE:
 * to none), f's run ends first.
 */
function cannotJoin(f: i32, fullLen: i32, cause: i32): void {
  if (f != NONE) endSegmentRun(f, P.flags);
  passInput(fullLen, P.payloadLen, cause);
}

/** A frame of connection f that cannot join: send its aggregate first; FIN / RST delete it (758). */
function endSegmentRun(f: i32, flags: u32): void {
  const reason = (flags & RST) != 0 ? REASON_RST : (flags & FIN) != 0 ? REASON_FIN : REASON_NON_CANDIDATE;
  send(f, reason, now);
  if (reason != REASON_NON_CANDIDATE) deleteFlow(f);
}

/** 724: restart the DelTimer. */
@inline function touch(f: i32): void {
  timerSet(DEL_TIMER, f, deadline(delPeriod), true);
}

/** "Sending AgPacket" (760-768): finish flow f's aggregate and hand it out. */
function send(f: i32, reason: i32, time: f64): void {
  const r = flowPtr(f);
  const segments = load<u32>(r, F_SEGMENTS);
  if (segments == 0) return; // 762: connection buffer empty
  if (!ASC_NO_ASSERT) assert(load<i32>(r, F_PENDING) != NONE, 'send: a pending aggregate without a descriptor');
  const length = aggFinish(f);
  S.count(S.STAT_PACKETS_OUT);
  S.count(S.STAT_AGGREGATES);
  S.count(S.STAT_SEGMENTS_AGGREGATED, <f64>segments);
  S.count(S.STAT_BYTES_OUT, <f64>length);
  S.count(S.STAT_REASONS + reason);
  store<u32>(r, 0, F_SEGMENTS);
  timerStop(AG_TIMER, f); // before the sink runs: firstPendingIndex() no longer counts it
  let flags = P.verifyChecksums ? OUT_VERIFIED : 0; // every segment was verified as it joined
  if (segments < 2 || fixChecksums) flags |= OUT_CHECKSUMS_FIXED;
  if (segments >= 2 && load<u8>(r, F_FIXED_ID) != 0) flags |= OUT_FIXED_IP_ID;
  const l4 = <u32>load<u16>(r, F_L4);
  const s = pendingPtr(f);
  describe(load<f64>(s, PD_INDEX), load<f64>(s, PD_TIME), time, segments, load<u32>(r, F_MSS), reason,
    <u32>load<u8>(r, F_IP_VERSION), l4, l4 + <u32>load<u8>(r, F_TCP_HDR_LEN), flags);
  pendingRelease(f); // its bytes stay where they are until the next window is handed out, which no sink can cause
  emitAggregate(outPtr, length);
}

function deleteFlow(f: i32): void {
  timerStop(DEL_TIMER, f);
  tableRemove(f);
  S.count(S.STAT_FLOWS_DELETED);
}

/** 730, 766: the Simple NIC path, for `cause` (counted: the causes sum to the pass-through count). */
function passInput(length: i32, mss: i32, cause: i32): void {
  if (!ASC_NO_ASSERT) assert(cause >= 0 && cause < CAUSE_COUNT, 'passInput: no pass-through cause');
  S.count(S.STAT_PACKETS_OUT);
  S.count(S.STAT_PASSED_THROUGH);
  S.count(S.STAT_BYTES_OUT, <f64>length);
  S.count(S.STAT_REASONS + REASON_PASS_THROUGH);
  S.count(S.STAT_CAUSES + cause);
  describe(frameIndex, now, now, 1, <u32>mss, REASON_PASS_THROUGH, <u32>P.ipVersion, <u32>P.l4, <u32>P.headerLength,
    OUT_CHECKSUMS_FIXED);
  emitInput(batchIndex);
}

/** What the packet about to be emitted says about itself, into the output descriptor. */
@inline function describe(index: f64, firstTime: f64, time: f64, segments: u32, mss: u32, reason: i32,
  ipVersion: u32, tcpOffset: u32, headerLength: u32, flags: u32): void {
  const d = outDesc;
  store<f64>(d, index, OUT_INDEX);
  store<f64>(d, firstTime, OUT_FIRST_TIME);
  store<f64>(d, time, OUT_TIME);
  store<u32>(d, segments, OUT_SEGMENTS);
  store<u32>(d, mss, OUT_MSS);
  store<u32>(d, reason, OUT_REASON);
  store<u32>(d, ipVersion, OUT_IP_VERSION);
  store<u32>(d, tcpOffset, OUT_TCP_OFFSET);
  store<u32>(d, headerLength, OUT_HEADER_LENGTH);
  store<u32>(d, flags, OUT_FLAGS);
}
