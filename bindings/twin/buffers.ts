// Connection buffers (618), pooled (twin of assembly/buffers.ts). A flow holds a buffer only while
// it has a pending aggregate, so memory follows `maxPending` (aggregates held at once) rather than
// `maxFlows` (connections tracked). With maxPending = maxFlows (the default) a buffer is always
// free when a flow needs one; with fewer, the engine sends the oldest pending aggregate to free
// one (engine.ts, reason `capacity`), as Linux GRO flushes its oldest packet when a list is full.
//
// bytes: bufferCap bytes × maxPending (the core's buffersBase).
// free:  a stack of unused buffer indices (bufferFreeBase). The buffer freed last is lent next.
// index: per flow, the buffer lent to it, NONE if none (the core's F_BUFFER field).
// starts: per buffer, where the pending aggregate in it started (firstIndex, firstTime: the core's
//         start records), what it says about itself (CONTRACT §5), never aggregation input.
import { NONE } from './timers.js';

export class Buffers {
  /** Every buffer, back to back: flow f's starts at bufferPtr(f). */
  readonly bytes: Uint8Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly index: Int32Array;
  readonly firstIndex: Float64Array; // inputIndex of the first segment (engine.ts frameIndex)
  readonly firstTime: Float64Array; //  engine clock when that segment was pushed

  /** buffersInit: `pending` buffers of `bufferCap` bytes (abi.ts bufferCapacity), all free. */
  constructor(
    maxFlows: number,
    pending: number,
    readonly bufferCap: number,
  ) {
    this.bytes = new Uint8Array(pending * bufferCap);
    this.free = new Int32Array(pending);
    for (let i = 0; i < pending; i++) this.free[i] = pending - 1 - i;
    this.freeTop = pending;
    this.index = new Int32Array(maxFlows).fill(NONE);
    this.firstIndex = new Float64Array(pending);
    this.firstTime = new Float64Array(pending);
  }

  /** A buffer is free for a new aggregate. */
  bufferFree(): boolean {
    return this.freeTop !== 0;
  }

  /** Lend flow f a buffer (one must be free). */
  bufferAcquire(f: number): void {
    this.index[f] = this.free[--this.freeTop];
  }

  /** Flow f's aggregate is sent: its buffer goes back on the stack. */
  bufferRelease(f: number): void {
    this.free[this.freeTop++] = this.index[f];
    this.index[f] = NONE;
  }

  /** Flow f's buffer: its start in `bytes` (valid while it has a pending aggregate). */
  bufferPtr(f: number): number {
    return this.index[f] * this.bufferCap;
  }

  /** Flow f's buffer's start record: its slot in firstIndex / firstTime (valid while it has a pending aggregate). */
  bufferStart(f: number): number {
    return this.index[f];
  }
}
