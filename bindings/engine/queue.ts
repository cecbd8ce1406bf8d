// Where both engines put sent packets: a queue for drain(), or a caller's zero-copy sink.
import {
  OUT_CHECKSUMS_FIXED,
  OUT_FIRST_TIME,
  OUT_FIXED_IP_ID,
  OUT_FLAGS,
  OUT_HEADER_LENGTH,
  OUT_INDEX,
  OUT_IP_VERSION,
  OUT_MSS,
  OUT_REASON,
  OUT_SEGMENTS,
  OUT_SIZE,
  OUT_TCP_OFFSET,
  OUT_TIME,
  OUT_VERIFIED,
} from '../abi.js';
import { REASONS, type Packet, type PacketSink } from './types.js';

// Slots of the output descriptor (abi.ts OUT_*, byte offsets) in its f64 and u32 views.
const INDEX = OUT_INDEX >> 3;
const FIRST_TIME = OUT_FIRST_TIME >> 3;
const TIME = OUT_TIME >> 3;
const SEGMENTS = OUT_SEGMENTS >> 2;
const MSS = OUT_MSS >> 2;
const REASON = OUT_REASON >> 2;
const IP_VERSION = OUT_IP_VERSION >> 2;
const TCP_OFFSET = OUT_TCP_OFFSET >> 2;
const HEADER_LENGTH = OUT_HEADER_LENGTH >> 2;
const FLAGS = OUT_FLAGS >> 2;

/**
 * Once drainViews() is used, queued packets (no sink) are copied into one reused slab, a view
 * each, and the slab starts over at the next packet after a drain: no fresh memory per packet,
 * whose page faults (not the copy) decide what taking packets out costs. Until then each packet
 * gets its own copy (slice()): drain()'s caller owns the bytes, and one fresh buffer per packet
 * is cheaper here than a fresh slab shared by many (measured: a new 1 MiB slab per 1 MiB of
 * packets cost 3–8× a sink, slice() per packet ~1.7×, the reused slab ~1.1–1.35×).
 */
const SLAB_BYTES = 1 << 20;

/** Metadata of no packet yet: a one-segment pass-through of nothing (the sink's reused `meta` starts as it). */
export function blankPacketInfo(): { -readonly [K in keyof Omit<Packet, 'data'>]: Packet[K] } {
  return {
    timeUs: 0,
    segments: 1,
    mss: 0,
    reason: 'pass-through',
    checksumsFixed: true,
    inputIndex: 0,
    firstTimeUs: 0,
    ipVersion: 0,
    tcpOffset: 0,
    headerLength: 0,
    verified: false,
    fixedIpId: false,
  };
}

export class PacketQueue {
  private packets: Packet[] = [];
  /** drainViews() was called: packets go into the slab. */
  private borrowing = false;
  private slab = new Uint8Array(0);
  private slabUsed = 0;
  /** The queue was drained: the next packet starts the slab over. */
  private drained = false;
  sink: PacketSink | null = null;
  /**
   * The engine call in progress has frames it has not staged yet: before the next sink call,
   * beforeSink runs once (the engine copies them, so that a sink changing them changes nothing).
   * A flag rather than a call per packet: most calls stage all their frames at once.
   */
  unstaged = false;
  beforeSink: () => void = () => {};
  /** Errors the sink threw during the current engine call (thrown only once the core is done). */
  private sinkErrors: unknown[] = [];
  // The output descriptor the engine's core writes before handing out each packet (readFrom).
  private f64 = new Float64Array(OUT_SIZE >> 3);
  private u32 = new Uint32Array(this.f64.buffer);
  // Handed to the sink on every call, like its data view: valid only during the call.
  private readonly meta = blankPacketInfo();

  /** Read each packet's metadata from the output descriptor at `byteOffset` in `buffer` (it never moves). */
  readFrom(buffer: ArrayBuffer, byteOffset: number): void {
    this.f64 = new Float64Array(buffer, byteOffset, OUT_SIZE >> 3);
    this.u32 = new Uint32Array(buffer, byteOffset, OUT_SIZE >> 2);
  }

  /** The packet just described in the output descriptor. `view` may be reused after this call: it is copied unless a sink takes it. */
  add(view: Uint8Array): void {
    const f = this.f64;
    const u = this.u32;
    const flags = u[FLAGS];
    if (this.sink !== null) {
      const meta = this.meta;
      meta.timeUs = f[TIME];
      meta.segments = u[SEGMENTS];
      meta.mss = u[MSS];
      meta.reason = REASONS[u[REASON]];
      meta.checksumsFixed = (flags & OUT_CHECKSUMS_FIXED) !== 0;
      meta.inputIndex = f[INDEX];
      meta.firstTimeUs = f[FIRST_TIME];
      meta.ipVersion = u[IP_VERSION] as Packet['ipVersion'];
      meta.tcpOffset = u[TCP_OFFSET];
      meta.headerLength = u[HEADER_LENGTH];
      meta.verified = (flags & OUT_VERIFIED) !== 0;
      meta.fixedIpId = (flags & OUT_FIXED_IP_ID) !== 0;
      if (this.unstaged) {
        this.unstaged = false;
        this.beforeSink();
      }
      try {
        this.sink(view, meta);
      } catch (err) {
        // Thrown through the core it would leave it half-way through a packet: keep it for later.
        this.sinkErrors.push(err);
      }
      return;
    }
    this.packets.push({
      data: this.borrowing ? this.copyIntoSlab(view) : view.slice(),
      timeUs: f[TIME],
      segments: u[SEGMENTS],
      mss: u[MSS],
      reason: REASONS[u[REASON]],
      checksumsFixed: (flags & OUT_CHECKSUMS_FIXED) !== 0,
      inputIndex: f[INDEX],
      firstTimeUs: f[FIRST_TIME],
      ipVersion: u[IP_VERSION] as Packet['ipVersion'],
      tcpOffset: u[TCP_OFFSET],
      headerLength: u[HEADER_LENGTH],
      verified: (flags & OUT_VERIFIED) !== 0,
      fixedIpId: (flags & OUT_FIXED_IP_ID) !== 0,
    });
  }

  /** A copy of `view` in the slab; a full slab is replaced by one twice the size (once). */
  private copyIntoSlab(view: Uint8Array): Uint8Array {
    if (this.drained) {
      this.drained = false;
      this.slabUsed = 0;
    }
    const n = view.length;
    const at = this.slabUsed;
    if (at + n > this.slab.length) {
      // Packets queued earlier keep their views of the old slab; from here on the new one is used.
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, 2 * (at + n)));
      this.slabUsed = 0;
      return this.copyIntoSlab(view);
    }
    this.slab.set(view, at);
    this.slabUsed = (at + n + 7) & ~7;
    return new Uint8Array(this.slab.buffer, this.slab.byteOffset + at, n);
  }

  /** After an engine call: rethrow the first error the sink threw during it. */
  rethrowSinkError(): void {
    if (this.sinkErrors.length === 0) return;
    const first = this.sinkErrors[0];
    this.sinkErrors = [];
    throw first;
  }

  drain(): Packet[] {
    const out = this.take();
    // Packets in the slab are copied out: the caller owns what drain() returns.
    if (this.borrowing) for (const p of out) (p as { data: Uint8Array }).data = p.data.slice();
    return out;
  }

  drainViews(): Packet[] {
    this.borrowing = true;
    return this.take();
  }

  /** The queued packets; the slab may start over. */
  private take(): Packet[] {
    const out = this.packets;
    this.packets = [];
    this.drained = true;
    return out;
  }
}
