// Writing the other format (`lro coalesce -F pcap|pcapng`, editcap's habit): what the writer needs
// to turn a pcap input into pcapng and a pcapng input into pcap.
//
// pcap → pcapng loses nothing: one SHB, one IDB (link type, snap length, if_tsresol 6 or 9 as the
// pcap magic said, if_fcslen when the header has FCS bits), every record an EPB with the same
// lengths and the same instant in the same resolution.
//
// pcapng → pcap: a pcap file has one link type, one resolution (µs or ns) and no blocks besides
// packets. Its header is written in front of the first packet, once the interfaces described so
// far are known: the link type of that packet's interface; ns when an interface of that link type
// has a resolution finer than µs (a timestamp ns cannot hold exactly is rounded down, counted);
// the largest snap length of those interfaces (0, unlimited, counts as libpcap's 262144). A packet
// of an interface with another link type (or FCS length) ends the run with an error naming both.
// Dropped, and counted: non-packet blocks (name resolution, statistics, custom, …), packet options
// (comments, flags, hashes; a PB's drops count). A simple packet block carries no time: it takes
// the time of the packet written before it. All output is little-endian.

import { CaptureError } from './errors.js';
import type { OutputFile } from './output.js';
import { PCAP_HEADER_LEN, writePcapRecord } from './pcap.js';
import { newShb } from './pcapng-encode.js';
import { KIND_PB, KIND_SPB, type CaptureFormat, type InterfaceInfo } from './types.js';

/** libpcap's MAXIMUM_SNAPLEN: what a snap length of 0 ("unlimited") means in a pcap header. */
export const PCAP_UNLIMITED_SNAPLEN = 262144;

const TWO32 = 4294967296;
const BT_NRB = 4;
const BT_ISB = 5;
const BT_CUSTOM = 0x00000bad;
const BT_CUSTOM_NO_COPY = 0x40000bad;

/** What a conversion could not carry over (see the module comment); all zero for pcap → pcapng. */
export interface ConversionReport {
  from: CaptureFormat;
  to: CaptureFormat;
  /** The output's timestamp resolution. */
  resolution: 'us' | 'ns';
  /** Name resolution blocks not written. */
  nameResolutionBlocks: number;
  /** Interface statistics blocks not written. */
  statisticsBlocks: number;
  /** Custom blocks not written (both kinds). */
  customBlocks: number;
  /** Other non-packet blocks (unknown or obsolete types) not written. */
  otherBlocks: number;
  /** Packets whose options (comments, flags, hashes…) or PB drops count were not written. */
  packetOptions: number;
  /** Simple packet blocks (no timestamp), stamped with the time of the packet before them. */
  untimedPackets: number;
  /** Timestamps the output resolution could not hold exactly (rounded down). */
  roundedTimestamps: number;
}

export function emptyReport(from: CaptureFormat, to: CaptureFormat, resolution: 'us' | 'ns'): ConversionReport {
  return {
    from,
    to,
    resolution,
    nameResolutionBlocks: 0,
    statisticsBlocks: 0,
    customBlocks: 0,
    otherBlocks: 0,
    packetOptions: 0,
    untimedPackets: 0,
    roundedTimestamps: 0,
  };
}

// ------------------------------------------------------------------ pcap → pcapng

/** SHB (little-endian, version 1.0, section length unknown, no options) and the IDB for a pcap input. */
export function pcapngPreamble(iface: InterfaceInfo, minSnaplen: number): Uint8Array {
  const fcs = iface.fcsLen !== undefined;
  const idbLen = 16 + 8 + (fcs ? 8 : 0) + 4 + 4;
  const out = new Uint8Array(28 + idbLen);
  out.set(newShb(true), 0);
  const v = new DataView(out.buffer);
  let at = 28;
  v.setUint32(at, 1, true);
  v.setUint32(at + 4, idbLen, true);
  v.setUint16(at + 8, iface.linkType, true);
  v.setUint32(at + 12, Math.max(iface.snaplen, minSnaplen), true);
  at += 16;
  v.setUint16(at, 9, true); // if_tsresol
  v.setUint16(at + 2, 1, true);
  out[at + 4] = iface.tsresol;
  at += 8;
  if (fcs) {
    v.setUint16(at, 13, true); // if_fcslen
    v.setUint16(at + 2, 1, true);
    out[at + 4] = iface.fcsLen as number;
    at += 8;
  }
  at += 4; // opt_endofopt
  v.setUint32(at, idbLen, true);
  return out;
}

/** The 64-bit count of µs (or ns) of a pcap timestamp, as EPB words: exact (split so no double exceeds 2^53). */
export function pcapToTicks(sec: number, frac: number, ns: boolean, into: { hi: number; lo: number }): void {
  const per = ns ? 1e9 : 1e6;
  const sh = Math.floor(sec / 65536);
  const x = sh * per; // < 2^46: the part to shift by 16 bits
  const y = (sec - sh * 65536) * per + frac; // < 2^47
  const xh = Math.floor(x / 65536);
  const low = (x - xh * 65536) * 65536 + y; // < 2^48
  const carry = Math.floor(low / TWO32);
  into.hi = xh + carry;
  into.lo = low - carry * TWO32;
}

