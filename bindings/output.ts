// Where both engines put sent packets: a queue for drain(), or a caller's zero-copy sink.
import { REASONS, type Packet, type PacketSink } from './types.js';

export class PacketQueue {
  private packets: Packet[] = [];
  sink: PacketSink | null = null;

  /** `view` may be reused after this call: it is copied unless a sink takes it. */
  add(view: Uint8Array, timeUs: number, segments: number, mss: number, reason: number, checksumsFixed: boolean): void {
    if (this.sink !== null) {
      this.sink(view, { timeUs, segments, mss, reason: REASONS[reason], checksumsFixed });
      return;
    }
    this.packets.push({ data: view.slice(), timeUs, segments, mss, reason: REASONS[reason], checksumsFixed });
  }

  drain(): Packet[] {
    const out = this.packets;
    this.packets = [];
    return out;
  }
}
