// The main job behind `lro coalesce IN -o OUT`: a capture file through the engines, into a capture
// of the same format (or the other one, `format`: the writer converts, capture/convert.ts).
//
// One engine per capture interface (a pcapng IDB; pcap has one), created when the interface's
// first packet arrives, driven by the capture's timestamps. Before a new pcapng section starts
// (the writer's beforeSection) and at the end of input, the open engines are closed: what is
// pending goes out with reason 'close'. With several interfaces, the timers of the engines that
// get no input are fired as the capture's time passes their deadlines.
//
// Order and time (CONTRACT §7 "Capture fidelity"): every output packet is written at the
// position of its first segment in the input — the engine tells it (`inputIndex`) — so an ACK
// never precedes the data it acknowledges and the output is time-ordered whenever the input is.
// A packet is written as soon as every earlier position is resolved (`firstPendingIndex()`: no
// pending aggregate starts before it); otherwise it waits in a ReorderBuffer (reorder.ts).
//   - a pass-through, or a one-segment aggregate (its bytes are its input frame's): the record as
//     read — timestamp words at full resolution, original length, block type, pcapng options —
//     so `--threshold 0` reproduces the input byte for byte;
//   - an aggregate of two or more segments: a new record (pcap record, or an EPB without
//     options) with its first segment's timestamp words; on an interface whose frames carry a
//     4-byte Ethernet FCS, a freshly computed FCS is appended.
//
// Speed: records are read into one reusable record object without views (nothing allocated per
// record); each interface batches its frames where they lie in the reader's buffer and pushes
// them from there (pushFrom: the one copy, into the engine's ring); packets come back through the
// zero-copy sink straight into the writer's buffer. Memory stays flat: the reader holds one
// chunk, the writer one buffer, the engines are fixed at creation, and what waits for its
// position is bounded by the AgTimer.

import {
  blankRecord,
  CaptureError,
  createCaptureWriter,
  NEED_INPUT,
  openCaptureAsync,
  type CaptureFormat,
  type CaptureReader,
  type CaptureRecord,
  type CaptureWriter,
  type ConversionReport,
  type InterfaceInfo,
} from '../capture/index.js';
import { waitForFifoReader, yieldToEventLoop } from '../capture/output.js';
import { KIND_PCAP, KIND_SPB, KIND_EPB } from '../capture/types.js';
import { LINK_ETHERNET, MAX_BATCH, MAX_TIME, STAGE_BYTES } from '../abi.js';
import { createEngine } from '../engine/create.js';
import { addStats, zeroStats } from '../engine/stats.js';
import type { Engine, EngineOptions, Packet, Stats } from '../engine/types.js';
import { withFcs } from './fcs.js';
import { LINK_TYPES } from './link-types.js';
import { IndexRing, RecordRing } from './records.js';
import { ReorderBuffer } from './reorder.js';

export interface CoalesceOptions {
  input: string;
  output: string;
  /** Output format (default: the input's; the writer converts: capture/convert.ts). */
  format?: CaptureFormat;
  /** Engine options (linkType is set per interface). */
  engine?: EngineOptions;
  /** Continue after corrupt records where the reader can resynchronise. */
  skipBad?: boolean;
  /** Called for each record skipped by skipBad. */
  onSkip?: (err: CaptureError) => void;
  /** Called every few batches with the input byte offset reached and packets read. */
  onProgress?: (offset: number, packets: number) => void;
  /** Frames per pushStaged call (default and most: 1024). */
  batchSize?: number;
  /** Reader chunk size (default READ_CHUNK; tests use small ones to force refills mid-batch). */
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
  /** The output's format, and the input's. */
  format: CaptureFormat;
  inputFormat: CaptureFormat;
  /** What writing the other format dropped (null when the output has the input's format). */
  conversion: ConversionReport | null;
  engine: 'wasm' | 'ts';
  /** Engine stats summed over all interfaces. */
  stats: Stats;
  interfaces: InterfaceSummary[];
  /** Records written (= stats.packetsOut). */
  recordsWritten: number;
  /** Corrupt records skipped (skipBad). */
  skipped: number;
  /** Records of a link type no engine takes, passed through unchanged. */
  unsupportedRecords: number;
  /** Those link types. */
  unsupportedLinkTypes: number[];
  bytesWritten: number;
}

