// Which input record does a one-segment aggregate come from?
//
// The capture writer writes a packet either as an input record, unchanged (timestamp words at
// full resolution, pcapng options, block type) or as a new packet stamped with the engine's
// send time. A pass-through comes back from the engine as the very Uint8Array that was pushed,
// so the coalescer maps it to its record by identity. A one-segment aggregate is byte-identical
// to its input frame too, but it is sent later (AgTimer, a mismatch, end of input…) from the
// engine's own memory, so nothing says which record it was.
//
// This tracker answers that with the engine's ordering guarantee (CONTRACT §5: per connection,
// output order = input order): every frame the engine did not pass through is a segment of
// exactly one aggregate, and a connection's aggregates come out in the order of their
// segments. So the coalescer keeps, per connection, a FIFO of the records that may be
// absorbed; an aggregate of n segments pops n of them, and for n = 1 the popped record is
// the one to write back. Only pending segments are held (bounded by maxFlows × segments per
// aggregate), and only their small record objects: the bytes written are always the
// engine's own output, so a bookkeeping slip can never change packet bytes.
//
// Registration happens before a batch is pushed, for every frame that *looks* like a
// candidate with payload (a superset of what the engine absorbs); a registered frame that the
// engine passes through is removed when its pass-through comes back (it is then at the head of
// its FIFO: a frame that belongs to a connection sends the pending aggregate first). Every
// pop is checked: the aggregate's TCP sequence number must be the first popped entry's, and a
// one-segment aggregate must have the record's length. On any disagreement the entries are
// resynchronised by sequence number and the packet is written as a new packet with the
// engine's time (`fallbacks` counts it) — correct bytes, only the original timestamp lost.
//
// The connection key mirrors the engine's (assembly/parse.ts): IP version, VLAN id (Ethernet,
// one tag), addresses, ports. It is hashed to a 53-bit number; a collision between two live
// connections would only be caught by the sequence checks above.

import type { CaptureRecord } from '../capture/index.js';

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const NO_VLAN = 0xffff;

class Entry {
  constructor(
    readonly rec: CaptureRecord,
    /** Batch-global serial number of the frame (pass-through identity). */
    readonly serial: number,
    readonly seq: number,
    readonly len: number,
  ) {}
}

export class Fifo {
  items: Entry[] = [];
  head = 0;
  constructor(readonly key: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  shift(): Entry {
    const e = this.items[this.head++];
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }
}

export class FlowTracker {
  private readonly flows = new Map<number, Fifo>();
  /** Packets written as new packets because the bookkeeping disagreed (should stay 0). */
  fallbacks = 0;
  /** Entries dropped while resynchronising (should stay 0). */
  dropped = 0;
  // Results of the last keyOf().
  private kHash = 0;
  private kSeq = 0;

  /** @param linkType the engine's link type: 1, 113, 276 or 101. */
  constructor(private readonly linkType: number) {}

  /** Connections with pending entries. */
  get pendingFlows(): number {
    return this.flows.size;
  }

  /**
   * Remember `rec` (whose `data` is `frame`) if the frame could be absorbed by the engine.
   * Returns its FIFO (to hand to `passedThrough`), or null when it cannot be aggregated.
   */
  register(frame: Uint8Array, rec: CaptureRecord, serial: number): Fifo | null {
    if (!this.keyOf(frame, true)) return null;
    const key = this.kHash;
    let fifo = this.flows.get(key);
    if (fifo === undefined) {
      fifo = new Fifo(key);
      this.flows.set(key, fifo);
    }
    fifo.items.push(new Entry(rec, serial, this.kSeq, frame.length));
    return fifo;
  }

  /** The engine passed registered frame `serial` through: forget it. */
  passedThrough(fifo: Fifo, serial: number): void {
    if (fifo.size > 0 && fifo.items[fifo.head].serial === serial) {
      fifo.shift();
    } else {
      const i = fifo.items.findIndex((e, j) => j >= fifo.head && e.serial === serial);
      if (i >= 0) fifo.items.splice(i, 1);
      this.dropped++;
    }
    if (fifo.size === 0) this.forget(fifo);
  }

