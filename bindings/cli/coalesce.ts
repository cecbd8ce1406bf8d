// `lro coalesce IN -o OUT`: a capture file through the engine, into a capture of the same format.
//
// Streaming: the reader holds one 4 MiB chunk, the writer one 4 MiB buffer; the rest is the engines (fixed at creation) and the pending-segment
// bookkeeping of match.ts (bounded by flows × segments per aggregate). File size does not
// matter.
//
// One engine per capture interface (a pcapng IDB; pcap has one), created when the interface's
// first packet arrives, driven by the capture's timestamps. Before a new pcapng section starts
// (writer's beforeSection) and at the end of input, the open engines are closed: what is
// pending goes out with reason 'close'. With several interfaces, the timers of the engines
// that get no input are fired as the capture's time passes their deadlines.
//
// What is written how (SPEC §7 "capture fidelity"):
//   - a pass-through (reason 'pass-through'): writeOriginal(record) — the record as read:
//     timestamp words at full resolution, original length, block type, pcapng options;
//   - a one-segment aggregate (its bytes are its input frame's): writeOriginal of the record it
//     came from, found by match.ts — so `--threshold 0` reproduces the input byte for byte;
//   - an aggregate of two or more segments: writeNew(interface, bytes, send time), a new EPB
//     (no options) or pcap record in the interface's resolution; on an interface whose frames
//     carry a 4-byte Ethernet FCS, a freshly computed FCS is appended.
//
// Speed: frames go to the engine in batches (pushBatch, up to 256 frames), and packets come
// back through the zero-copy sink straight into the writer's buffer. Nothing is copied on the
// way in: record views stay valid until the reader refills its buffer, and the reader calls
// beforeRefill first, which pushes the batch. A pass-through comes back as the very view that
// was pushed, which maps it to its record.

import { createEngine } from '../index.js';
import { flagError } from './engine-flags.js';
import { createCaptureWriter, openCapture, type CaptureError, type CaptureReader, type CaptureRecord, type CaptureWriter, type InterfaceInfo } from '../capture/index.js';
import { yieldToSignals } from '../capture/output.js';
import type { Engine, EngineOptions, Packet, Reason, Stats } from '../types.js';
import { REASONS } from '../types.js';
import { FileError } from './args.js';
import { FlowTracker, type Fifo } from './match.js';

/** Capture link types the CLI accepts, and the engine link type each is given as. */
export const LINK_TYPES: ReadonlyMap<number, { engine: number; name: string }> = new Map([
  [1, { engine: 1, name: 'Ethernet' }],
  [113, { engine: 113, name: 'Linux SLL' }],
  [276, { engine: 276, name: 'Linux SLL2' }],
  [101, { engine: 101, name: 'raw IP' }],
  [228, { engine: 101, name: 'raw IPv4' }],
  [229, { engine: 101, name: 'raw IPv6' }],
  [12, { engine: 101, name: 'raw IP (DLT 12)' }],
  [14, { engine: 101, name: 'raw IP (DLT 14)' }],
]);

export const SUPPORTED_LINK_TYPES = '1 Ethernet, 113 Linux SLL, 276 Linux SLL2, 101/228/229/12/14 raw IP';

export function linkTypeName(linkType: number): string {
  return LINK_TYPES.get(linkType)?.name ?? `link type ${linkType}`;
}

export interface CoalesceOptions {
  input: string;
  output: string;
  /** Engine options (linkType is set per interface). */
  engine?: EngineOptions;
  /** Continue after corrupt records where the reader can resynchronise. */
  skipBad?: boolean;
  /** Called for each record skipped by skipBad. */
  onSkip?: (err: CaptureError) => void;
  /** Called every few batches with the input byte offset reached and packets read. */
  onProgress?: (offset: number, packets: number) => void;
  /** Frames per pushBatch call (default 256). */
  batchSize?: number;
  /** Reader chunk size (default 4 MiB; tests use small ones to force refills mid-batch). */
  chunkSize?: number;
  /** The command named in usage errors (default 'coalesce'). */
  command?: string;
}

export interface InterfaceSummary {
  id: number;
  linkType: number;
  name?: string;
  packetsIn: number;
}

export interface CoalesceResult {
  input: string;
  output: string;
  format: 'pcap' | 'pcapng';
  engine: 'wasm' | 'ts';
  /** Engine stats summed over all interfaces. */
  stats: Stats;
  interfaces: InterfaceSummary[];
  /** Records written (= stats.packetsOut). */
  recordsWritten: number;
  /** Corrupt records skipped (skipBad). */
  skipped: number;
  /** One-segment aggregates written as new packets because match.ts lost track (expected 0). */
  fallbacks: number;
  bytesWritten: number;
}

const EMPTY = new Uint8Array(0);

/** Per-interface state: its engine and its pending-segment bookkeeping. */
class Iface {
  readonly tracker: FlowTracker;
  packetsIn = 0;
  closed = false;
  constructor(
    readonly info: InterfaceInfo,
    readonly engine: Engine,
    engineLinkType: number,
    /** Append a computed Ethernet FCS to new aggregates. */
    readonly fcs: boolean,
  ) {
    this.tracker = new FlowTracker(engineLinkType);
  }
}