/**
 * Bytes per read of the input: 1 MiB reads stay in the cache on their way into the engine's ring
 * (measured here ~10 ms faster per 300 MB than the reader's default 4 MiB).
 */
const READ_CHUNK = 1 << 20;

/** Times the engine clock takes are below this (2^53 µs). */
const MAX_TIME_US = 2 ** 53;

/** Zero padding of 0 to 3 bytes (a new SPB's tail). */
const ZERO_PAD = [0, 1, 2, 3].map((n) => new Uint8Array(n));

/** pcapng custom block that must not be copied into a changed file (pcapng spec, custom blocks). */
const BT_CUSTOM_NO_COPY = 0x40000bad;

/**
 * The rings' cached lower bounds (Iface.add, Coalescer.remember) are renewed when a ring is full
 * and also every 1024 entries (this mask): so the branch that renews them runs early, and the
 * optimizing compiler, which takes the read loop after a few thousand records, has seen it. Else
 * the first wrap (at 4096 and 16384 records) threw the compiled loop away and had it compiled
 * again (taking turns on the bench's 200k-frame capture: whole process 285 -> 276 ms).
 */
const RENEW_EVERY = 1023;

/** How a packet is written: as its first segment's record, or as a new record; or a non-packet block, as read. */
const AS_RECORD = 0;
const AS_NEW = 1;
const AS_BLOCK = 2;

/** Per-interface state: its engine and which position each frame it was given has. */
class Iface {
  /** Frames given to the engine so far: the next frame's inputIndex. */
  count = 0;
  /** Its engine's nextDeadline() after the last call into it (it moves only when the engine is called). */
  deadline = Infinity;
  readonly positions = new IndexRing();
  /** No index below this one is looked up any more (a cached firstPendingIndex()). */
  private low = 0;
  closed = false;
  // Its batch: frames read but not pushed yet, where they lie in the reader's buffer (offsets
  // from regionStart). Each interface keeps its own, so records of several interfaces that
  // alternate still go to their engines in full batches; a frame waiting here holds back the
  // output (frontier()).
  readonly offsets = new Int32Array(MAX_BATCH);
  readonly lengths = new Int32Array(MAX_BATCH);
  readonly times = new Float64Array(MAX_BATCH);
  n = 0;
  regionStart = 0;
  regionEnd = 0;
  constructor(
    readonly info: InterfaceInfo,
    readonly engine: Engine,
    /** Append a computed Ethernet FCS to new aggregates. */
    readonly fcs: boolean,
    /** Link-header bytes before the engine's frame (link-types.ts). */
    readonly prefix: number,
  ) {}

  /**
   * Position of the oldest frame that may still start an output packet; Infinity if none. Frames
   * read but not pushed count: the engine's next index is the first of them.
   */
  frontier(): number {
    const first = this.engine.firstPendingIndex();
    return first < this.count ? this.positions.get(first) : Infinity;
  }

  /**
   * frontier() as of the last call into the engine or add(): it moves only then, so the pipeline
   * reads this instead of asking every engine for every packet (120 interfaces ran 7× slower).
   */
  front = Infinity;

  /** Remember that the next frame has position `serial`, making room in the ring if needed. */
  add(serial: number): void {
    const i = this.count++;
    if (i - this.low >= this.positions.capacity || (i & RENEW_EVERY) === RENEW_EVERY) {
      this.low = this.engine.firstPendingIndex();
      if (i - this.low >= this.positions.capacity) this.positions.grow(this.low, i);
    }
    this.positions.set(i, serial);
    if (this.front === Infinity) this.front = serial; // the engine's next index was i
  }
}

