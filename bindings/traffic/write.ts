// Generated traffic written as a pcap or pcapng file. The capture writer copies headers from a
// reader, so this has its own few lines of header encoding and reuses the capture module's record
// encoders and atomic output file.

import { OutputFile, waitForFifoReader, yieldToEventLoop } from '../capture/output.js';
import { writePcapRecord, pcapTime } from '../capture/pcap.js';
import { newShb, writePacketBlock } from '../capture/pcapng-encode.js';
import { BT_EPB } from '../capture/pcapng.js';
import { TsClock } from '../capture/timestamp.js';
import { generateTraffic, type GenerateOptions } from './generate.js';

export interface WriteOptions {
  format: 'pcap' | 'pcapng';
  /** Link type written in the header (raw 228/229/12/14 are generated as 101). */
  linkType: number;
  ns: boolean;
  bigEndian: boolean;
  /** Snap length in the header; each record keeps at most this many bytes of its frame (0: no limit). */
  snaplen: number;
  packetComments: boolean;
  /**
   * pcapng: this many interfaces (default 1), all of `linkType`; a frame goes to interface
   * (XOR of bytes 34–37) mod N — an Ethernet IPv4 TCP frame's two ports, the same both ways, so a
   * connection stays on one interface while the interfaces' records alternate.
   */
  interfaces?: number;
}

export interface GenerateResult {
  output: string;
  packets: number;
  bytes: number;
  format: 'pcap' | 'pcapng';
  linkType: number;
}

/** Packets written between two turns of the event loop (a signal handler, Ctrl-C, can run). */
const YIELD_EVERY = 16384;

/** Write generated traffic to `path` (atomically). Throws CaptureError when not writable. */
export async function writeGenerated(path: string, gen: GenerateOptions, file: WriteOptions): Promise<GenerateResult> {
  // A FIFO nobody reads yet is waited for on the event loop (Ctrl-C still ends the run).
  const release = await waitForFifoReader(path);
  let out: OutputFile;
  try {
    out = new OutputFile(path);
  } finally {
    release();
  }
  try {
    const le = !file.bigEndian;
    let packets = 0;
    let bytes = 0;
    if (file.format === 'pcap') {
      const h = new DataView(new ArrayBuffer(24));
      h.setUint32(0, file.ns ? 0xa1b23c4d : 0xa1b2c3d4, le);
      h.setUint16(4, 2, le);
      h.setUint16(6, 4, le);
      h.setUint32(16, file.snaplen, le);
      h.setUint32(20, file.linkType, le);
      out.put(new Uint8Array(h.buffer));
      for (const fr of generateTraffic(gen)) {
        const t = pcapTime(fr.timeUs, file.ns);
        writePcapRecord(out, le, t.sec, t.frac, fr.data.length, snap(fr.data, file.snaplen));
        packets++;
        bytes += fr.data.length;
        if (packets % YIELD_EVERY === 0) await yieldToEventLoop();
      }
    } else {
      out.put(newShb(le));
      const interfaces = Math.max(1, file.interfaces ?? 1);
      for (let i = 0; i < interfaces; i++) out.put(idb(le, file.linkType, file.snaplen, file.ns));
      const clock = new TsClock(file.ns ? 9 : 6, 0);
      const enc = new TextEncoder();
      for (const fr of generateTraffic(gen)) {
        clock.fromUs(fr.timeUs);
        const d = fr.data;
        const kept = snap(d, file.snaplen);
        const tail = file.packetComments ? commentTail(kept.length, enc.encode(`generated frame ${packets + 1}`), le) : null;
        const iface = interfaces === 1 || d.length < 38 ? 0 : (d[34] ^ d[35] ^ d[36] ^ d[37]) % interfaces;
        writePacketBlock(out, le, BT_EPB, iface, 0, clock.hi, clock.lo, d.length, kept, tail);
        packets++;
        bytes += fr.data.length;
        if (packets % YIELD_EVERY === 0) await yieldToEventLoop();
      }
    }
    out.commit();
    return { output: path, packets, bytes, format: file.format, linkType: file.linkType };
  } catch (err) {
    out.abort();
    throw err;
  }
}

/** The bytes of a frame a capture with this snap length keeps (0: no limit), as a capture tool cuts them. */
function snap(frame: Uint8Array, snaplen: number): Uint8Array {
  return snaplen === 0 || frame.length <= snaplen ? frame : frame.subarray(0, snaplen);
}

function idb(le: boolean, linkType: number, snaplen: number, ns: boolean): Uint8Array {
  const name = new TextEncoder().encode('lro-generate');
  const namePadded = (name.length + 3) & ~3;
  const opts = 4 + namePadded + (ns ? 8 : 0) + 4;
  const len = 16 + opts + 4;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setUint32(0, 1, le);
  v.setUint32(4, len, le);
  v.setUint16(8, linkType, le);
  v.setUint32(12, snaplen, le);
  let p = 16;
  v.setUint16(p, 2, le); // if_name
  v.setUint16(p + 2, name.length, le);
  b.set(name, p + 4);
  p += 4 + namePadded;
  if (ns) {
    v.setUint16(p, 9, le); // if_tsresol
    v.setUint16(p + 2, 1, le);
    b[p + 4] = 9;
    p += 8;
  }
  p += 4; // opt_endofopt
  v.setUint32(len - 4, len, le);
  return b;
}

/** EPB tail: padding of the packet data, one opt_comment, opt_endofopt. */
function commentTail(dataLen: number, text: Uint8Array, le: boolean): Uint8Array {
  const pad = (4 - (dataLen & 3)) & 3;
  const textPadded = (text.length + 3) & ~3;
  const b = new Uint8Array(pad + 4 + textPadded + 4);
  const v = new DataView(b.buffer);
  v.setUint16(pad, 1, le);
  v.setUint16(pad + 2, text.length, le);
  b.set(text, pad + 4);
  return b;
}
