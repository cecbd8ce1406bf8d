// Where both engines put sent packets: a queue for drain(), or a caller's zero-copy sink.
import { REASONS, type Packet, type PacketSink } from './types.js';

export class PacketQueue {
  private packets: Packet[] = [];
  sink: PacketSink | null = null;
  /** Errors the sink threw during the current engine call (thrown only once the core is done). */
  private sinkErrors: unknown[] = [];
  // Handed to the sink on every call, like its data view: valid only during the call.
  private readonly meta: { -readonly [K in keyof Omit<Packet, 'data'>]: Packet[K] } = {
    timeUs: 0,
    segments: 0,
    mss: 0,
    reason: 'pass-through',
    checksumsFixed: true,
  };

  /** `view` may be reused after this call: it is copied unless a sink takes it. */
  add(view: Uint8Array, timeUs: number, segments: number, mss: number, reason: number, checksumsFixed: boolean): void {
    if (this.sink !== null) {
      const meta = this.meta;
      meta.timeUs = timeUs;
      meta.segments = segments;
      meta.mss = mss;
      meta.reason = REASONS[reason];
      meta.checksumsFixed = checksumsFixed;
      try {
        this.sink(view, meta);
      } catch (err) {
        // Thrown through the core it would leave it half-way through a packet: keep it for later.
        this.sinkErrors.push(err);
      }
      return;
    }
    this.packets.push({ data: view.slice(), timeUs, segments, mss, reason: REASONS[reason], checksumsFixed });
  }

  /** After an engine call: rethrow the first error the sink threw during it. */
  rethrowSinkError(): void {
    if (this.sinkErrors.length === 0) return;
    const first = this.sinkErrors[0];
    this.sinkErrors = [];
    throw first;
  }

  drain(): Packet[] {
    const out = this.packets;
    this.packets = [];
    return out;
  }
}
