// pcapng encoders for the writer (block layouts: see pcapng.ts).

import type { OutputFile } from './output.js';
import { BT_PB, BT_SHB, BT_SPB, EPB_MIN, SPB_MIN } from './pcapng.js';

/** A new SHB: version 1.0, section length -1 (unknown), no options. */
export function newShb(le: boolean): Uint8Array {
  const v = new DataView(new ArrayBuffer(28));
  v.setUint32(0, BT_SHB, le);
  v.setUint32(4, 28, le);
  v.setUint32(8, 0x1a2b3c4d, le);
  v.setUint16(12, 1, le);
  v.setUint16(14, 0, le);
  v.setInt32(16, -1, le);
  v.setInt32(20, -1, le);
  v.setUint32(24, 28, le);
  return new Uint8Array(v.buffer);
}

/** The SHB to write: the input's with the section length set to -1 (the output's differs). */
export function outputShb(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.fill(0xff, 16, 24);
  return out;
}

/** The IDB to write: the input's with a non-zero snaplen raised to at least minSnaplen. */
export function outputIdb(bytes: Uint8Array, le: boolean, minSnaplen: number): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  const snap = v.getUint32(12, le);
  if (snap !== 0 && snap < minSnaplen) v.setUint32(12, minSnaplen, le);
  return out;
}

/**
 * Append an EPB or PB. `tail` is the padding + options to reproduce (writeOriginal), or null
 * for a new packet (zero padding, no options). For a PB, `id` holds interface id and drops.
 */
export function writePacketBlock(
  out: OutputFile,
  le: boolean,
  type: number,
  id: number,
  drops: number,
  hi: number,
  lo: number,
  origLen: number,
  data: Uint8Array,
  tail: Uint8Array | null,
): void {
  const n = data.length;
  const tailLen = tail ? tail.length : (4 - (n & 3)) & 3;
  const len = EPB_MIN + n + tailLen;
  if (len % 4 !== 0) throw new RangeError(`record data (${n}) and tail (${tailLen}) do not fill a 32-bit aligned block`);
  const at = out.reserve(len);
  const v = out.view;
  const buf = out.buf;
  v.setUint32(at, type, le);
  v.setUint32(at + 4, len, le);
  if (type === BT_PB) {
    v.setUint16(at + 8, id, le);
    v.setUint16(at + 10, drops, le);
  } else {
    v.setUint32(at + 8, id, le);
  }
  v.setUint32(at + 12, hi, le);
  v.setUint32(at + 16, lo, le);
  v.setUint32(at + 20, n, le);
  v.setUint32(at + 24, origLen, le);
  buf.set(data, at + 28);
  if (tail) buf.set(tail, at + 28 + n);
  else buf.fill(0, at + 28 + n, at + 28 + n + tailLen);
  v.setUint32(at + len - 4, len, le);
}

/** Append an SPB reproducing a read one (data + tail as in the file). */
export function writeSimplePacketBlock(out: OutputFile, le: boolean, origLen: number, data: Uint8Array, tail: Uint8Array): void {
  const len = SPB_MIN + data.length + tail.length;
  if (len % 4 !== 0) throw new RangeError(`record data (${data.length}) and tail (${tail.length}) do not fill a 32-bit aligned block`);
  const at = out.reserve(len);
  const v = out.view;
  v.setUint32(at, BT_SPB, le);
  v.setUint32(at + 4, len, le);
  v.setUint32(at + 8, origLen, le);
  out.buf.set(data, at + 12);
  out.buf.set(tail, at + 12 + data.length);
  v.setUint32(at + len - 4, len, le);
}