class Coalescer {
  private readonly ifaces: (Iface | null | undefined)[] = [];
  /** Records of a link type no engine takes (their interface is null in `ifaces`), and those link types. */
  unsupported = 0;
  readonly unsupportedLinks = new Set<number>();
  /** Records skipped here (skipBad) because the engine clock cannot take their time. */
  skippedHere = 0;
  private readonly skipBad: boolean;
  private readonly onSkip?: (err: CaptureError) => void;
  /** Where a packet is put together with its link-header prefix before it is written. */
  private scratch = new Uint8Array(65536 + 256);
  private readonly open: Iface[] = [];
  private readonly totals = zeroStats();
  private readonly engineOptions: EngineOptions;
  private readonly createEngine: (options: EngineOptions) => Promise<Engine>;
  private readonly batchSize: number;
  private readonly records = new RecordRing();
  private readonly held = new ReorderBuffer();
  private readonly writeHeld = (position: number, data: Uint8Array, tag: number) => this.write(position, data, tag);
  /** Position of the next record read. */
  private serial = 0;
  /** Positions below this one need no record any more (written, or absorbed into an aggregate). */
  private low = 0;
  /** The latest capture time pushed to an open engine: the others fire their timers by it. */
  private lastTime = 0;
  /** The interface whose engine is being called (its sink runs inside the call), whose frontier moves meanwhile. */
  private calling: Iface | null = null;

  constructor(
    private readonly reader: CaptureReader,
    private writer: CaptureWriter | null,
    opts: CoalesceOptions,
  ) {
    this.engineOptions = { ...opts.engine };
    this.skipBad = opts.skipBad ?? false;
    this.onSkip = opts.onSkip;
    this.createEngine = opts.createEngine ?? createEngine;
    this.batchSize = Math.max(1, Math.min(MAX_BATCH, opts.batchSize ?? MAX_BATCH));
  }

  setWriter(w: CaptureWriter): void {
    this.writer = w;
  }

  async run(onProgress?: (offset: number, packets: number) => void): Promise<void> {
    for (;;) {
      try {
        await this.readRecords(onProgress);
        break;
      } catch (err) {
        // A pipe with nothing in it yet: wait for it (on the thread pool: Ctrl-C still works), go on.
        if (err !== NEED_INPUT) throw err;
        await this.reader.waitForInput();
      }
    }
    this.flushBatch();
    this.closeAll();
  }

  /** Read records to the end of input (or until a pipe has to be waited for: NEED_INPUT). */
  private async readRecords(onProgress?: (offset: number, packets: number) => void): Promise<void> {
    const reader = this.reader;
    const rec = blankRecord();
    let batches = 0;
    while (reader.read(rec)) {
      // The engine clock takes µs in [0, 2^53): a record stamped outside it is a corrupt record.
      if (!(rec.timeUs >= 0 && rec.timeUs < MAX_TIME_US) && this.outOfRange(rec)) continue;
      let st = this.ifaces[rec.interfaceId];
      if (st === undefined || st?.closed) {
        this.flushBatch();
        st = await this.openInterface(rec.interfaceId, rec.linkType);
      }
      if (st === null) {
        // A link type no engine takes: the record passes through unchanged, in its place.
        this.flushBatch();
        this.unsupported++;
        const position = this.remember(rec, 0);
        this.place(position, reader.buffer.subarray(rec.dataAt, rec.dataAt + rec.dataLength), AS_RECORD);
        continue;
      }
      const end = rec.dataAt + rec.dataLength;
      if (st.n === this.batchSize || (st.n !== 0 && end - st.regionStart > STAGE_BYTES)) this.flushIface(st);
      if (st.n === 0) {
        st.regionStart = rec.dataAt;
        // The output's full buffers are written in the background: keep at most two in flight.
        const w = this.writer as CaptureWriter;
        if (w.writesInFlight > 2) await w.settle(1);
        // Progress every 16th batch, a turn of the event loop every 64th (a signal handler such as
        // Ctrl-C's can run), counted from the 2nd batch: first made at the 16th and 64th, after the
        // optimizing compiler had taken this loop, these calls threw its code away (a deopt and a
        // recompile; taking turns on the bench's capture, 293 -> 285 ms, 18 ms less CPU).
        if (++batches % 16 === 2) {
          onProgress?.(rec.offset, this.serial);
          if (batches % 64 === 2) await yieldToEventLoop();
        }
      }
      const serial = this.remember(rec, st.prefix);
      st.add(serial);
      const skip = Math.min(st.prefix, rec.dataLength);
      // (A record larger than STAGE_BYTES is a batch of its own: the check above pushed the one
      // before it, the next record pushes it; pushFrom takes a frame of any size.)
      const i = st.n++;
      st.offsets[i] = rec.dataAt + skip - st.regionStart;
      st.lengths[i] = rec.dataLength - skip;
      st.times[i] = engineTime(rec.timeUs);
      st.regionEnd = end;
    }
  }

