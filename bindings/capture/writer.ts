// Writing a capture in the format of its input (or, with `format`, the other one: convert.ts).
//
// The writer attaches to the reader: the pcap header, SHBs, IDBs and other pcapng blocks are
// copied to the output as the reader passes them (so they stay in place relative to packets),
// with two edits: snap lengths below `minSnaplen` are raised (aggregates are larger than
// captured frames), and an SHB's section length becomes -1 (unknown), since the output's differs.
// Packets are written by the caller, either unchanged (`writeOriginal`) or new (`writeNew`).
// Converting, a pcap header becomes an SHB and an IDB, records EPBs; pcapng becomes a pcap
// header in front of the first packet, and what pcap cannot hold is dropped and counted
// (`conversion`).
//
// Output goes to a temporary file next to the destination; `commit()` renames it into place,
// `abort()` deletes it. Create the writer right after opening the reader, before reading.

import { type ConversionReport, emptyReport, PcapFromPcapng, pcapngPreamble, pcapToTicks } from './convert.js';
import type { CaptureReader } from './reader.js';
import { OutputFile } from './output.js';
import { outputPcapHeader, pcapTime, writePcapRecord } from './pcap.js';
import { BT_EPB, BT_PB } from './pcapng.js';
import { outputIdb, outputShb, writePacketBlock, writeSimplePacketBlock } from './pcapng-encode.js';
import { EMPTY } from './record.js';
import { TsClock } from './timestamp.js';
import {
  KIND_EPB,
  KIND_PB,
  KIND_PCAP,
  KIND_SPB,
  type CaptureFormat,
  type CaptureRecord,
  type HeaderEvent,
  type InterfaceInfo,
} from './types.js';

/** Snap length the output advertises at least: room for any aggregate (and then some). */
export const MIN_OUTPUT_SNAPLEN = 262144;

export interface WriterOptions {
  /** Output format (default: the input's). */
  format?: CaptureFormat;
  /** Snap lengths below this are raised in the output header / IDBs (default 262144). */
  minSnaplen?: number;
  /** Output buffer size (default 4 MiB). */
  bufferSize?: number;
  /**
   * pcapng with several sections: called (from inside reader.next()) just before a new SHB is
   * copied. Write the ending section's pending packets here; after it, records of earlier
   * sections can no longer be written. Must not call reader.next().
   */
  beforeSection?: () => void;
  /**
   * pcapng blocks other than SHB, IDB and packets (name resolution, statistics, custom…): a caller
   * that reorders packets takes them here (returns true), to write them in their place with
   * `writeBlock`, or to drop them; otherwise they are written at once.
   */
  placeBlock?: (bytes: Uint8Array, littleEndian: boolean) => boolean;
}

export class CaptureWriter {
  /** The output's format. */
  readonly format: CaptureFormat;
  readonly inputFormat: CaptureFormat;
  /** Packets written (original and new). */
  records = 0;
  private readonly out: OutputFile;
  private readonly minSnaplen: number;
  private readonly beforeSection?: () => void;
  private readonly placeBlock?: (bytes: Uint8Array, littleEndian: boolean) => boolean;
  private le = true;
  /** pcap: fraction is ns. */
  private ns = false;
  /** pcapng: current section, and interfaces / clocks by global id. */
  private section = -1;
  private readonly ifaces: InterfaceInfo[] = [];
  private readonly clocks: TsClock[] = [];
  /** pcapng → pcap: the pcap side; pcap → pcapng: its (empty) report. */
  private readonly toPcap: PcapFromPcapng | null = null;
  private readonly toPcapng: ConversionReport | null = null;
  private readonly ticks = { hi: 0, lo: 0 };

  /** Use `createCaptureWriter`. */
  constructor(
    readonly path: string,
    reader: CaptureReader,
    opts: WriterOptions = {},
  ) {
    this.minSnaplen = opts.minSnaplen ?? MIN_OUTPUT_SNAPLEN;
    this.inputFormat = reader.info.format;
    this.format = opts.format ?? this.inputFormat;
    if (this.format !== this.inputFormat) {
      if (this.format === 'pcap')
        this.toPcap = new PcapFromPcapng(reader.info.file === '-' ? 'standard input' : reader.info.file, this.minSnaplen);
      else this.toPcapng = emptyReport('pcap', 'pcapng', 'us');
    }
    this.beforeSection = opts.beforeSection;
    this.placeBlock = opts.placeBlock;
    this.out = new OutputFile(path, opts.bufferSize);
    try {
      reader.onHeaders((ev) => this.header(ev));
    } catch (err) {
      this.out.abort();
      throw err;
    }
  }

