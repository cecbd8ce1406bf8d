// The main job behind `lro coalesce IN -o OUT`: a capture file through the engines, into a capture
// of the same format.
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
// What is written how (docs/CONTRACT.md "Capture fidelity"):
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

import {
  FileError,
  createCaptureWriter,
  openCapture,
  type CaptureError,
  type CaptureReader,
  type CaptureRecord,
  type CaptureWriter,
  type InterfaceInfo,
} from '../capture/index.js';
import { createEngine } from '../engine/create.js';
import { yieldToEventLoop } from '../capture/output.js';
import { addStats, zeroStats } from '../engine/stats.js';
import type { Engine, EngineOptions, Packet, Stats } from '../engine/types.js';
import { withFcs } from './fcs.js';
import { LINK_TYPES, SUPPORTED_LINK_TYPES } from './link-types.js';
import { FlowTracker, type Fifo } from './match.js';

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
  /** Makes each interface's engine (default createEngine; the CLI turns its errors into messages). */
  createEngine?: (options: EngineOptions) => Promise<Engine>;
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

class Coalescer {
  private readonly ifaces: (Iface | undefined)[] = [];
  private readonly open: Iface[] = [];
  private readonly totals = zeroStats();
  private readonly engineOptions: EngineOptions;
  private readonly createEngine: (options: EngineOptions) => Promise<Engine>;
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
    this.createEngine = opts.createEngine ?? createEngine;
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
          if (batches % 64 === 0) await yieldToEventLoop(); // a signal handler (Ctrl-C) can run
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
      if (st)
        out.push({ id: st.info.id, linkType: st.info.linkType, ...(st.info.name ? { name: st.info.name } : {}), packetsIn: st.packetsIn });
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
      throw new FileError(
        `${this.reader.path}: unsupported link type ${rec.linkType} (interface ${rec.interfaceId}${info?.name ? ` '${info.name}'` : ''}) at byte ${where}; supported: ${SUPPORTED_LINK_TYPES}`,
      );
    }
    const engine = await this.createEngine({ ...this.engineOptions, linkType: link.engine });
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