export function zeroStats(): Stats {
  const reasons = {} as Record<Reason, number>;
  for (const r of REASONS) reasons[r] = 0;
  return {
    packetsIn: 0, packetsOut: 0, aggregates: 0, segmentsAggregated: 0, passedThrough: 0, bytesIn: 0,
    bytesOut: 0, flowsCreated: 0, flowsDeleted: 0, flowsActive: 0, tableFull: 0, clockClamped: 0, reasons,
  };
}

export function addStats(into: Stats, s: Stats): void {
  for (const k of Object.keys(s) as (keyof Stats)[]) {
    if (k === 'reasons') for (const r of REASONS) into.reasons[r] += s.reasons[r];
    else into[k] += s[k];
  }
}

class Coalescer {
  private readonly ifaces: (Iface | undefined)[] = [];
  private readonly open: Iface[] = [];
  private readonly totals = zeroStats();
  private readonly engineOptions: EngineOptions;
  private readonly command: string;
  private readonly batchSize: number;
  // The batch being filled: all frames of one interface.
  private batchIface: Iface | null = null;
  private frames: Uint8Array[] = [];
  private times: Float64Array;
  private recs: CaptureRecord[] = [];
  private fifos: (Fifo | null)[] = [];
  private n = 0;
  private serialBase = 0;
  /** Next batch index a pass-through can be (they come back in input order). */
  private cursor = 0;
  private lastTime = 0;
  private packets = 0;
  fallbacks = 0;

  constructor(
    private readonly reader: CaptureReader,
    private writer: CaptureWriter | null,
    opts: CoalesceOptions,
  ) {
    this.engineOptions = { ...opts.engine };
    this.command = opts.command ?? 'coalesce';
    this.batchSize = opts.batchSize ?? 256;
    this.times = new Float64Array(this.batchSize);
  }

  setWriter(w: CaptureWriter): void {
    this.writer = w;
  }

  async run(onProgress?: (offset: number, packets: number) => void): Promise<void> {
    const reader = this.reader;
    let batches = 0;
    for (;;) {
      const rec = reader.next();
      if (rec === null) break;
      let st = this.ifaces[rec.interfaceId];
      if (st === undefined || st.closed) {
        this.flushBatch();
        st = await this.openInterface(rec);
      }
      if (st !== this.batchIface || this.n === this.batchSize) {
        this.flushBatch();
        this.batchIface = st;
        if (++batches % 16 === 0) {
          onProgress?.(rec.offset, this.packets);
          if (batches % 64 === 0) await yieldToSignals(); // Ctrl-C can clean up (capture/output.ts)
        }
      }
      this.add(st, rec);
    }
    this.flushBatch();
    this.closeAll();
  }

  /** Engine stats summed over the interfaces (all closed by then). */
  get stats(): Stats {
    return this.totals;
  }

  interfaces(): InterfaceSummary[] {
    const out: InterfaceSummary[] = [];
    for (const st of this.ifaces) {
      if (st) out.push({ id: st.info.id, linkType: st.info.linkType, ...(st.info.name ? { name: st.info.name } : {}), packetsIn: st.packetsIn });
    }
    return out;
  }

  /** The reader is about to overwrite its buffer: the batch's views must be used up now. */
  beforeRefill(): void {
    this.flushBatch();
  }

  /** beforeSection: the records of the ending section must be written now. */
  endSection(): void {
    this.flushBatch();
    this.closeAll();
  }

  private add(st: Iface, rec: CaptureRecord): void {
    const data = rec.data;
    const i = this.n++;
    this.frames.push(data);
    this.times[i] = rec.timeUs;
    this.recs.push(rec);
    const fifo = st.tracker.register(data, rec, this.serialBase + i);
    // A registered record may be written after this batch (a one-segment aggregate): keep
    // its pcapng options. Its data is never needed again: the engine's output is written.
    if (fifo !== null && rec.tail.length !== 0) rec.tail = rec.tail.slice();
    this.fifos.push(fifo);
    st.packetsIn++;
    this.packets++;
  }

  private flushBatch(): void {
    const n = this.n;
    const st = this.batchIface;
    if (n === 0 || st === null) return;
    this.cursor = 0;
    st.engine.pushBatch(this.frames, n === this.times.length ? this.times : this.times.subarray(0, n));
    const t = this.times[n - 1];
    if (t > this.lastTime) this.lastTime = t;
    this.serialBase += n;
    this.n = 0;
    this.frames = [];
    this.recs = [];
    this.fifos = [];
    if (this.open.length > 1) this.fireIdleTimers(st);
  }

  /** Fire the due timers of the other interfaces' engines, deadline by deadline. */
  private fireIdleTimers(current: Iface): void {
    const now = this.lastTime;
    for (const other of this.open) {
      if (other === current) continue;
      const e = other.engine;
      for (let guard = 0; ; guard++) {
        const d = e.nextDeadline();
        if (!(d <= now)) break;
        e.advance(guard < 64 ? d : now);
      }
    }
  }

