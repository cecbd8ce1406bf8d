// What the pipeline remembers about input records until their output is written: a ring indexed
// by the record's position in the input (its serial number), holding what the writer needs to
// write the record again (block kind, timestamp words, lengths, pcapng tail) or to stamp a new
// aggregate with its first segment's time. Typed columns, so nothing is allocated per record
// (a pcapng tail is copied only when it holds more than zero padding). The ring grows when the
// span of positions still needed (from the oldest unwritten one to the newest read) outgrows it.

import type { CaptureRecord } from '../capture/index.js';

/** The ring's typed columns, one entry per position (allocated, and copied when it grows, by name). */
const COLUMNS = {
  kind: Uint8Array,
  iface: Int32Array,
  tsHigh: Uint32Array,
  tsLow: Uint32Array,
  origLen: Uint32Array,
  drops: Uint16Array,
  timeUs: Float64Array,
  /** Link-header bytes the engine did not see (BSD loopback's family), up to 4, and how many. */
  prefix: Uint32Array,
  prefixLength: Uint8Array,
} as const;

type Columns = { [K in keyof typeof COLUMNS]: InstanceType<(typeof COLUMNS)[K]> };

function allocate(size: number): Columns {
  return Object.fromEntries(Object.entries(COLUMNS).map(([name, Type]) => [name, new Type(size)])) as Columns;
}

export class RecordRing {
  private mask: number;
  private c: Columns;
  /** pcapng tails worth keeping (see store), by slot. */
  private tails: (Uint8Array | null)[];

  constructor(capacity = 1 << 14) {
    this.mask = capacity - 1;
    this.c = allocate(capacity);
    this.tails = new Array(capacity).fill(null);
  }

  /** The columns, indexed by slot(position). */
  get columns(): Readonly<Columns> {
    return this.c;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Ring slot of position `serial`. */
  slot(serial: number): number {
    return serial & this.mask;
  }

  /** The pcapng tail to write back for the record in `slot` (null: the writer pads with zeros). */
  tail(slot: number): Uint8Array | null {
    return this.tails[slot];
  }

  /**
   * Remember `rec` (read with views off, its bytes in `buffer`) as position `serial`, and the
   * first `prefix` bytes of its data (the link header the engine does not see).
   */
  store(serial: number, rec: CaptureRecord, buffer: Uint8Array, prefix: number): void {
    const i = serial & this.mask;
    const c = this.c;
    const n = Math.min(prefix, rec.dataLength);
    let word = 0;
    for (let k = 0; k < n; k++) word |= buffer[rec.dataAt + k] << (8 * k);
    c.prefix[i] = word;
    c.prefixLength[i] = n;
    c.kind[i] = rec.kind;
    c.iface[i] = rec.interfaceId;
    c.tsHigh[i] = rec.tsHigh;
    c.tsLow[i] = rec.tsLow;
    c.origLen[i] = rec.origLen;
    c.drops[i] = rec.drops;
    c.timeUs[i] = rec.timeUs;
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
    const old = this.c;
    const oldTails = this.tails;
    const oldMask = this.mask;
    this.mask = size - 1;
    this.c = allocate(size);
    this.tails = new Array(size).fill(null);
    for (const name of Object.keys(COLUMNS) as (keyof Columns)[]) {
      const from = old[name];
      const to = this.c[name];
      for (let s = low; s <= high; s++) to[s & this.mask] = from[s & oldMask];
    }
    for (let s = low; s <= high; s++) this.tails[s & this.mask] = oldTails[s & oldMask];
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