  /** A record whose time the engine cannot take: an error, or with skipBad skipped (true). */
  private outOfRange(rec: CaptureRecord): boolean {
    const err = new CaptureError(
      this.reader.info.file === '-' ? 'standard input' : this.reader.info.file,
      rec.offset,
      'bad-block',
      'timestamp out of range',
      `${rec.timeUs} µs`,
    );
    if (!this.skipBad) throw err;
    this.skippedHere++;
    this.onSkip?.(err);
    return true;
  }

  /** Engine stats summed over the interfaces (all closed by then). */
  get stats(): Stats {
    return this.totals;
  }

  interfaces(): InterfaceSummary[] {
    const out: InterfaceSummary[] = [];
    for (const st of this.ifaces) {
      if (st) {
        const name = st.info.name ? { name: st.info.name } : {};
        out.push({ id: st.info.id, linkType: st.info.linkType, ...name, packetsIn: st.count });
      }
    }
    return out;
  }

  /** The reader is about to overwrite its buffer: the batch's frames must be pushed now. */
  beforeRefill(): void {
    this.flushBatch();
  }

  /**
   * placeBlock: a non-packet pcapng block keeps its place among the packets (before any: written
   * at once); a custom block marked "do not copy" is dropped, since the output is a changed file.
   */
  placeBlock(bytes: Uint8Array, littleEndian: boolean): boolean {
    if (new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, littleEndian) === BT_CUSTOM_NO_COPY) return true;
    if (this.writer === null) return false;
    this.place(this.serial++, bytes, AS_BLOCK);
    return true;
  }

  /** beforeSection: the records of the ending section must be written now. */
  endSection(): void {
    this.flushBatch();
    this.closeAll();
  }

  /** Store the record's facts at the next position (growing the ring if the span needs it). */
  private remember(rec: Parameters<RecordRing['store']>[1], prefix: number): number {
    const serial = this.serial++;
    const ring = this.records;
    if (serial - this.low >= ring.capacity || (serial & RENEW_EVERY) === RENEW_EVERY) {
      this.low = Math.min(this.held.minPosition(), this.frontier(), serial);
      if (serial - this.low >= ring.capacity) ring.grow(this.low, serial);
    }
    ring.store(serial, rec, this.reader.buffer, prefix);
    return serial;
  }

  /** Push every interface's batch (the reader is about to reuse its buffer, or input ends). */
  private flushBatch(): void {
    for (const st of this.open) if (st.n !== 0) this.flushIface(st);
  }

  /** Push the interface's batch from the reader's buffer (pushFrom: one copy per run of its frames, into the engine's ring). */
  private flushIface(st: Iface): void {
    const n = st.n;
    if (n === 0) return;
    st.n = 0;
    const offsets = st.offsets.subarray(0, n);
    const lengths = st.lengths.subarray(0, n);
    const times = st.times.subarray(0, n);
    this.callEngine(st, () => st.engine.pushFrom(this.reader.buffer.subarray(st.regionStart, st.regionEnd), offsets, lengths, times));
    const t = times[n - 1];
    if (t > this.lastTime) this.lastTime = t;
    if (this.open.length > 1) this.fireIdleTimers(st);
    this.held.release(this.frontier(), this.writeHeld);
  }

  /**
   * Fire the due timers of the other interfaces' engines, deadline by deadline. An engine with
   * frames waiting in its batch is left alone: they are older than `now`, and its own push fires
   * its deadlines in order.
   */
  private fireIdleTimers(current: Iface): void {
    const now = this.lastTime;
    for (const other of this.open) {
      if (other === current || other.n !== 0 || !(other.deadline <= now)) continue;
      const e = other.engine;
      this.callEngine(other, () => {
        for (let guard = 0; ; guard++) {
          const d = e.nextDeadline();
          if (!(d <= now)) break;
          e.advance(guard < 64 ? d : now);
        }
      });
    }
  }

  /**
   * `work` calls into st's engine: meanwhile its frontier is asked of the engine itself; after,
   * its frontier and next deadline are kept as they are then (Iface.front, Iface.deadline).
   */
  private callEngine(st: Iface, work: () => void): void {
    this.calling = st;
    try {
      work();
    } finally {
      this.calling = null;
      st.front = st.frontier();
      st.deadline = st.engine.nextDeadline();
    }
  }

  /** The interface's engine, or null for a link type no engine takes. */
  private async openInterface(id: number, linkType: number): Promise<Iface | null> {
    const info = this.reader.info.interfaces[id];
    const link = LINK_TYPES.get(linkType);
    if (!link) {
      this.ifaces[id] = null;
      this.unsupportedLinks.add(linkType);
      return null;
    }
    const fcs = link.engine === LINK_ETHERNET && info.fcsLen === 4;
    const options = { ...this.engineOptions, linkType: link.engine };
    // maxFrame bounds the record written, which is the engine's frame behind the link-header
    // prefix (BSD loopback's family) and before a computed FCS. (The engine takes no limit below
    // the MTU: a limit less than 4 bytes above it is the MTU's.)
    const extra = link.prefix + (fcs ? 4 : 0);
    if (options.maxFrame && extra !== 0) options.maxFrame = Math.max(options.maxFrame - extra, options.mtu ?? 1500);
    const engine = await this.createEngine(options);
    const st = new Iface(info, engine, fcs, link.prefix);
    engine.setSink((data, meta) => this.emit(st, data, meta));
    this.ifaces[id] = st;
    this.open.push(st);
    return st;
  }

  private closeAll(): void {
    for (const st of this.open) {
      this.callEngine(st, () => st.engine.close());
      st.closed = true;
      addStats(this.totals, st.engine.stats());
    }
    this.open.length = 0;
    // The next section's engines start their own clocks: its capture time may begin before this one's ended.
    this.lastTime = 0;
    this.held.release(Infinity, this.writeHeld);
  }

  /** Position of the oldest frame that may still start an output packet, over all engines. */
  private frontier(): number {
    const c = this.calling;
    let f = c !== null ? c.frontier() : Infinity;
    for (const st of this.open) if (st !== c && st.front < f) f = st.front;
    return f;
  }

  /** The engines' zero-copy sink: every sent packet. */
  private emit(st: Iface, data: Uint8Array, meta: Omit<Packet, 'data'>): void {
    this.place(st.positions.get(meta.inputIndex), data, meta.segments >= 2 ? AS_NEW : AS_RECORD);
  }

  /** A packet for `position`: written now if every earlier position is resolved, else held. */
  private place(position: number, data: Uint8Array, tag: number): void {
    // No other packet has this position, and none still to come has an earlier one.
    if (position <= this.frontier()) {
      this.held.release(position, this.writeHeld);
      this.write(position, data, tag);
    } else {
      this.held.hold(position, data, tag);
    }
  }

  /** Write the packet whose first segment is the record at `position`. */
  private write(position: number, data: Uint8Array, tag: number): void {
    const w = this.writer as CaptureWriter;
    if (tag === AS_BLOCK) return w.writeBlock(data);
    const i = this.records.slot(position);
    const r = this.records.columns;
    const iface = r.iface[i];
    const kind = r.kind[i];
    if (r.prefixLength[i] !== 0) data = this.withPrefix(r.prefix[i], r.prefixLength[i], data);
    if (tag === AS_RECORD) {
      w.writeRecord(iface, kind, r.tsHigh[i], r.tsLow[i], r.origLen[i], r.drops[i], data, this.records.tail(i), r.timeUs[i]);
      return;
    }
    const bytes = this.ifaces[iface]?.fcs ? withFcs(data) : data;
    // An aggregate that starts with a simple packet block is one too (an SPB has no timestamp).
    if (kind === KIND_SPB) w.writeRecord(iface, KIND_SPB, 0, 0, bytes.length, 0, bytes, ZERO_PAD[(4 - (bytes.length & 3)) & 3]);
    else w.writeRecord(iface, kind === KIND_PCAP ? KIND_PCAP : KIND_EPB, r.tsHigh[i], r.tsLow[i], bytes.length, 0, bytes, null);
  }

  /** The link-header prefix (`length` bytes of `word`, first byte lowest) followed by `data`. */
  private withPrefix(word: number, length: number, data: Uint8Array): Uint8Array {
    const n = length + data.length;
    if (n > this.scratch.length) this.scratch = new Uint8Array(n);
    const s = this.scratch;
    for (let k = 0; k < length; k++) s[k] = (word >>> (8 * k)) & 0xff;
    s.set(data, length);
    return s.subarray(0, n);
  }
}