  /** Temporary file being written (renamed to `path` by commit). */
  get tempPath(): string | null {
    return this.out.tempPath;
  }

  /** Bytes written so far, buffered ones included (and a pcap header still to come). */
  get bytesWritten(): number {
    return this.out.size + (this.toPcap?.pendingBytes ?? 0);
  }

  /** What a conversion to the other format dropped or changed; null when the format is the input's. */
  get conversion(): ConversionReport | null {
    return this.toPcap?.report ?? this.toPcapng;
  }

  /** Write a record as read: same timestamp words, lengths, block type and options, byte for byte. */
  writeOriginal(rec: CaptureRecord): void {
    this.writeRecord(rec.interfaceId, rec.kind, rec.tsHigh, rec.tsLow, rec.origLen, rec.drops, rec.data, rec.tail, rec.timeUs);
  }

  /**
   * Write a record from its parts, as writeOriginal does: `kind` (RecordKind), the timestamp words
   * as read, the original length, the drops count (PB), the data and the pcapng tail (the block's
   * bytes after the data: padding and options, as read). A new EPB may borrow the timestamp words
   * of another record of the same interface (with kind KIND_EPB and an empty tail). `timeUs`, the
   * time the reader gave the record, is used only for an SPB that cannot be copied (below).
   */
  writeRecord(
    interfaceId: number,
    kind: number,
    tsHigh: number,
    tsLow: number,
    origLen: number,
    drops: number,
    data: Uint8Array,
    tail: Uint8Array | null,
    timeUs = 0,
  ): void {
    if (this.toPcap !== null) {
      this.toPcap.record(this.out, interfaceId, kind, tsHigh, tsLow, origLen, drops, data, tail, this.le);
    } else if (this.format === 'pcap') {
      if (kind !== KIND_PCAP) throw new RangeError('writeRecord: a pcapng record cannot be written to a pcap file');
      writePcapRecord(this.out, this.le, tsHigh, tsLow, origLen, data);
    } else if (kind === KIND_PCAP && this.toPcapng !== null) {
      const t = this.ticks;
      pcapToTicks(tsHigh, tsLow, this.ns, t);
      writePacketBlock(this.out, this.le, BT_EPB, this.localId(interfaceId), 0, t.hi, t.lo, origLen, data, null);
    } else {
      const id = this.localId(interfaceId);
      const le = this.le;
      if (kind === KIND_EPB || kind === KIND_PB) {
        const type = kind === KIND_EPB ? BT_EPB : BT_PB;
        writePacketBlock(this.out, le, type, id, drops, tsHigh, tsLow, origLen, data, tail !== null && tail.length > 0 ? tail : null);
      } else if (kind === KIND_SPB) {
        if (id !== 0) throw new RangeError('writeRecord: a simple packet block must be on interface 0 of its section');
        const snap = this.ifaces[interfaceId].snaplen;
        if (snap !== 0 && snap < this.minSnaplen && data.length < Math.min(origLen, this.minSnaplen)) {
          // An SPB's captured length is min(origLen, snaplen). One cut by the input's snap length
          // would, under the raised one, be read as longer than it is (tshark refuses the file;
          // this reader took its padding for data): it becomes an EPB with the same lengths,
          // stamped with the time the reader gave it (the previous packet's; 0 if the clock cannot).
          const clock = this.clocks[interfaceId];
          try {
            clock.fromUs(timeUs);
          } catch {
            clock.hi = clock.lo = 0;
          }
          writePacketBlock(this.out, le, BT_EPB, id, 0, clock.hi, clock.lo, origLen, data, null);
        } else {
          writeSimplePacketBlock(this.out, le, origLen, data, tail ?? EMPTY);
        }
      } else {
        throw new RangeError('writeRecord: a pcap record cannot be written to a pcapng file');
      }
    }
    this.records++;
  }

