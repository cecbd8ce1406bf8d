// The WASM export surface: numbers only. bindings/engine/wasm.ts owns every JS object.
//
// Linear memory, laid out once by init() from __heap_base; it never grows afterwards:
// ┌────────┬───────┬──────┬──────────┬────────┬──────────┬──────────┬───────────┬─────────────┬─────────────┬────────┬─────────────┬─────────────┐
// │ stats  │ key   │ out  │ slots    │ free   │ hints    │ flows    │ pend free │ pending     │ areas, gath │ ring   │ stage: desc │ stage: data │
// │ f64 ×40│ 40+8 B│ 56 B │ 8 B ×2^k │ i32 ×N │ 8 B ×1024│ 128 B ×N │ i32 ×P    │ 40 B ×P     │ bufCap×(A+1)│ R      │ 24 B ×BATCH │ STAGE_BYTES │
// └────────┴───────┴──────┴──────────┴────────┴──────────┴──────────┴───────────┴─────────────┴─────────────┴────────┴─────────────┴─────────────┘
// N = maxFlows, P = maxPending, R = ringBytes; out: the output descriptor (below); slots, free,
// hints: flow-table.ts; flows: flow.ts; pending: pending.ts; areas, gather: aggregate.ts (A =
// min(P, BUILD_AREAS) build areas, with a free stack of i32 × A, and the area the aggregates held
// in the ring are gathered into at send); ring: ring.ts (frames are staged there by the bindings
// and held there while pending); stage: the batch descriptors, and stagingArea() (pushStaged's
// frames are copied from it into the ring).
// Batch descriptor (24 B): offset u32 (from the ring's start) │ staged u32 │ length u32 │ pad │ time f64.
//
// Output descriptor (OUT_SIZE = 56 B, engine.ts OUT_*): what the packet being emitted says about
// itself (CONTRACT §5), written just before each emitAggregate / emitInput and read by
// bindings/engine/queue.ts during that call. Offsets in bytes:
// ┌────┬──────────────────────────────────────────────────────────────────────────────────┐
// │  0 │ inputIndex f64    frames pushed before the packet's first segment                │
// │  8 │ firstTime f64     engine clock when its first segment was pushed                 │
// │ 16 │ time f64          engine clock when it is sent                                   │
// │ 24 │ segments u32 │ 28 mss u32 │ 32 reason u32 │ 36 ipVersion u32 (4, 6, 0)           │
// │ 40 │ tcpOffset u32 │ 44 headerLength u32 (tcpOffset + TCP header; 0: not all there)   │
// │ 48 │ flags u32: 1 checksumsFixed │ 2 verified │ 4 fixedIpId │ 52 pad u32              │
// └────┴──────────────────────────────────────────────────────────────────────────────────┘
import * as A from './aggregate';
import * as E from './engine';
import * as F from './flow';
import * as T from './flow-table';
import * as P from './parse';
import * as D from './pending';
import * as R from './ring';
import * as S from './stats';
import { timersInit } from './timers';

// The staging contract: each must equal the same name in bindings/abi.ts (AssemblyScript cannot
// import TypeScript); test/abi.test.ts checks.
const MAX_BATCH: i32 = 1024;
const DESC_SIZE: usize = 24;
const DESC_OFFSET: usize = 0;
const DESC_STAGED: usize = 4;
const DESC_LENGTH: usize = 8;
const DESC_TIME: usize = 16;
const STAGE_BYTES: i32 = 1 << 20;

let stageDesc: usize = 0;
let stageData: usize = 0;