/** Coalesce `input` into `output` (written atomically). Throws CaptureError / FileError. */
export async function coalesceFile(opts: CoalesceOptions): Promise<CoalesceResult> {
  let coalescer: Coalescer | null = null;
  const reader = await openCaptureAsync(opts.input, {
    views: false,
    skipBad: opts.skipBad ?? false,
    onSkip: opts.onSkip,
    chunkSize: opts.chunkSize ?? READ_CHUNK,
    beforeRefill: () => coalescer?.beforeRefill(),
  });
  let writer: CaptureWriter | null = null;
  try {
    const c = new Coalescer(reader, null, opts);
    coalescer = c;
    const release = await waitForFifoReader(opts.output);
    try {
      writer = createCaptureWriter(opts.output, reader, {
        format: opts.format,
        beforeSection: () => c.endSection(),
        placeBlock: (b, le) => c.placeBlock(b, le),
      });
    } finally {
      release();
    }
    c.setWriter(writer);
    writer.overlap();
    await c.run(opts.onProgress);
    await writer.settle(0);
    const bytesWritten = writer.bytesWritten;
    writer.commit();
    const stats = c.stats;
    return {
      input: opts.input,
      output: opts.output,
      format: writer.format,
      inputFormat: reader.info.format,
      conversion: writer.conversion,
      engine: opts.engine?.engine ?? 'wasm',
      stats,
      interfaces: c.interfaces(),
      recordsWritten: writer.records,
      skipped: reader.skipped + c.skippedHere,
      unsupportedRecords: c.unsupported,
      unsupportedLinkTypes: [...c.unsupportedLinks],
      bytesWritten,
    };
  } catch (err) {
    writer?.abort();
    throw err;
  } finally {
    reader.close();
  }
}

/**
 * A capture's time on the engine clock, which takes [0, 2^53) µs (CONTRACT §1): a pcapng time
 * before the epoch (a negative if_tsoffset) becomes 0, one past 2^53 µs (a 64-bit count of µs)
 * the clock's last µs, as the engine itself did before it refused such times.
 */
function engineTime(timeUs: number): number {
  return timeUs > 0 ? Math.min(timeUs, MAX_TIME) : 0;
}
