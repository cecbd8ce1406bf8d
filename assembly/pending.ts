// Pending-aggregate descriptors (618), pooled (twin: bindings/twin/pending.ts). A flow holds a
// descriptor only while it has a pending aggregate. The aggregate's bytes are not here: its
// segments stay in the staging ring where they were staged (ring.ts), and the descriptor says
// where (or which build area it is built in, aggregate.ts). A descriptor is 40 bytes, so maxPending (default maxFlows) costs little; with fewer
// descriptors than flows, a new aggregate that finds none free first sends the oldest pending one
// (engine.ts, reason `capacity`), as Linux GRO flushes its oldest packet when a list is full.
//
// free:        i32 × maxPending at pendingFreeBase, a stack of unused descriptor indices.
// descriptors: PENDING_SIZE bytes × maxPending at pendingBase:
//          ┌────┬──────────────────────────────────────────────────────────────────────────┐
//          │  0 │ firstIndex f64  inputIndex of its first segment (engine.ts)              │
//          │  8 │ firstTime f64   engine clock when that segment was pushed                │
//          │ 16 │ at f64          the ring's account (ring.ts ringUsed) when its first       │
//          │    │                 segment arrived                                          │
//          │ 24 │ pad u32         (where its first segment lies: the flow's F_FRAME)        │
//          │ 28 │ chain u32       ring offset of the second segment's frame (its node), or  │
//          │    │                 RING_NONE; each node links the next (ring.ts NODE_*)     │
//          │ 32 │ last u32        ring offset of the last segment's node (chain's tail)     │
//          │ 36 │ area i32        its build area (aggregate.ts), or -1: held in the ring    │
//          └────┴──────────────────────────────────────────────────────────────────────────┘
// firstIndex and firstTime are what the aggregate says about itself (CONTRACT §5), never
// aggregation input.
import { F_PENDING, NONE, flowPtr } from './flow';

export const PENDING_SIZE: usize = 40;
export const PD_INDEX: usize = 0;
export const PD_TIME: usize = 8;
export const PD_AT: usize = 16;
export const PD_CHAIN: usize = 28;
export const PD_LAST: usize = 32;
export const PD_AREA: usize = 36;

export let pendingBase: usize = 0;
export let pendingFreeBase: usize = 0;
let freeTop: i32 = 0;

export function pendingInit(pending: i32): void {
  for (let i = 0; i < pending; i++) store<i32>(pendingFreeBase + (<usize>i << 2), pending - 1 - i);
  freeTop = pending;
}

@inline export function pendingFree(): bool {
  return freeTop != 0;
}

/** Lend flow f a descriptor (one must be free). */
export function pendingAcquire(f: i32): void {
  // Invariants of the core are checked in the debug build only (npm run test:debug). Release has
  // noAssert, but noAssert alone keeps the asserted expression (assert returns it) and Binaryen
  // keeps a dropped load (it may trap): `if (!ASC_NO_ASSERT)` leaves nothing in build/lro.wasm.
  if (!ASC_NO_ASSERT) assert(freeTop > 0, 'pendingAcquire: no descriptor free');
  freeTop--;
  store<i32>(flowPtr(f), load<i32>(pendingFreeBase + (<usize>freeTop << 2)), F_PENDING);
}

/** Flow f's aggregate is sent: its descriptor goes back on the stack. */
export function pendingRelease(f: i32): void {
  const r = flowPtr(f);
  if (!ASC_NO_ASSERT) assert(load<i32>(r, F_PENDING) != NONE, 'pendingRelease: the flow holds no descriptor');
  store<i32>(pendingFreeBase + (<usize>freeTop << 2), load<i32>(r, F_PENDING));
  freeTop++;
  store<i32>(r, NONE, F_PENDING);
}

/** Flow f's descriptor (valid while it has a pending aggregate). */
@inline export function pendingPtr(f: i32): usize {
  return pendingBase + <usize>load<i32>(flowPtr(f), F_PENDING) * PENDING_SIZE;
}
