// AgTimer and DelTimer (743, 724, 780, 790) as deadline-ordered intrusive lists
// (twin of assembly/timers.ts). Each timer has a fixed period and the clock never goes back,
// so appending at the tail keeps a list sorted by deadline: the head is always the next to pop.

export const NONE = -1;

export class TimerList {
  readonly deadline: Float64Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  head = NONE;
  tail = NONE;

  constructor(maxFlows: number) {
    this.deadline = new Float64Array(maxFlows);
    this.prev = new Int32Array(maxFlows).fill(NONE);
    this.next = new Int32Array(maxFlows).fill(NONE);
  }

  /** The flow whose timer was set after f's (the next in the list), or NONE. */
  nextOf(f: number): number {
    return this.next[f];
  }

  /** Start (or restart) flow f's timer: it pops at `deadline`, after every timer already set. */
  set(f: number, deadline: number, running: boolean): void {
    this.deadline[f] = deadline;
    if (running && f === this.tail) return; // already last: a later deadline keeps the order
    if (running) this.stop(f);
    this.prev[f] = this.tail;
    this.next[f] = NONE;
    if (this.tail === NONE) this.head = f;
    else this.next[this.tail] = f;
    this.tail = f;
  }

  stop(f: number): void {
    const p = this.prev[f];
    const n = this.next[f];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[f] = NONE;
    this.next[f] = NONE;
  }
}
