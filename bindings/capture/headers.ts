// Carries the non-packet parts of an input (pcap header, SHB, IDB, other blocks) from the
// reader to a writer, so the writer can copy them in place.
//
// Blocks read while opening (everything before the first packet) are kept as copies until a
// writer attaches; later blocks are handed over synchronously as views while they are read.
// A writer attached after a later block went by would silently lose it, so that throws.

import type { HeaderEvent, HeaderSink } from './types.js';

export class HeaderChannel {
  private sink: HeaderSink | null = null;
  private preamble: HeaderEvent[] = [];
  private collecting = true;
  private missed = false;

  emit(ev: HeaderEvent): void {
    if (this.sink) this.sink(ev);
    else if (this.collecting) this.preamble.push({ ...ev, bytes: ev.bytes.slice() });
    else this.missed = true;
  }

  /** Called once the reader has opened the file: later blocks need an attached sink. */
  endPreamble(): void {
    this.collecting = false;
  }

  attach(sink: HeaderSink): void {
    if (this.sink) throw new Error('capture reader already has a writer attached');
    if (this.missed) throw new Error('attach the writer before reading records: header blocks were already passed');
    this.sink = sink;
    for (const ev of this.preamble) sink(ev);
    this.preamble = [];
  }
}
