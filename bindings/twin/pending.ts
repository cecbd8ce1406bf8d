// Pending-aggregate descriptors (618), pooled (twin of assembly/pending.ts). A flow holds a
// descriptor only while it has a pending aggregate. The aggregate's bytes are not here: its
// segments stay in the staging ring where they were staged (ring.ts), and the descriptor says
// where. With fewer descriptors than flows (maxPending), a new aggregate that finds none free
// first sends the oldest pending one (engine.ts, reason `capacity`), as Linux GRO flushes its
// oldest packet when a list is full.
//
// free:  a stack of unused descriptor indices (the core's pendingFreeBase).
// index: per flow, the descriptor lent to it, NONE if none (the core's F_PENDING field).
// Per descriptor (the core's PD_* fields): firstIndex, firstTime (what the aggregate says about
// itself, CONTRACT §5, never aggregation input); accountAt (the ring's account when its first
// segment arrived); first (ring offset of the first segment's frame);
// chain, last (ring offsets of the second and the last segment's nodes, RING_NONE if none).
import { NONE } from './timers.js';
import { RING_NONE } from './ring.js';

export class Pending {
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly index: Int32Array;
  readonly firstIndex: Float64Array; // inputIndex of the first segment (engine.ts frameIndex)
  readonly firstTime: Float64Array; //  engine clock when that segment was pushed
  readonly accountAt: Float64Array;
  /** Its build area (aggregate.ts), or -1: held in the ring. */
  readonly area: Int32Array;
  readonly first: Uint32Array;
  readonly chain: Uint32Array;
  readonly last: Uint32Array;

  /** pendingInit: `pending` descriptors, all free. */
  constructor(maxFlows: number, pending: number) {
    this.free = new Int32Array(pending);
    for (let i = 0; i < pending; i++) this.free[i] = pending - 1 - i;
    this.freeTop = pending;
    this.index = new Int32Array(maxFlows).fill(NONE);
    this.firstIndex = new Float64Array(pending);
    this.firstTime = new Float64Array(pending);
    this.accountAt = new Float64Array(pending);
    this.area = new Int32Array(pending).fill(-1);
    this.first = new Uint32Array(pending);
    this.chain = new Uint32Array(pending).fill(RING_NONE);
    this.last = new Uint32Array(pending).fill(RING_NONE);
  }

  /** A descriptor is free for a new aggregate. */
  pendingFree(): boolean {
    return this.freeTop !== 0;
  }

  /** Lend flow f a descriptor (one must be free). */
  pendingAcquire(f: number): void {
    this.index[f] = this.free[--this.freeTop];
  }

  /** Flow f's aggregate is sent: its descriptor goes back on the stack. */
  pendingRelease(f: number): void {
    this.free[this.freeTop++] = this.index[f];
    this.index[f] = NONE;
  }

  /** Flow f's descriptor: its slot in the arrays above (valid while it has a pending aggregate). */
  pendingPtr(f: number): number {
    return this.index[f];
  }
}