  private async openInterface(rec: CaptureRecord): Promise<Iface> {
    const info = this.reader.info.interfaces[rec.interfaceId];
    const link = LINK_TYPES.get(rec.linkType);
    if (!link) {
      const where = info?.offset ?? rec.offset;
      throw new FileError(`${this.reader.path}: unsupported link type ${rec.linkType} (interface ${rec.interfaceId}${info?.name ? ` '${info.name}'` : ''}) at byte ${where}; supported: ${SUPPORTED_LINK_TYPES}`);
    }
    const engine = await newEngine({ ...this.engineOptions, linkType: link.engine }, this.command);
    const st = new Iface(info, engine, link.engine, link.engine === 1 && info.fcsLen === 4);
    engine.setSink((data, meta) => this.emit(st, data, meta));
    this.ifaces[rec.interfaceId] = st;
    this.open.push(st);
    return st;
  }

  private closeAll(): void {
    for (const st of this.open) {
      st.engine.close();
      st.closed = true;
      addStats(this.totals, st.engine.stats());
      this.fallbacks += st.tracker.fallbacks;
    }
    this.open.length = 0;
  }

  /** The engines' zero-copy sink: every sent packet, in order. */
  private emit(st: Iface, data: Uint8Array, meta: Omit<Packet, 'data'>): void {
    const w = this.writer as CaptureWriter;
    if (meta.reason === 'pass-through') {
      // The frame we pushed, handed back: find its record (pass-throughs come in input order).
      const frames = this.frames;
      const n = this.n;
      let i = this.cursor;
      while (i < n && frames[i] !== data) i++;
      if (i === n) throw new Error('internal error: a pass-through that is not in the batch');
      this.cursor = i + 1;
      const fifo = this.fifos[i];
      if (fifo !== null) st.tracker.passedThrough(fifo, this.serialBase + i);
      w.writeOriginal(this.recs[i]);
    } else if (meta.segments === 1) {
      const rec = st.tracker.aggregate(data, 1);
      if (rec !== null) {
        rec.data = data;
        w.writeOriginal(rec);
        rec.data = EMPTY;
      } else {
        w.writeNew(st.info.id, data, meta.timeUs);
      }
    } else {
      st.tracker.aggregate(data, meta.segments);
      w.writeNew(st.info.id, st.fcs ? withFcs(data) : data, meta.timeUs);
    }
  }
}

/**
 * createEngine, with the missing-wasm case turned into a one-line FileError and options that
 * cannot be met (memory) into a usage error naming the flags.
 */
export async function newEngine(options: EngineOptions, command: string): Promise<Engine> {
  try {
    return await createEngine(options);
  } catch (err) {
    if (err instanceof RangeError) throw flagError(command, err);
    const e = err as NodeJS.ErrnoException;
    if (e && e.code === 'ENOENT') {
      throw new FileError('cannot load the WebAssembly core build/lro.wasm (run `npm run build`, or use --engine ts)');
    }
    throw err;
  }
}

/** Coalesce `input` into `output` (written atomically). Throws CaptureError / FileError. */
export async function coalesceFile(opts: CoalesceOptions): Promise<CoalesceResult> {
  let coalescer: Coalescer | null = null;
  const reader = openCapture(opts.input, {
    skipBad: opts.skipBad ?? false,
    onSkip: opts.onSkip,
    chunkSize: opts.chunkSize,
    beforeRefill: () => coalescer?.beforeRefill(),
  });
  let writer: CaptureWriter | null = null;
  try {
    if (reader.info.format === 'pcap') {
      const iface = reader.info.interfaces[0];
      if (!LINK_TYPES.has(iface.linkType)) {
        throw new FileError(`${opts.input}: unsupported link type ${iface.linkType} at byte 20; supported: ${SUPPORTED_LINK_TYPES}`);
      }
    }
    const c = new Coalescer(reader, null, opts);
    coalescer = c;
    writer = createCaptureWriter(opts.output, reader, { beforeSection: () => c.endSection() });
    c.setWriter(writer);
    await c.run(opts.onProgress);
    const bytesWritten = writer.bytesWritten;
    writer.commit();
    const stats = c.stats;
    return {
      input: opts.input,
      output: opts.output,
      format: reader.info.format,
      engine: opts.engine?.engine ?? 'wasm',
      stats,
      interfaces: c.interfaces(),
      recordsWritten: writer.records,
      skipped: reader.skipped,
      fallbacks: c.fallbacks,
      bytesWritten,
    };
  } catch (err) {
    writer?.abort();
    throw err;
  } finally {
    reader.close();
  }
}

// Ethernet FCS (CRC-32, IEEE 802.3), appended little-endian.
let crcTable: Uint32Array | null = null;

function crc32(data: Uint8Array): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function withFcs(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 4);
  out.set(data);
  const c = crc32(data);
  out[data.length] = c & 0xff;
  out[data.length + 1] = (c >>> 8) & 0xff;
  out[data.length + 2] = (c >>> 16) & 0xff;
  out[data.length + 3] = c >>> 24;
  return out;
}