// ------------------------------------------------------------------ pcapng → pcap

/** One pcapng interface's timestamps as pcap seconds and fraction (exact where the resolution allows). */
export class PcapStamp {
  /** 10^n units per second (n <= 9) for the exact double path; 0 for the BigInt path. */
  private readonly units: number;
  private readonly unitsBig: bigint;
  private readonly offset: number;
  sec = 0;
  frac = 0;
  /** Whether the last conversion was exact. */
  exact = true;

  constructor(readonly iface: InterfaceInfo) {
    const n = iface.tsresol & 0x7f;
    const pow2 = (iface.tsresol & 0x80) !== 0;
    this.units = !pow2 && n <= 9 ? 10 ** n : 0;
    this.unitsBig = pow2 ? 1n << BigInt(n) : 10n ** BigInt(n);
    this.offset = iface.tsoffset;
  }

  /** Whether every timestamp of this interface is a whole number of µs (else ns is needed). */
  get fitsUs(): boolean {
    return fitsIn(this.iface.tsresol, 6);
  }

  /** Sets sec / frac (µs, or ns when `ns`) for the timestamp words hi:lo; false when out of pcap's range. */
  convert(hi: number, lo: number, ns: boolean): boolean {
    const per = ns ? 1e9 : 1e6;
    let sec: number;
    let frac: number;
    let exact = true;
    const u = this.units;
    if (u !== 0) {
      // Long division of hi:lo by u in 16-bit steps (every partial value stays below 2^53).
      let q = 0;
      let r = 0;
      for (let k = 0; k < 4; k++) {
        const limb = ((k < 2 ? hi : lo) >>> (k & 1 ? 0 : 16)) & 0xffff;
        const cur = r * 65536 + limb;
        const d = Math.floor(cur / u);
        q = q * 65536 + d;
        r = cur - d * u;
      }
      sec = q;
      if (per >= u) frac = r * (per / u);
      else {
        const step = u / per;
        frac = Math.floor(r / step);
        exact = frac * step === r;
      }
    } else {
      // Exotic resolutions (2^-n, 10^-n beyond ns): BigInt, as TsClock does.
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      const big = this.unitsBig;
      const r = t % big;
      const num = r * BigInt(per);
      sec = Number(t / big);
      frac = Number(num / big);
      exact = num % big === 0n;
    }
    sec += this.offset;
    if (!(sec >= 0 && sec < TWO32)) return false;
    this.sec = sec;
    this.frac = frac;
    this.exact = exact;
    return true;
  }
}

/** Whether timestamps of resolution `tsresol` are whole multiples of 10^-digits s. */
function fitsIn(tsresol: number, digits: number): boolean {
  const n = tsresol & 0x7f;
  // 10^-n s is a whole number of 10^-digits units when n <= digits; 2^-n s when 2^n divides 10^digits.
  return n <= digits;
}

/** Whether the pcapng block (in `le` order) has options after the packet data (`tail`: padding + options). */
export function hasOptions(tail: Uint8Array, caplen: number, le: boolean): boolean {
  const pad = (4 - (caplen & 3)) & 3;
  if (tail.length < pad + 4) return false;
  const code = le ? tail[pad] | (tail[pad + 1] << 8) : (tail[pad] << 8) | tail[pad + 1];
  return code !== 0;
}

/** The pcap side of a pcapng input: the header, decided at the first packet, and each record. */
export class PcapFromPcapng {
  readonly report: ConversionReport;
  private readonly stamps: PcapStamp[] = [];
  /** The header's interface (link type and FCS), once written. */
  private chosen: InterfaceInfo | null = null;
  private ns = false;
  /** The last written timestamp (for simple packet blocks). */
  private lastSec = 0;
  private lastFrac = 0;

  constructor(
    private readonly input: string,
    private readonly minSnaplen: number,
  ) {
    this.report = emptyReport('pcapng', 'pcap', 'us');
  }

  /** An IDB was read. */
  addInterface(iface: InterfaceInfo): void {
    this.stamps[iface.id] = new PcapStamp(iface);
  }

