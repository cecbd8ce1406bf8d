// What the pipeline remembers about input records until their output is written: a ring indexed
// by the record's position in the input (its serial number), holding what the writer needs to
// write the record again (block kind, timestamp words, lengths, pcapng tail) or to stamp a new
// aggregate with its first segment's time. Typed columns, so nothing is allocated per record
// (a pcapng tail is copied only when it holds more than zero padding). The ring grows when the
// span of positions still needed (from the oldest unwritten one to the newest read) outgrows it.

import type { CaptureRecord } from '../capture/index.js';

export class RecordRing {
  private mask: number;
  kind: Uint8Array;
  iface: Int32Array;
  tsHigh: Uint32Array;
  tsLow: Uint32Array;
  origLen: Uint32Array;
  drops: Uint16Array;
  timeUs: Float64Array;
  tails: (Uint8Array | null)[];
  /** Link-header bytes the engine did not see (BSD loopback's family), up to 4, and how many. */
  prefix: Uint32Array;
  prefixLength: Uint8Array;

  constructor(capacity = 1 << 14) {
    this.mask = capacity - 1;
    this.kind = new Uint8Array(capacity);
    this.iface = new Int32Array(capacity);
    this.tsHigh = new Uint32Array(capacity);
    this.tsLow = new Uint32Array(capacity);
    this.origLen = new Uint32Array(capacity);
    this.drops = new Uint16Array(capacity);
    this.timeUs = new Float64Array(capacity);
    this.tails = new Array(capacity).fill(null);
    this.prefix = new Uint32Array(capacity);
    this.prefixLength = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Ring slot of position `serial`. */
  slot(serial: number): number {
    return serial & this.mask;
  }

  /**
   * Remember `rec` (read with views off, its bytes in `buffer`) as position `serial`, and the
   * first `prefix` bytes of its data (the link header the engine does not see).
   */
  store(serial: number, rec: CaptureRecord, buffer: Uint8Array, prefix: number): void {
    const i = serial & this.mask;
    const n = Math.min(prefix, rec.dataLength);
    let word = 0;
    for (let k = 0; k < n; k++) word |= buffer[rec.dataAt + k] << (8 * k);
    this.prefix[i] = word;
    this.prefixLength[i] = n;
    this.kind[i] = rec.kind;
    this.iface[i] = rec.interfaceId;
    this.tsHigh[i] = rec.tsHigh;
    this.tsLow[i] = rec.tsLow;
    this.origLen[i] = rec.origLen;
    this.drops[i] = rec.drops;
    this.timeUs[i] = rec.timeUs;
    const tailLength = rec.tailLength;
    // A tail of up to 3 zero bytes is the padding the writer writes itself.
    let tail: Uint8Array | null = null;
    if (tailLength > 0 && (tailLength > 3 || rec.kind === 3 || !zeros(buffer, rec.tailAt, tailLength))) {
      tail = buffer.slice(rec.tailAt, rec.tailAt + tailLength);
    }
    this.tails[i] = tail;
  }

  /** Make room for positions [low, high] (keeping the entries of that span). */
  grow(low: number, high: number): void {
    let size = this.capacity;
    while (size <= high - low) size *= 2;
    if (size === this.capacity) return;
    const old = { mask: this.mask, ...this.columns() };
    const tails = this.tails;
    this.mask = size - 1;
    this.kind = new Uint8Array(size);
    this.iface = new Int32Array(size);
    this.tsHigh = new Uint32Array(size);
    this.tsLow = new Uint32Array(size);
    this.origLen = new Uint32Array(size);
    this.drops = new Uint16Array(size);
    this.timeUs = new Float64Array(size);
    this.tails = new Array(size).fill(null);
    const prefix = this.prefix;
    const prefixLength = this.prefixLength;
    this.prefix = new Uint32Array(size);
    this.prefixLength = new Uint8Array(size);
    for (let s = low; s <= high; s++) {
      const from = s & old.mask;
      const to = s & this.mask;
      this.kind[to] = old.kind[from];
      this.iface[to] = old.iface[from];
      this.tsHigh[to] = old.tsHigh[from];
      this.tsLow[to] = old.tsLow[from];
      this.origLen[to] = old.origLen[from];
      this.drops[to] = old.drops[from];
      this.timeUs[to] = old.timeUs[from];
      this.tails[to] = tails[from];
      this.prefix[to] = prefix[from];
      this.prefixLength[to] = prefixLength[from];
    }
  }

  private columns() {
    const { kind, iface, tsHigh, tsLow, origLen, drops, timeUs } = this;
    return { kind, iface, tsHigh, tsLow, origLen, drops, timeUs };
  }
}

/**
 * Local frame index → position, for one engine: the engine counts the frames it was given, the
 * pipeline counts all records, and a packet's `inputIndex` is the engine's count.
 */
export class IndexRing {
  private mask: number;
  private serials: Float64Array;

  constructor(capacity = 1 << 12) {
    this.mask = capacity - 1;
    this.serials = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.mask + 1;
  }

  set(index: number, serial: number): void {
    this.serials[index & this.mask] = serial;
  }

  get(index: number): number {
    return this.serials[index & this.mask];
  }

  /** Make room for indices [low, high] (keeping that span). */
  grow(low: number, high: number): void {
    let size = this.capacity;
    while (size <= high - low) size *= 2;
    if (size === this.capacity) return;
    const old = this.serials;
    const oldMask = this.mask;
    this.mask = size - 1;
    this.serials = new Float64Array(size);
    for (let i = low; i <= high; i++) this.serials[i & this.mask] = old[i & oldMask];
  }
}

function zeros(b: Uint8Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[at + i] !== 0) return false;
  return true;
}
