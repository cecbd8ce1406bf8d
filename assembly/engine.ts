// The LR algorithm of FIG. 7 (twin: bindings/twin/engine.ts): one frame at a time, decisions as
// early returns, every packet handed to the bindings through the two imports below.
import {
  FIN, PSH, RST, aggAppend, aggFinish, aggStart, fixChecksums, gro, mismatch, ownFieldsForbid,
} from './aggregate';
import { bufferFree, bufferPtr, bufferRelease } from './buffers';
import { F_BUFFER, F_MSS, F_SEGMENTS, F_IP_SIZE, NONE, flowPtr } from './flow';
import { active, maxFlows, hashKey, tableFind, tableInsert, tableRemove } from './flow-table';
import * as P from './parse';
import {
  REASON_AG_TIMER, REASON_CAPACITY, REASON_DEL_TIMER, REASON_FIN, REASON_NON_CANDIDATE, REASON_PASS_THROUGH,
  REASON_PSH, REASON_RST, REASON_SHORT, REASON_THRESHOLD,
} from './reason';
import * as S from './stats';
import { AG_TIMER, DEL_TIMER, agHead, deadlineOf, delHead, timerSet, timerStop } from './timers';

/** A finished aggregate in linear memory; valid until the next call into the core. */
@external("env", "emitAggregate")
declare function emitAggregate(ptr: usize, length: i32, segments: i32, mss: i32, reason: i32,
  time: f64, checksumsFixed: i32): void;
/** The frame being processed (batch index `index`), unchanged. */
@external("env", "emitInput")
declare function emitInput(index: i32, mss: i32, reason: i32, time: f64): void;

/** Largest time on the engine clock (µs); deadlines saturate here. */
const MAX_TIME: f64 = 9007199254740991;

export let agPeriod: f64 = 1000;
export let delPeriod: f64 = 10000000;
export let threshold: i32 = 64035;
let now: f64 = 0;
let inputIndex: i32 = 0;

export function clockReset(): void {
  now = 0;
}

@inline function deadline(period: f64): f64 {
  return min(now + period, MAX_TIME);
}

/** 710: the frame at b (`len` bytes staged of `fullLen`) arrives at time t. */
export function pushFrame(b: usize, len: i32, fullLen: i32, t: f64, index: i32): void {
  advance(t);
  inputIndex = index;
  S.count(S.STAT_PACKETS_IN);
  S.count(S.STAT_BYTES_IN, <f64>fullLen);
  const cls = P.parse(b, len, fullLen); // 712-714
  if (cls == P.CLASS_OTHER) return passInput(fullLen, 0);
  const k = P.keyScratch;
  const h = hashKey(k); // 716
  let f = tableFind(k, h); // 718-722
  if (cls != P.CLASS_CANDIDATE || P.payloadLen == 0) {
    // Not aggregable, but it may belong to a connection: keep per-connection order.
    if (f != NONE) touch(f);
    return cannotJoin(f, fullLen);
  }
  if (f == NONE) {
    if (!P.verifyPayload(b)) return passInput(fullLen, P.payloadLen); // 714
    if (active == maxFlows) { // 726: no room, Simple NIC path
      S.count(S.STAT_TABLE_FULL);
      return passInput(fullLen, P.payloadLen);
    }
    f = tableInsert(k, h); // 728
    S.count(S.STAT_FLOWS_CREATED);
    timerSet(DEL_TIMER, f, deadline(delPeriod), false); // 724
  } else {
    touch(f); // 724
  }
  // From here a bad payload checksum (714, verified as late as possible, fused with the copy)
  // and a segment whose own fields forbid aggregation (732, FIG. 4 424-428) take the same path.
  if (ownFieldsForbid(b)) return cannotJoin(f, fullLen);
  const r = flowPtr(f);
  let joined = false;
  if (load<u32>(r, F_SEGMENTS) != 0) {
    const reason = mismatch(f, b); // 736-741
    if (reason == 0) {
      if (!aggAppend(f, b)) return cannotJoin(f, fullLen); // 745
      joined = true;
    } else {
      if (!P.verifyPayload(b)) return cannotJoin(f, fullLen);
      send(f, reason, now); // 746-750
    }
  }
  if (!joined) { // 742
    if (!bufferFree()) { // every buffer holds an aggregate (maxPending < maxFlows): free the oldest
      if (!P.verifyPayload(b)) return cannotJoin(f, fullLen);
      send(agHead, REASON_CAPACITY, now);
    }
    if (!aggStart(f, b)) return cannotJoin(f, fullLen); // 744-745
    timerSet(AG_TIMER, f, deadline(agPeriod), false); // 743
  }
  if ((P.flags & FIN) != 0) { // 752: FIN ends the aggregate and the connection (758)
    send(f, REASON_FIN, now);
    return deleteFlow(f);
  }
  if (gro) {
    if ((P.flags & PSH) != 0) return send(f, REASON_PSH, now);
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

/** The frame passes through; if it belongs to connection f (NONE: to none), f's run ends first. */
function cannotJoin(f: i32, fullLen: i32): void {
  if (f != NONE) endSegmentRun(f, P.flags);
  passInput(fullLen, P.payloadLen);
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
  if (!ASC_NO_ASSERT) assert(load<i32>(r, F_BUFFER) != NONE, 'send: a pending aggregate without a buffer');
  const length = aggFinish(f);
  S.count(S.STAT_PACKETS_OUT);
  S.count(S.STAT_AGGREGATES);
  S.count(S.STAT_SEGMENTS_AGGREGATED, <f64>segments);
  S.count(S.STAT_BYTES_OUT, <f64>length);
  S.count(S.STAT_REASONS + reason);
  store<u32>(r, 0, F_SEGMENTS);
  timerStop(AG_TIMER, f);
  emitAggregate(bufferPtr(f), length, <i32>segments, <i32>load<u32>(r, F_MSS), reason, time,
    segments < 2 || fixChecksums ? 1 : 0);
  bufferRelease(f); // after the sink has seen it
}

function deleteFlow(f: i32): void {
  timerStop(DEL_TIMER, f);
  tableRemove(f);
  S.count(S.STAT_FLOWS_DELETED);
}

/** 730, 766: the Simple NIC path. */
function passInput(length: i32, mss: i32): void {
  S.count(S.STAT_PACKETS_OUT);
  S.count(S.STAT_PASSED_THROUGH);
  S.count(S.STAT_BYTES_OUT, <f64>length);
  S.count(S.STAT_REASONS + REASON_PASS_THROUGH);
  emitInput(inputIndex, mss, REASON_PASS_THROUGH, now);
}