/** Lay out every region; returns the first byte past the end (in u64: it may not fit in 4 GiB). */
function layout(flows: i32, pending: i32, maxAgg: i32, ring: u32): u64 {
  let p = align64(<u64>__heap_base, 64);
  S.statsBase = <usize>p;
  p += <u64>S.STAT_COUNT << 3;
  p = align64(p, 16);
  P.keyScratch = <usize>p;
  p = align64(p + 48, 16);
  E.outDesc = <usize>p;
  p = align64(p + <u64>E.OUT_SIZE, 16);
  T.slotsBase = <usize>p;
  p = align64(p + (<u64>T.slotCount(flows) << 3), 16);
  T.freeBase = <usize>p;
  p = align64(p + (<u64>flows << 2), 64);
  T.hintsBase = <usize>p;
  p = align64(p + (<u64>T.HINTS << 3), 64);
  F.flowsBase = <usize>p;
  p += <u64>flows * <u64>F.FLOW_SIZE;
  D.pendingFreeBase = <usize>p;
  p = align64(p + (<u64>pending << 2), 64);
  D.pendingBase = <usize>p;
  p = align64(p + <u64>pending * <u64>D.PENDING_SIZE, 64);
  A.outCap = <usize>A.bufferCapacity(maxAgg);
  const areas = min(pending, A.BUILD_AREAS);
  A.areasFreeBase = <usize>p;
  p = align64(p + (<u64>areas << 2), 64);
  A.areasBase = <usize>p;
  p = align64(p + <u64>areas * <u64>A.outCap, 64);
  A.gatherBase = <usize>p;
  p = align64(p + <u64>A.outCap, 64);
  R.ringBase = <usize>p;
  p = align64(p + <u64>(ring & ~7), 64);
  stageDesc = <usize>p;
  p = align64(p + <u64>MAX_BATCH * <u64>DESC_SIZE, 64);
  stageData = <usize>p;
  return p + <u64>STAGE_BYTES;
}

@inline function align64(p: u64, to: u64): u64 {
  return (p + to - 1) & ~(to - 1);
}

/** Bytes of linear memory an engine with these options needs (call before creating it). */
export function memoryNeeded(flows: i32, pending: i32, maxAgg: i32, ring: u32): f64 {
  return <f64>layout(flows, pending, maxAgg, ring);
}

/** Set up an engine in this instance's memory. Returns 0, or 1 if the memory is too small. */
export function init(flows: i32, pending: i32, maxAgg: i32, ring: u32, maxFrame: i32, threshold: i32, agPeriodUs: f64,
  delPeriodUs: f64, preset: i32, verify: i32, fix: i32, seed: u32, linkType: i32): i32 {
  const end = layout(flows, pending, maxAgg, ring);
  if (end > (<u64>memory.size() << 16)) return 1;
  memory.fill(S.statsBase, 0, <usize>S.STAT_COUNT << 3);
  T.tableInit(flows, seed);
  D.pendingInit(pending);
  R.ringInit(ring & ~7);
  A.areasInit(min(pending, A.BUILD_AREAS));
  timersInit();
  E.clockReset();
  A.maxAggregate = maxAgg;
  A.maxFrame = maxFrame;
  A.setPreset(preset);
  A.fixChecksums = fix != 0;
  P.verifyChecksums = verify != 0;
  P.linkType = linkType;
  E.threshold = threshold;
  E.agPeriod = agPeriodUs;
  E.delPeriod = delPeriodUs;
  return 0;
}

export function stageDataPtr(): usize {
  return stageData;
}

export function stageDescPtr(): usize {
  return stageDesc;
}

export function ringPtr(): usize {
  return R.ringBase;
}

/** Room on the ring's account for the next frames, the first of cost `cost` at time t (engine.ts ringMakeRoom). */
export function ringMakeRoom(cost: u32, t: f64): f64 {
  return E.ringMakeRoom(cost, t);
}

/** A window of at least `need` bytes at the ring's head (engine.ts ringReserve): its start, from the ring's. */
export function ringReserve(need: u32): u32 {
  return E.ringReserve(need);
}

export function ringWindowEnd(): u32 {
  return R.windowEnd;
}

export function stageBytes(): i32 {
  return STAGE_BYTES;
}

export function maxBatch(): i32 {
  return MAX_BATCH;
}

export function statsPtr(): usize {
  return S.statsBase;
}

export function outDescPtr(): usize {
  return E.outDesc;
}

export function flowsActive(): i32 {
  return T.active;
}

/** `count` frames described at stage desc (staged in the ring), in order. */
export function pushBatch(count: i32): void {
  const ring = R.ringBase;
  for (let i = 0; i < count; i++) {
    const d = stageDesc + <usize>i * DESC_SIZE;
    E.pushFrame(ring + <usize>load<u32>(d, DESC_OFFSET), <i32>load<u32>(d, DESC_STAGED),
      <i32>load<u32>(d, DESC_LENGTH), load<f64>(d, DESC_TIME), i);
  }
}

export function advance(t: f64): void {
  E.advance(t);
}

export function flush(reason: i32): void {
  E.flushAll(reason);
}

export function nextDeadline(): f64 {
  return E.nextDeadline();
}

export function firstPendingIndex(): f64 {
  return E.firstPendingIndex();
}
