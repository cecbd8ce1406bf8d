// pcapng: block parser and packet-block encoders.
//
// Every block (all fields in the byte order of the section's SHB, body padded to 32 bits):
//
//    0 ┌───────────────────────────────────────────────┐
//      │ block type                                    │
//    4 ├───────────────────────────────────────────────┤
//      │ block total length (multiple of 4, >= 12)     │
//    8 ├───────────────────────────────────────────────┤
//      │ body                                          │
//      ├───────────────────────────────────────────────┤
//      │ block total length (repeated)                 │
//      └───────────────────────────────────────────────┘
//
// Section Header Block (type 0x0A0D0D0A, a palindrome, so it reads the same in both orders):
//
//    8 ┌───────────────────────────────────────────────┐
//      │ byte-order magic 0x1A2B3C4D                   │
//   12 ├───────────────────────┬───────────────────────┤
//      │ major version (1)     │ minor version (0)     │
//   16 ├───────────────────────┴───────────────────────┤
//      │ section length (64-bit, -1 = unknown)         │
//   24 ├───────────────────────────────────────────────┤
//      │ options                                       │
//      └───────────────────────────────────────────────┘
//
// Interface Description Block (type 1):
//
//    8 ┌───────────────────────┬───────────────────────┐
//      │ link type             │ reserved              │
//   12 ├───────────────────────┴───────────────────────┤
//      │ snaplen (0 = unlimited)                       │
//   16 ├───────────────────────────────────────────────┤
//      │ options: if_name 2, if_tsresol 9, if_fcslen 13,│
//      │          if_tsoffset 14 ...                   │
//      └───────────────────────────────────────────────┘
//
// Enhanced Packet Block (type 6) and obsolete Packet Block (type 2):
//
//    8 ┌───────────────────────────────────────────────┐
//      │ EPB: interface id (32)                        │
//      │ PB:  interface id (16) │ drops count (16)     │
//   12 ├───────────────────────────────────────────────┤
//      │ timestamp, high 32 bits                       │
//   16 ├───────────────────────────────────────────────┤
//      │ timestamp, low 32 bits                        │
//   20 ├───────────────────────────────────────────────┤
//      │ captured length                               │
//   24 ├───────────────────────────────────────────────┤
//      │ original length                               │
//   28 ├───────────────────────────────────────────────┤
//      │ packet data, padded to 32 bits                │
//      ├───────────────────────────────────────────────┤
//      │ options (epb_flags, epb_hash, comments...)    │
//      └───────────────────────────────────────────────┘
//
// Simple Packet Block (type 3): interface 0, no timestamp; caplen = min(origLen, snaplen, room):
//
//    8 ┌───────────────────────────────────────────────┐
//      │ original length                               │
//   12 ├───────────────────────────────────────────────┤
//      │ packet data, padded to 32 bits                │
//      └───────────────────────────────────────────────┘
//
// Option (in any options area; a code-0 option ends the list):
//
//    0 ┌───────────────────────┬───────────────────────┐
//      │ option code           │ value length          │
//    4 ├───────────────────────┴───────────────────────┤
//      │ value, padded to 32 bits                      │
//      └───────────────────────────────────────────────┘
//
// Resynchronisation: a block whose two length fields agree can be stepped over, so bad
// content (short packet block, unknown interface, packet before any IDB) is skippable with
// skipBad. Bad lengths, a bad SHB, or a bad IDB (would renumber interfaces) are always fatal.

import type { CaptureError, CaptureErrorCode } from './errors.js';
import { Parser } from './parser.js';
import { describeTsresol, TsClock } from './timestamp.js';
import { KIND_EPB, KIND_PB, KIND_SPB, type CaptureRecord, type InterfaceInfo } from './types.js';
export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 1;
export const BT_PB = 2;
export const BT_SPB = 3;
export const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const SHB_MIN = 28;
const IDB_MIN = 20;
export const EPB_MIN = 32;
export const SPB_MIN = 16;
/** A block length above this is corruption. */
export const PCAPNG_MAX_BLOCK = 2 ** 31;

