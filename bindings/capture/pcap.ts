// Classic libpcap format: parser and record encoder.
//
// Global header (24 bytes, byte order given by how the magic reads):
//
//    0 ┌───────────────────────────────────────────────┐
//      │ magic: a1b2c3d4 (µs) or a1b23c4d (ns)         │
//    4 ├───────────────────────┬───────────────────────┤
//      │ version major (2)     │ version minor (4)     │
//    8 ├───────────────────────┴───────────────────────┤
//      │ reserved (thiszone)                           │
//   12 ├───────────────────────────────────────────────┤
//      │ reserved (sigfigs)                            │
//   16 ├───────────────────────────────────────────────┤
//      │ snaplen                                       │
//   20 ├─────┬───┬───────────────┬─────────────────────┤
//      │FCS  │ F │ reserved      │ link type (16 bits) │
//   24 └─────┴───┴───────────────┴─────────────────────┘
//        FCS = bits 31-28 (16-bit words of FCS), F = bit 26 (FCS length present)
//
// Record (16-byte header, then caplen bytes, no padding):
//
//    0 ┌───────────────────────────────────────────────┐
//      │ timestamp seconds                             │
//    4 ├───────────────────────────────────────────────┤
//      │ timestamp µs or ns (by magic)                 │
//    8 ├───────────────────────────────────────────────┤
//      │ captured length (caplen)                      │
//   12 ├───────────────────────────────────────────────┤
//      │ original length                               │
//   16 ├───────────────────────────────────────────────┤
//      │ packet data (caplen bytes)                    │
//      └───────────────────────────────────────────────┘
//
// A bad caplen leaves no way to find the next record, so pcap errors are never skipped,
// except a truncated last record with skipBad (nothing follows it anyway).

import type { CaptureError } from './errors.js';
import type { OutputFile } from './output.js';
import { Parser } from './parser.js';
import { EMPTY } from './record.js';
import { KIND_PCAP, type CaptureRecord, type InterfaceInfo } from './types.js';

export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER = 16;
/** A caplen above this is corruption, not a packet. */
export const PCAP_MAX_CAPLEN = 256 << 20;

export class PcapParser extends Parser {
  private le = true;
  private ns = false;
  private linkType = 0;

  readPreamble(): void {
    const c = this.chunk;
    if (!c.ensure(PCAP_HEADER_LEN)) {
      throw this.error(0, 'truncated-header', 'truncated pcap header', `${PCAP_HEADER_LEN} bytes needed, ${c.left} left`);
    }
    const v = c.view;
    const at = c.pos;
    const magic = v.getUint32(at, false);
    this.le = magic !== 0xa1b2c3d4 && magic !== 0xa1b23c4d;
    const le = this.le;
    this.ns = v.getUint32(at, le) === 0xa1b23c4d;
    const raw = v.getUint32(at + 20, le);
    const fcs = raw & 0x04000000 ? ((raw >>> 28) & 0xf) * 2 : undefined;
    const iface: InterfaceInfo = {
      id: 0,
      section: 0,
      localId: 0,
      linkType: raw & 0xffff,
      snaplen: v.getUint32(at + 16, le),
      tsresol: this.ns ? 9 : 6,
      resolution: this.ns ? 'ns' : 'us',
      tsoffset: 0,
      offset: 0,
      ...(fcs !== undefined ? { fcsLen: fcs } : {}),
    };
    this.linkType = iface.linkType;
    const info = this.info;
    info.byteOrder = le ? 'le' : 'be';
    info.resolution = iface.resolution;
    info.version = `${v.getUint16(at + 4, le)}.${v.getUint16(at + 6, le)}`;
    info.sections = 1;
    info.interfaces.push(iface);
    this.headers.emit({
      kind: 'pcap-header',
      bytes: c.buf.subarray(at, at + PCAP_HEADER_LEN),
      offset: 0,
      section: 0,
      littleEndian: le,
      iface,
    });
    c.pos += PCAP_HEADER_LEN;
  }

  next(rec: CaptureRecord): boolean {
    const c = this.chunk;
    if (!c.ensure(PCAP_RECORD_HEADER)) {
      if (c.left === 0) return false;
      const err = this.error(c.offset, 'truncated-record', 'truncated record header', `${PCAP_RECORD_HEADER} bytes needed, ${c.left} left`);
      return this.endTruncated(err);
    }
    const le = this.le;
    let at = c.pos;
    const caplen = c.view.getUint32(at + 8, le);
    if (caplen > PCAP_MAX_CAPLEN) {
      throw this.error(c.offset, 'too-large', 'record too large', `caplen ${caplen} > ${PCAP_MAX_CAPLEN}`);
    }
    const size = PCAP_RECORD_HEADER + caplen;
    if (!c.ensure(size)) {
      const err = this.error(
        c.offset,
        'truncated-record',
        'truncated record',
        `header says ${caplen} bytes, ${c.left - PCAP_RECORD_HEADER} left`,
      );
      return this.endTruncated(err);
    }
    at = c.pos; // ensure() may have moved the bytes
    const v = c.view;
    const sec = v.getUint32(at, le);
    const frac = v.getUint32(at + 4, le);
    rec.dataAt = at + PCAP_RECORD_HEADER;
    rec.dataLength = caplen;
    rec.tailAt = at + size;
    rec.tailLength = 0;
    if (this.views) rec.data = c.buf.subarray(at + PCAP_RECORD_HEADER, at + size);
    rec.timeUs = sec * 1e6 + (this.ns ? Math.floor(frac / 1000) : frac);
    rec.interfaceId = 0;
    rec.linkType = this.linkType;
    rec.origLen = v.getUint32(at + 12, le);
    rec.offset = c.base + at;
    rec.kind = KIND_PCAP;
    rec.tsHigh = sec;
    rec.tsLow = frac;
    rec.tail = EMPTY;
    rec.drops = 0;
    c.pos = at + size;
    return true;
  }

  /** A truncated last record: an error, or with skipBad a skipped record and the end. */
  private endTruncated(err: CaptureError): boolean {
    this.skipOrThrow(err);
    this.chunk.pos = this.chunk.end;
    return false;
  }
}

/** The global header to write: the input's, with snaplen raised to at least minSnaplen. */
export function outputPcapHeader(header: Uint8Array, littleEndian: boolean, minSnaplen: number): Uint8Array {
  const out = header.slice();
  const v = new DataView(out.buffer);
  if (v.getUint32(16, littleEndian) < minSnaplen) v.setUint32(16, minSnaplen, littleEndian);
  return out;
}

/** Append one record (header + data). */
export function writePcapRecord(out: OutputFile, le: boolean, sec: number, frac: number, origLen: number, data: Uint8Array): void {
  const n = data.length;
  const at = out.reserve(PCAP_RECORD_HEADER + n);
  const v = out.view;
  v.setUint32(at, sec, le);
  v.setUint32(at + 4, frac, le);
  v.setUint32(at + 8, n, le);
  v.setUint32(at + 12, origLen, le);
  out.buf.set(data, at + PCAP_RECORD_HEADER);
}

/** Seconds and fraction (µs, or ns when `ns`) of an integer µs time. */
export function pcapTime(timeUs: number, ns: boolean): { sec: number; frac: number } {
  const t = Math.floor(timeUs);
  const sec = Math.floor(t / 1e6);
  if (!(sec >= 0 && sec <= 0xffffffff)) throw new RangeError(`time ${timeUs} µs does not fit a pcap timestamp`);
  const us = t - sec * 1e6;
  return { sec, frac: ns ? us * 1000 : us };
}
