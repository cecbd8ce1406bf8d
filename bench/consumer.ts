// A simple JS TCP consumer: what sits behind a receive path on the host side. Per packet it
// parses Ethernet / IPv4 / IPv6 / TCP, optionally verifies the TCP checksum (a host without
// checksum offload must; behind the engine it need not — the engine verified every segment, as
// a NIC does for CHECKSUM_UNNECESSARY), finds the connection and reassembles the payload in
// order into the connection's stream: a ring buffer the application reads from. It verifies
// with the fastest plain-JS checksum there is (the TS twin's), so the raw path is not slowed.

import { sum16 } from '../bindings/twin/checksum.js';

const STREAM_BYTES = 1 << 18;
const MAX_HELD = 64; // out-of-order segments kept per connection

interface Connection {
  nextSeq: number; // -1 until the first segment
  ring: Uint8Array;
  write: number;
  held: Map<number, Uint8Array>; // seq → payload copy, waiting for the gap before it
}

export class TcpConsumer {
  packets = 0;
  /** Payload bytes delivered in order to the streams. */
  delivered = 0;
  private readonly connections = new Map<string, Connection>();

  constructor(private readonly verifyChecksums: boolean) {}

  /** Forget every connection's position: the benchmark replays the same frames on every pass. */
  rewind(): void {
    for (const c of this.connections.values()) {
      c.nextSeq = -1;
      c.held.clear();
    }
  }

  /** One packet (a frame or an engine aggregate). `trusted`: its checksums are known good. */
  receive(b: Uint8Array, trusted = false): void {
    this.packets++;
    if (b.length < 14) return;
    let l3 = 14;
    let type = be16(b, 12);
    if (type === 0x8100) {
      l3 = 18;
      type = be16(b, 16);
    }
    let l4: number;
    let end: number;
    let key: string;
    let addr: number; // address bytes of the pseudo-header start here
    if (type === 0x0800) {
      if (b[l3 + 9] !== 6 || (be16(b, l3 + 6) & 0x3fff) !== 0) return;
      l4 = l3 + (b[l3] & 15) * 4;
      end = l3 + be16(b, l3 + 2);
      key = `${be32(b, l3 + 12)}|${be32(b, l3 + 16)}|${be32(b, l4)}`;
      addr = l3 + 12;
    } else if (type === 0x86dd) {
      if (b[l3 + 6] !== 6) return;
      l4 = l3 + 40;
      end = l4 + be16(b, l3 + 4);
      key =
        `${be32(b, l3 + 8)}.${be32(b, l3 + 12)}.${be32(b, l3 + 16)}.${be32(b, l3 + 20)}|` +
        `${be32(b, l3 + 24)}.${be32(b, l3 + 28)}.${be32(b, l3 + 32)}.${be32(b, l3 + 36)}|${be32(b, l4)}`;
      addr = l3 + 8;
    } else {
      return;
    }
    if (end > b.length || l4 + 20 > end) return;
    if (this.verifyChecksums && !trusted) {
      const pseudo = fold(6 + end - l4 + words(b, addr, addr + (type === 0x0800 ? 8 : 32)));
      if (fold(sum16(b, l4, end) + pseudo) !== 0xffff) return; // dropped, as a host drops it
    }
    const data = l4 + (b[l4 + 12] >> 4) * 4;
    const seq = be32(b, l4 + 4);
    let c = this.connections.get(key);
    if (!c) {
      c = { nextSeq: -1, ring: new Uint8Array(STREAM_BYTES), write: 0, held: new Map() };
      this.connections.set(key, c);
    }
    if ((b[l4 + 13] & 0x02) !== 0) {
      // SYN: the stream starts after it
      c.nextSeq = (seq + 1) >>> 0;
      return;
    }
    if (data >= end) return;
    if (c.nextSeq === -1) c.nextSeq = seq; // joined mid-stream
    if (seq !== c.nextSeq) {
      const ahead = (seq - c.nextSeq) | 0;
      if (ahead > 0 && c.held.size < MAX_HELD && !c.held.has(seq)) c.held.set(seq, b.slice(data, end));
      return; // a retransmission (behind) or a segment after a gap (held)
    }
    this.deliver(c, b, data, end);
    while (c.held.size > 0) {
      const next = c.held.get(c.nextSeq);
      if (next === undefined) break;
      c.held.delete(c.nextSeq);
      this.deliver(c, next, 0, next.length);
    }
  }

  private deliver(c: Connection, b: Uint8Array, from: number, to: number): void {
    const n = to - from;
    let w = c.write;
    let at = from;
    while (at < to) {
      // the application drains the ring as fast as it fills
      const chunk = Math.min(to - at, STREAM_BYTES - w);
      c.ring.set(b.subarray(at, at + chunk), w);
      at += chunk;
      w = (w + chunk) % STREAM_BYTES;
    }
    c.write = w;
    c.nextSeq = (c.nextSeq + n) >>> 0;
    this.delivered += n;
  }
}

/** Unfolded sum of big-endian 16-bit words (ranges here are < 64 KiB: no overflow). */
function words(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  return sum;
}

function fold(x: number): number {
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 65536);
  return x;
}

function be16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function be32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}