const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_FCSLEN = 13;
const OPT_IF_TSOFFSET = 14;

export class PcapngParser extends Parser {
  private le = true;
  private section = -1;
  /** Interfaces of the current section, by local id, and their clocks. */
  private ifaces: InterfaceInfo[] = [];
  private clocks: TsClock[] = [];
  /** Global id of the current section's interface 0. */
  private firstGlobal = 0;
  /** Time given to SPBs, which carry none. */
  private lastTimeUs = 0;
  /** While opening: stop in front of the first packet block. */
  private inPreamble = false;

  readPreamble(): void {
    this.inPreamble = true;
    try {
      this.next(null);
    } finally {
      this.inPreamble = false;
    }
  }

  next(rec: CaptureRecord | null): boolean {
    const c = this.chunk;
    for (;;) {
      if (!c.ensure(8)) {
        if (c.left === 0) return false;
        if (this.section < 0) {
          throw this.error(0, 'truncated-header', 'truncated section header', `${SHB_MIN} bytes needed, ${c.left} left`);
        }
        return this.endTruncated(this.error(c.offset, 'truncated-record', 'truncated block header', `8 bytes needed, ${c.left} left`));
      }
      let at = c.pos;
      const le = this.le;
      const type = c.view.getUint32(at, le);
      if (type === BT_SHB) {
        if (!this.readSectionHeader()) return false;
        continue;
      }
      const len = c.view.getUint32(at + 4, le);
      this.checkLength(len, c.offset);
      const isPacket = type === BT_EPB || type === BT_SPB || type === BT_PB;
      if (isPacket && this.inPreamble) return false;
      if (!c.ensure(len)) {
        return this.endTruncated(this.error(c.offset, 'truncated-record', 'truncated block', `header says ${len} bytes, ${c.left} left`));
      }
      at = c.pos;
      this.checkTrailer(at, len);
      if (isPacket) {
        if (this.packet(rec!, type, at, len)) {
          c.pos = at + len;
          return true;
        }
      } else if (type === BT_IDB) {
        this.readInterface(at, len);
      } else {
        this.headers.emit({
          kind: 'other',
          bytes: c.buf.subarray(at, at + len),
          offset: c.base + at,
          section: this.section,
          littleEndian: le,
        });
      }
      c.pos = at + len;
    }
  }

  /** The packet data at `at` (`caplen` bytes) and the block's tail up to `end`, as offsets and (views) views. */
  private place(rec: CaptureRecord, buf: Uint8Array, at: number, caplen: number, end: number): void {
    rec.dataAt = at;
    rec.dataLength = caplen;
    rec.tailAt = at + caplen;
    rec.tailLength = end - at - caplen;
    if (this.views) {
      rec.data = buf.subarray(at, at + caplen);
      rec.tail = buf.subarray(at + caplen, end);
    }
  }

