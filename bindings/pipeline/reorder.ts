// Packets held back so the output stays in input order (CONTRACT §7 "Capture fidelity"): each
// output packet is written at the position of its first segment, but the engines send packets
// when their aggregates end, so a packet may come out while an older aggregate is still pending.
// Such a packet waits here — its bytes copied, since the engine's view is valid only during its
// sink call — until every earlier position is resolved. How long that takes is bounded by the
// AgTimer (the oldest pending aggregate is sent at most aggregateTimeoutUs after it started).
//
// Held packets are a binary min-heap by position in typed arrays, their bytes in one arena that
// grows (and is compacted) as needed: nothing is allocated per packet.

export class ReorderBuffer {
  private pos = new Float64Array(64);
  private start = new Int32Array(64);
  private length = new Int32Array(64);
  private tag = new Int32Array(64);
  private count = 0;
  private arena: Uint8Array;
  private used = 0;

  constructor(arenaBytes = 1 << 20) {
    this.arena = new Uint8Array(arenaBytes);
  }

  /** Packets held. */
  get size(): number {
    return this.count;
  }

  /** The smallest position held, or Infinity. */
  minPosition(): number {
    return this.count === 0 ? Infinity : this.pos[0];
  }

  /** Hold a copy of `data` for position `position`, with a caller's `tag`. */
  hold(position: number, data: Uint8Array, tag: number): void {
    if (this.count === this.pos.length) this.growSlots();
    if (this.used + data.length > this.arena.length) this.makeRoom(data.length);
    const at = this.used;
    this.arena.set(data, at);
    this.used += data.length;
    // Sift up.
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.pos[parent] <= position) break;
      this.move(parent, i);
      i = parent;
    }
    this.pos[i] = position;
    this.start[i] = at;
    this.length[i] = data.length;
    this.tag[i] = tag;
  }

  /**
   * Hand every held packet with a position below `limit` to `write`, in position order. The view
   * is valid only during the call.
   */
  release(limit: number, write: (position: number, data: Uint8Array, tag: number) => void): void {
    while (this.count > 0 && this.pos[0] < limit) {
      const position = this.pos[0];
      const at = this.start[0];
      const n = this.length[0];
      const tag = this.tag[0];
      this.removeHead();
      write(position, this.arena.subarray(at, at + n), tag);
    }
    if (this.count === 0) this.used = 0; // nothing live: the arena starts over
  }

  private removeHead(): void {
    const last = --this.count;
    if (last === 0) return;
    const position = this.pos[last];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= last) break;
      const r = l + 1;
      const c = r < last && this.pos[r] < this.pos[l] ? r : l;
      if (this.pos[c] >= position) break;
      this.move(c, i);
      i = c;
    }
    this.move(last, i);
  }

  private move(from: number, to: number): void {
    this.pos[to] = this.pos[from];
    this.start[to] = this.start[from];
    this.length[to] = this.length[from];
    this.tag[to] = this.tag[from];
  }

  private growSlots(): void {
    const n = this.pos.length * 2;
    const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.pos = grow(this.pos, (k) => new Float64Array(k));
    this.start = grow(this.start, (k) => new Int32Array(k));
    this.length = grow(this.length, (k) => new Int32Array(k));
    this.tag = grow(this.tag, (k) => new Int32Array(k));
  }

  /** Compact the live bytes to the front of an arena with room for `need` more (grown if needed). */
  private makeRoom(need: number): void {
    let live = 0;
    for (let i = 0; i < this.count; i++) live += this.length[i];
    const size = live + need > this.arena.length / 2 ? Math.max(this.arena.length * 2, 2 * (live + need)) : this.arena.length;
    const next = new Uint8Array(size);
    let at = 0;
    for (let i = 0; i < this.count; i++) {
      next.set(this.arena.subarray(this.start[i], this.start[i] + this.length[i]), at);
      this.start[i] = at;
      at += this.length[i];
    }
    this.arena = next;
    this.used = at;
  }
}