  /** A non-packet block other than SHB / IDB was read: not written, counted. */
  dropBlock(bytes: Uint8Array, le: boolean): void {
    const type = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, le);
    const r = this.report;
    if (type === BT_NRB) r.nameResolutionBlocks++;
    else if (type === BT_ISB) r.statisticsBlocks++;
    else if (type === BT_CUSTOM || type === BT_CUSTOM_NO_COPY) r.customBlocks++;
    else r.otherBlocks++;
  }

  /** A packet as read (kind, timestamp words, tail as in the file) or new (tail null). */
  record(
    out: OutputFile,
    interfaceId: number,
    kind: number,
    hi: number,
    lo: number,
    origLen: number,
    drops: number,
    data: Uint8Array,
    tail: Uint8Array | null,
    le: boolean,
  ): void {
    const stamp = this.stamp(out, interfaceId);
    if (kind === KIND_SPB) {
      this.report.untimedPackets++;
    } else {
      if (!stamp.convert(hi, lo, this.ns)) this.outOfRange(interfaceId);
      if (!stamp.exact) this.report.roundedTimestamps++;
      this.lastSec = stamp.sec;
      this.lastFrac = stamp.frac;
    }
    // (An SPB's tail is padding, or the bytes its snap length cut: never options.)
    const options = tail !== null && kind !== KIND_SPB && hasOptions(tail, data.length, le);
    if (options || (kind === KIND_PB && drops !== 0)) this.report.packetOptions++;
    writePcapRecord(out, true, this.lastSec, this.lastFrac, origLen, data);
  }

  /** A new packet at `timeUs` (µs, if_tsoffset included). */
  recordAt(out: OutputFile, interfaceId: number, timeUs: number, data: Uint8Array): void {
    this.stamp(out, interfaceId);
    const t = Math.floor(timeUs);
    const sec = Math.floor(t / 1e6);
    if (!(sec >= 0 && sec < TWO32)) this.outOfRange(interfaceId);
    this.lastSec = sec;
    this.lastFrac = (t - sec * 1e6) * (this.ns ? 1000 : 1);
    writePcapRecord(out, true, this.lastSec, this.lastFrac, data.length, data);
  }

  /** Bytes the header will take if it is not written yet (the output's size before finish()). */
  get pendingBytes(): number {
    return this.chosen === null ? PCAP_HEADER_LEN : 0;
  }

  /** End of output: a file without packets still gets a header (the first interface's, else Ethernet). */
  finish(out: OutputFile): void {
    if (this.chosen !== null) return;
    const first = this.stamps.find((s) => s !== undefined);
    this.start(
      out,
      first ? first.iface : { id: 0, section: 0, localId: 0, linkType: 1, snaplen: 0, tsresol: 6, resolution: 'us', tsoffset: 0 },
    );
  }

  /** The interface's clock, checking that pcap can hold its packets; writes the header first. */
  private stamp(out: OutputFile, interfaceId: number): PcapStamp {
    const stamp = this.stamps[interfaceId];
    if (stamp === undefined) throw new RangeError(`unknown interface ${interfaceId}`);
    const iface = stamp.iface;
    const chosen = this.chosen ?? this.start(out, iface);
    if (iface.linkType !== chosen.linkType || (iface.fcsLen ?? 0) !== (chosen.fcsLen ?? 0)) {
      const what = (i: InterfaceInfo) =>
        `interface ${i.id}${i.name ? ` (${i.name})` : ''} is link type ${i.linkType}${i.fcsLen ? ` with a ${i.fcsLen}-byte FCS` : ''}`;
      throw new CaptureError(
        this.input,
        0,
        'unconvertible',
        'cannot be written as pcap',
        `packets on two link types: ${what(chosen)}, ${what(iface)}; a pcap file holds one: write pcapng (-F pcapng)`,
        false,
      );
    }
    return stamp;
  }

  /** Write the header for interfaces like `iface`: resolution and snap length over all of them known so far. */
  private start(out: OutputFile, iface: InterfaceInfo): InterfaceInfo {
    let ns = false;
    let snaplen = this.minSnaplen;
    for (const s of this.stamps) {
      if (s === undefined || s.iface.linkType !== iface.linkType) continue;
      if (!s.fitsUs) ns = true;
      const snap = s.iface.snaplen === 0 ? PCAP_UNLIMITED_SNAPLEN : s.iface.snaplen;
      if (snap > snaplen) snaplen = snap;
    }
    this.ns = ns;
    this.report.resolution = ns ? 'ns' : 'us';
    out.put(pcapHeader(iface.linkType, snaplen, ns, iface.fcsLen));
    this.chosen = iface;
    return iface;
  }

  private outOfRange(interfaceId: number): never {
    throw new CaptureError(
      this.input,
      0,
      'unconvertible',
      'cannot be written as pcap',
      `a packet of interface ${interfaceId} is stamped before 1970 or after 2106, which pcap cannot hold`,
      false,
    );
  }
}

/** A little-endian pcap global header, version 2.4 (FCS bits when the FCS length is even, 2 to 30). */
export function pcapHeader(linkType: number, snaplen: number, ns: boolean, fcsLen?: number): Uint8Array {
  const out = new Uint8Array(PCAP_HEADER_LEN);
  const v = new DataView(out.buffer);
  v.setUint32(0, ns ? 0xa1b23c4d : 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, snaplen, true);
  const fcs = fcsLen !== undefined && fcsLen > 0 && fcsLen <= 30 && fcsLen % 2 === 0 ? (((fcsLen / 2) << 28) | 0x04000000) >>> 0 : 0;
  v.setUint32(20, (fcs | (linkType & 0xffff)) >>> 0, true);
  return out;
}