  /** Fill `rec` from an EPB/PB/SPB at `at`; false (after skipOrThrow) when its content is bad. */
  private packet(rec: CaptureRecord, type: number, at: number, len: number): boolean {
    const c = this.chunk;
    const v = c.view;
    const le = this.le;
    const buf = c.buf;
    if (type === BT_SPB) {
      if (len < SPB_MIN) return this.bad(at, 'bad-block', 'simple packet block too short', `${len} < ${SPB_MIN}`);
      if (this.ifaces.length === 0) return this.bad(at, 'no-interface', 'packet before any interface description');
      const iface = this.ifaces[0];
      const origLen = v.getUint32(at + 8, le);
      let caplen = Math.min(origLen, len - SPB_MIN);
      if (iface.snaplen !== 0 && iface.snaplen < caplen) caplen = iface.snaplen;
      this.place(rec, buf, at + 12, caplen, at + len - 4);
      rec.timeUs = this.lastTimeUs;
      rec.interfaceId = this.firstGlobal;
      rec.linkType = iface.linkType;
      rec.origLen = origLen;
      rec.kind = KIND_SPB;
      rec.tsHigh = 0;
      rec.tsLow = 0;
      rec.drops = 0;
    } else {
      const what = type === BT_EPB ? 'enhanced packet block' : 'packet block';
      if (len < EPB_MIN) return this.bad(at, 'bad-block', `${what} too short`, `${len} < ${EPB_MIN}`);
      const id = type === BT_EPB ? v.getUint32(at + 8, le) : v.getUint16(at + 8, le);
      const ifaces = this.ifaces;
      if (id >= ifaces.length) {
        if (ifaces.length === 0) return this.bad(at, 'no-interface', 'packet before any interface description');
        return this.bad(at, 'unknown-interface', `packet references unknown interface ${id}`, `section has ${ifaces.length}`);
      }
      const caplen = v.getUint32(at + 20, le);
      if (caplen > len - EPB_MIN)
        return this.bad(at, 'bad-block', 'packet data runs past its block', `caplen ${caplen}, room ${len - EPB_MIN}`);
      const hi = v.getUint32(at + 12, le);
      const lo = v.getUint32(at + 16, le);
      this.place(rec, buf, at + 28, caplen, at + len - 4);
      rec.timeUs = this.clocks[id].toUs(hi, lo);
      rec.interfaceId = this.firstGlobal + id;
      rec.linkType = ifaces[id].linkType;
      rec.origLen = v.getUint32(at + 24, le);
      rec.kind = type === BT_EPB ? KIND_EPB : KIND_PB;
      rec.tsHigh = hi;
      rec.tsLow = lo;
      rec.drops = type === BT_PB ? v.getUint16(at + 10, le) : 0;
    }
    rec.offset = c.base + at;
    this.lastTimeUs = rec.timeUs;
    return true;
  }

  /** Parse an SHB at the chunk position; switches byte order and starts a new section. */
  private readSectionHeader(): boolean {
    const c = this.chunk;
    const first = this.section < 0;
    const code: CaptureErrorCode = first ? 'truncated-header' : 'truncated-record';
    if (!c.ensure(12)) {
      return this.endTruncated(this.error(c.offset, code, 'truncated section header', `${SHB_MIN} bytes needed, ${c.left} left`), first);
    }
    let at = c.pos;
    let v = c.view;
    let le: boolean;
    if (v.getUint32(at + 8, true) === BYTE_ORDER_MAGIC) le = true;
    else if (v.getUint32(at + 8, false) === BYTE_ORDER_MAGIC) le = false;
    else throw this.error(c.offset, 'bad-block', 'bad byte-order magic in section header', `0x${hex(v.getUint32(at + 8, false))}`);
    const len = v.getUint32(at + 4, le);
    this.checkLength(len, c.offset);
    if (len < SHB_MIN) throw this.error(c.offset, 'bad-block', 'section header block too short', `${len} < ${SHB_MIN}`);
    if (!c.ensure(len)) {
      return this.endTruncated(this.error(c.offset, code, 'truncated section header', `header says ${len} bytes, ${c.left} left`), first);
    }
    at = c.pos;
    v = c.view;
    this.le = le;
    this.checkTrailer(at, len);
    const major = v.getUint16(at + 12, le);
    const minor = v.getUint16(at + 14, le);
    if (major !== 1) throw this.error(c.offset, 'bad-block', 'unsupported pcapng version', `${major}.${minor}`);

    this.section++;
    this.firstGlobal = this.info.interfaces.length;
    this.ifaces = [];
    this.clocks = [];
    const info = this.info;
    info.sections = this.section + 1;
    if (first) {
      info.byteOrder = le ? 'le' : 'be';
      info.version = `${major}.${minor}`;
    }
    this.headers.emit({ kind: 'shb', bytes: c.buf.subarray(at, at + len), offset: c.base + at, section: this.section, littleEndian: le });
    c.pos = at + len;
    return true;
  }