  /**
   * An aggregate of `segments` segments was sent: pop its entries. Returns the record of a
   * one-segment aggregate when the bookkeeping agrees, else null (write it as a new packet).
   */
  aggregate(data: Uint8Array, segments: number): CaptureRecord | null {
    if (!this.keyOf(data, false)) {
      if (segments === 1) this.fallbacks++;
      return null;
    }
    const fifo = this.flows.get(this.kHash);
    if (fifo === undefined) {
      if (segments === 1) this.fallbacks++;
      return null;
    }
    const seq = this.kSeq;
    if (fifo.items[fifo.head].seq !== seq) {
      // Resynchronise: skip to the first entry with this sequence number, if any.
      let i = fifo.head;
      while (i < fifo.items.length && fifo.items[i].seq !== seq) i++;
      if (i === fifo.items.length) {
        if (segments === 1) this.fallbacks++;
        return null;
      }
      this.dropped += i - fifo.head;
      fifo.head = i;
    }
    const first = fifo.shift();
    for (let n = 1; n < segments && fifo.size > 0; n++) fifo.shift();
    if (fifo.size === 0) this.forget(fifo);
    if (segments !== 1) return null;
    if (first.len !== data.length) {
      this.fallbacks++;
      return null;
    }
    return first.rec;
  }

  private forget(fifo: Fifo): void {
    if (this.flows.get(fifo.key) === fifo) this.flows.delete(fifo.key);
  }

  /**
   * Hash the connection key of `f` into kHash and its TCP sequence number into kSeq.
   * `strict`: only frames shaped like a candidate with payload (IPv4 without options or
   * fragmentation, IPv6 with TCP as first next header, payload > 0); otherwise any frame whose
   * headers parse to the TCP sequence number (an aggregate's header).
   */
  private keyOf(f: Uint8Array, strict: boolean): boolean {
    const len = f.length;
    let at: number;
    let type: number;
    let vlan = NO_VLAN;
    const lt = this.linkType;
    if (lt === 1) {
      if (len < 14) return false;
      type = (f[12] << 8) | f[13];
      at = 14;
      if (type === ETH_VLAN || type === ETH_QINQ) {
        if (len < 18) return false;
        vlan = ((f[14] << 8) | f[15]) & 0xfff;
        type = (f[16] << 8) | f[17];
        at = 18;
      }
    } else if (lt === 113) {
      if (len < 16) return false;
      type = (f[14] << 8) | f[15];
      at = 16;
    } else if (lt === 276) {
      if (len < 20) return false;
      type = (f[0] << 8) | f[1];
      at = 20;
    } else {
      if (len < 1) return false;
      const v = f[0] >> 4;
      type = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : 0;
      at = 0;
    }
    let h1: number;
    let h2: number;
    let tcp: number;
    let end: number;
    if (type === ETH_IPV4) {
      if (len < at + 20 || f[at] >> 4 !== 4 || f[at + 9] !== 6) return false;
      const ihl = (f[at] & 15) << 2;
      end = at + ((f[at + 2] << 8) | f[at + 3]);
      if (strict && (ihl !== 20 || (f[at + 6] & 0x3f) !== 0 || f[at + 7] !== 0)) return false;
      tcp = at + ihl;
      h1 = mix(0x4000000 | vlan, 0x9e3779b9);
      h2 = mix(0x4000000 | vlan, 0x85ebca6b);
      const a = read32(f, at + 12);
      const b = read32(f, at + 16);
      h1 = mix(h1, a);
      h2 = mix(h2, b);
      h1 = mix(h1, b);
      h2 = mix(h2, a);
    } else if (type === ETH_IPV6) {
      if (len < at + 40 || f[at] >> 4 !== 6 || f[at + 6] !== 6) return false;
      end = at + 40 + ((f[at + 4] << 8) | f[at + 5]);
      tcp = at + 40;
      h1 = mix(0x6000000 | vlan, 0x9e3779b9);
      h2 = mix(0x6000000 | vlan, 0x85ebca6b);
      for (let p = at + 8; p < at + 40; p += 4) {
        const w = read32(f, p);
        h1 = mix(h1, w);
        h2 = mix(h2, w ^ 0x5bd1e995);
      }
    } else {
      return false;
    }
    if (tcp + 20 > len || end > len) return false;
    if (strict) {
      const thl = (f[tcp + 12] >> 4) << 2;
      if (thl < 20 || tcp + thl >= end) return false; // no payload
    }
    const ports = read32(f, tcp);
    h1 = fmix(mix(h1, ports));
    h2 = fmix(mix(h2, ports ^ 0x27d4eb2f));
    this.kHash = (h1 & 0x1fffff) * 4294967296 + h2;
    this.kSeq = read32(f, tcp + 4);
    return true;
  }
}

function read32(f: Uint8Array, at: number): number {
  return ((f[at] << 24) | (f[at + 1] << 16) | (f[at + 2] << 8) | f[at + 3]) >>> 0;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
