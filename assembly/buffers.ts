// Connection buffers (618), pooled (twin: bindings/twin/buffers.ts). A flow
// holds a buffer only while it has a pending aggregate, so memory follows `maxPending` (aggregates
// held at once) rather than `maxFlows` (connections tracked). With maxPending = maxFlows (the
// default) a buffer is always free when a flow needs one; with fewer, the engine sends the
// oldest pending aggregate to free one (engine.ts, reason `capacity`), as Linux GRO flushes its
// oldest packet when a list is full.
//
// buffers: bufferCap bytes × maxPending at buffersBase.
// free:    i32 × maxPending at bufferFreeBase, a stack of unused buffer indices. The buffer freed
//          last is lent next: it is the one most likely still in cache.
// starts:  START_SIZE bytes × maxPending at bufferStartsBase, one per buffer: where the pending
//          aggregate in it started, what it says about itself (CONTRACT §5), never aggregation input:
//          ┌───┬──────────────────────────────────────────────────────────────┐
//          │ 0 │ firstIndex f64  inputIndex of its first segment (engine.ts)  │
//          │ 8 │ firstTime f64   engine clock when that segment was pushed    │
//          └───┴──────────────────────────────────────────────────────────────┘
import { F_BUFFER, NONE, flowPtr } from './flow';

export const START_SIZE: usize = 16;
export const START_INDEX: usize = 0;
export const START_TIME: usize = 8;

export let buffersBase: usize = 0;
export let bufferFreeBase: usize = 0;
export let bufferStartsBase: usize = 0;
/** Bytes per buffer (aggregate.ts bufferCapacity). */
export let bufferCap: usize = 0;
let freeTop: i32 = 0;

export function buffersInit(pending: i32): void {
  for (let i = 0; i < pending; i++) store<i32>(bufferFreeBase + (<usize>i << 2), pending - 1 - i);
  freeTop = pending;
}

@inline export function bufferFree(): bool {
  return freeTop != 0;
}

/** Lend flow f a buffer (one must be free). */
export function bufferAcquire(f: i32): void {
  // Invariants of the core are checked in the debug build only (npm run test:debug). Release has
  // noAssert, but noAssert alone keeps the asserted expression (assert returns it) and Binaryen
  // keeps a dropped load (it may trap): `if (!ASC_NO_ASSERT)` leaves nothing in build/lro.wasm.
  if (!ASC_NO_ASSERT) assert(freeTop > 0, 'bufferAcquire: no buffer free');
  freeTop--;
  store<i32>(flowPtr(f), load<i32>(bufferFreeBase + (<usize>freeTop << 2)), F_BUFFER);
}

/** Flow f's aggregate is sent: its buffer goes back on the stack. */
export function bufferRelease(f: i32): void {
  const r = flowPtr(f);
  if (!ASC_NO_ASSERT) assert(load<i32>(r, F_BUFFER) != NONE, 'bufferRelease: the flow holds no buffer');
  store<i32>(bufferFreeBase + (<usize>freeTop << 2), load<i32>(r, F_BUFFER));
  freeTop++;
  store<i32>(r, NONE, F_BUFFER);
}

/** Flow f's buffer (valid while it has a pending aggregate). */
@inline export function bufferPtr(f: i32): usize {
  return buffersBase + <usize>load<i32>(flowPtr(f), F_BUFFER) * bufferCap;
}

/** The start record of flow f's buffer (valid while it has a pending aggregate). */
@inline export function bufferStart(f: i32): usize {
  return bufferStartsBase + <usize>load<i32>(flowPtr(f), F_BUFFER) * START_SIZE;
}