  private readInterface(at: number, len: number): void {
    const c = this.chunk;
    const v = c.view;
    const le = this.le;
    if (len < IDB_MIN) throw this.error(c.base + at, 'bad-block', 'interface description block too short', `${len} < ${IDB_MIN}`);
    const iface: InterfaceInfo = {
      id: this.info.interfaces.length,
      section: this.section,
      localId: this.ifaces.length,
      linkType: v.getUint16(at + 8, le),
      snaplen: v.getUint32(at + 12, le),
      tsresol: 6,
      resolution: 'us',
      tsoffset: 0,
      offset: c.base + at,
    };
    forEachOption(v, at + 16, at + len - 4, le, (code, p, n) => {
      if (code === OPT_IF_TSRESOL && n >= 1) iface.tsresol = v.getUint8(p);
      else if (code === OPT_IF_TSOFFSET && n >= 8) iface.tsoffset = readInt64(v, p, le);
      else if (code === OPT_IF_FCSLEN && n >= 1) iface.fcsLen = v.getUint8(p);
      else if (code === OPT_IF_NAME) iface.name = new TextDecoder().decode(c.buf.subarray(p, p + n)).replace(/\0+$/, '');
    });
    iface.resolution = describeTsresol(iface.tsresol);
    if (iface.id === 0) this.info.resolution = iface.resolution;
    this.info.interfaces.push(iface);
    this.ifaces.push(iface);
    this.clocks.push(new TsClock(iface.tsresol, iface.tsoffset));
    this.headers.emit({
      kind: 'idb',
      bytes: c.buf.subarray(at, at + len),
      offset: c.base + at,
      section: this.section,
      littleEndian: le,
      iface,
    });
  }

  /** Fatal problems with a block length: without a trustworthy length there is no next block. */
  private checkLength(len: number, offset: number): void {
    if (len > PCAPNG_MAX_BLOCK) throw this.error(offset, 'too-large', 'block too large', `length ${len} > ${PCAPNG_MAX_BLOCK}`);
    if (len < 12) throw this.error(offset, 'bad-block-length', 'bad block length', `${len} < 12`);
    if (len % 4 !== 0) throw this.error(offset, 'bad-block-length', 'bad block length', `${len} is not a multiple of 4`);
  }

  private checkTrailer(at: number, len: number): void {
    const trailer = this.chunk.view.getUint32(at + len - 4, this.le);
    if (trailer !== len) {
      throw this.error(this.chunk.base + at, 'bad-block-length', 'block length mismatch', `header ${len}, trailer ${trailer}`);
    }
  }

  /** Bad content in a block with good lengths: throw, or skip it (the caller steps over the block). */
  private bad(at: number, code: CaptureErrorCode, what: string, detail?: string): false {
    this.skipOrThrow(this.error(this.chunk.base + at, code, what, detail));
    return false;
  }

  /** The file ends inside a block: an error, or with skipBad a skipped record and the end. */
  private endTruncated(err: CaptureError, fatal = false): false {
    if (fatal) throw err;
    this.skipOrThrow(err);
    this.chunk.pos = this.chunk.end;
    return false;
  }
}

/** Calls fn(code, valueOffset, valueLength) for each option in [start, end); stops at code 0 or overflow. */
export function forEachOption(
  v: DataView,
  start: number,
  end: number,
  le: boolean,
  fn: (code: number, at: number, len: number) => void,
): void {
  let p = start;
  while (p + 4 <= end) {
    const code = v.getUint16(p, le);
    const n = v.getUint16(p + 2, le);
    if (code === 0 || p + 4 + n > end) return;
    fn(code, p + 4, n);
    p += 4 + ((n + 3) & ~3);
  }
}

function readInt64(v: DataView, at: number, le: boolean): number {
  const hi = v.getInt32(le ? at + 4 : at, le);
  const lo = v.getUint32(le ? at : at + 4, le);
  return hi * 4294967296 + lo;
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