  /**
   * Write a new packet (e.g. an aggregate) on an interface (global id): an EPB, or a pcap record,
   * with origLen = caplen = data.length and `timeUs` in the interface's resolution and offset.
   */
  writeNew(interfaceId: number, data: Uint8Array, timeUs: number): void {
    if (this.toPcap !== null) {
      this.toPcap.recordAt(this.out, interfaceId, timeUs, data);
    } else if (this.format === 'pcap') {
      if (interfaceId !== 0) throw new RangeError(`writeNew: pcap has only interface 0, not ${interfaceId}`);
      const t = pcapTime(timeUs, this.ns);
      writePcapRecord(this.out, this.le, t.sec, t.frac, data.length, data);
    } else {
      const id = this.localId(interfaceId);
      const clock = this.clocks[interfaceId];
      clock.fromUs(timeUs);
      writePacketBlock(this.out, this.le, BT_EPB, id, 0, clock.hi, clock.lo, data.length, data, null);
    }
    this.records++;
  }

  /** Write full output buffers in the background (OutputFile.overlap); then settle() before commit(). */
  overlap(): boolean {
    return this.out.overlap();
  }

  get writesInFlight(): number {
    return this.out.writesInFlight;
  }

  /** Wait until at most `max` background writes are in flight. */
  settle(max: number): Promise<void> {
    return this.out.settle(max);
  }

  /** Flush, close and rename the temporary file to the output path. */
  commit(): void {
    this.toPcap?.finish(this.out);
    this.out.commit();
  }

  /** Close and delete the temporary file (idempotent; a no-op after commit). */
  abort(): void {
    this.out.abort();
  }

  private header(ev: HeaderEvent): void {
    const out = this.out;
    switch (ev.kind) {
      case 'pcap-header': {
        const iface = ev.iface!;
        this.ns = iface.tsresol === 9;
        if (this.toPcapng === null) {
          this.le = ev.littleEndian;
          out.put(outputPcapHeader(ev.bytes, ev.littleEndian, this.minSnaplen));
          break;
        }
        // pcap → pcapng: one little-endian section, one interface of the same resolution.
        this.le = true;
        this.section = 0;
        this.ifaces[0] = iface;
        this.clocks[0] = new TsClock(iface.tsresol, 0);
        this.toPcapng.resolution = this.ns ? 'ns' : 'us';
        out.put(pcapngPreamble(iface, this.minSnaplen));
        break;
      }
      case 'shb':
        if (this.section >= 0) this.beforeSection?.();
        this.section = ev.section;
        this.le = ev.littleEndian;
        if (this.toPcap === null) out.put(outputShb(ev.bytes));
        break;
      case 'idb': {
        const iface = ev.iface!;
        this.ifaces[iface.id] = iface;
        this.clocks[iface.id] = new TsClock(iface.tsresol, iface.tsoffset);
        if (this.toPcap !== null) this.toPcap.addInterface(iface);
        else out.put(outputIdb(ev.bytes, ev.littleEndian, this.minSnaplen));
        break;
      }
      default:
        if (this.toPcap !== null) this.toPcap.dropBlock(ev.bytes, ev.littleEndian);
        else if (!this.placeBlock?.(ev.bytes, ev.littleEndian)) out.put(ev.bytes);
    }
  }

  /** Write a block as it was read (see WriterOptions.placeBlock). */
  writeBlock(bytes: Uint8Array): void {
    if (this.format === 'pcap') throw new RangeError('writeBlock: a pcap file has no blocks');
    this.out.put(bytes);
  }

  /** The id an EPB of the current section uses for a global interface id. */
  private localId(interfaceId: number): number {
    const iface = this.ifaces[interfaceId];
    if (!iface) throw new RangeError(`unknown interface ${interfaceId}`);
    if (iface.section !== this.section) {
      throw new RangeError(
        `interface ${interfaceId} belongs to section ${iface.section}, but section ${this.section} is being written (use beforeSection)`,
      );
    }
    return iface.localId;
  }
}

/** Start writing `path` in the format of `reader`'s input or `opts.format` (throws CaptureError if not writable). */
export function createCaptureWriter(path: string, reader: CaptureReader, opts?: WriterOptions): CaptureWriter {
  return new CaptureWriter(path, reader, opts);
}
