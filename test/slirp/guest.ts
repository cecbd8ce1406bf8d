// The guest behind libslirp, for test/slirp.test.ts: its link layer (ARP, IPv6 neighbour
// discovery) and the sending side of one TCP connection out to the host, built with the frame kit.
// Every frame the guest sends goes through `wire` (the engine, a stream, or straight to slirp), and
// every frame slirp sends to the guest comes to handle().
import { ACK, internetChecksum, parseFrame, parseIp, pseudoHeaderSum, RST, SYN, tcpFrame } from '../../bindings/packet/index.js';
import type { SlirpHarness } from './harness.js';

/** QEMU -netdev user's defaults: the guest's addresses and the host as the guest sees it. */
export const NET = {
  guestMac: Uint8Array.from([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]),
  4: { guest: '10.0.2.15', host: '10.0.2.2' },
  6: { guest: 'fec0::15', host: 'fec0::2' },
} as const;

/** The guest's NIC MTU: its segments carry at most this less the IP and TCP headers. */
export const GUEST_MTU = 1500;

/** Where the guest's frames go: hand them on (the engine, a stream, or slirp_input directly). */
export type Wire = (frames: Uint8Array[]) => void | Promise<void>;

export class Guest {
  /** The guest's initial sequence number; stream offset o is sequence isn + 1 + o. */
  readonly isn = 0xf0001000;
  readonly guestPort = 40123;
  /** Stream offset slirp acknowledged (cumulative), its window, and the MSS in use. */
  una = 0;
  window = 0;
  mss = 0;
  /** MSS slirp offered in its SYN-ACK. */
  peerMss = 0;
  /** Every ACK from slirp, as a stream offset, in order. */
  readonly acks: number[] = [];
  /** Frames from slirp that were neither ARP/NDP nor this connection's TCP (ICMP errors, RAs …). */
  readonly other: Uint8Array[] = [];
  /** ICMPv6 Packet Too Big / ICMPv4 needs-fragmentation messages: the MTU they state. */
  readonly tooBig: number[] = [];
  segmentsSent = 0;
  retransmits = 0;
  rst = false;

  private hostMac = new Uint8Array(6);
  private hostIsn = 0;
  private ipId = 1;
  private established = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly slirp: SlirpHarness,
    readonly family: 4 | 6,
    readonly port: number,
    readonly data: Uint8Array,
    readonly wire: Wire,
  ) {
    slirp.onFrame = (f) => this.handle(f);
  }

  private get addr() {
    return NET[this.family];
  }

  /** A frame from slirp. */
  handle(frame: Uint8Array): void {
    const type = (frame[12] << 8) | frame[13];
    if (type === 0x0806) {
      this.arp(frame);
    } else {
      const p = parseFrame(frame);
      const icmp6 = p?.ipVersion === 6 && p.protocol === 58 ? frame.subarray(p.l4Offset) : null;
      if (p?.tcp && p.tcp.sport === this.port && p.tcp.dport === this.guestPort) {
        this.tcp(frame, p.tcp);
      } else if (icmp6 && icmp6[0] === 135) {
        this.neighbourSolicitation(frame, icmp6);
      } else if (icmp6 && icmp6[0] === 136) {
        this.hostMac = frame.slice(6, 12);
      } else {
        if (icmp6 && icmp6[0] === 2) this.tooBig.push(((icmp6[4] << 24) | (icmp6[5] << 16) | (icmp6[6] << 8) | icmp6[7]) >>> 0);
        if (p?.ipVersion === 4 && p.protocol === 1) {
          const icmp = frame.subarray(p.l4Offset);
          if (icmp[0] === 3 && icmp[1] === 4) this.tooBig.push((icmp[6] << 8) | icmp[7]);
        }
        this.other.push(frame.slice());
      }
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private arp(frame: Uint8Array): void {
    const op = (frame[20] << 8) | frame[21];
    const target = frame.subarray(38, 42);
    if (op === 2) {
      this.hostMac = frame.slice(22, 28);
    } else if (op === 1 && sameBytes(target, parseIp(NET[4].guest))) {
      // slirp asks for the guest: answer.
      const reply = new Uint8Array(42);
      reply.set(frame.subarray(22, 28), 0);
      reply.set(NET.guestMac, 6);
      reply.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12);
      reply.set(NET.guestMac, 22);
      reply.set(target, 28);
      reply.set(frame.subarray(22, 32), 32);
      void this.wire([reply]);
    }
  }

  private neighbourSolicitation(frame: Uint8Array, icmp: Uint8Array): void {
    if (!sameBytes(icmp.subarray(8, 24), parseIp(NET[6].guest))) return;
    // Neighbour advertisement (solicited, override) with our link-layer address.
    const body = new Uint8Array(32);
    body[0] = 136;
    body[4] = 0x60;
    body.set(icmp.subarray(8, 24), 8);
    body.set([2, 1], 24);
    body.set(NET.guestMac, 26);
    void this.wire([ipv6Icmp(frame.slice(6, 12), icmp.subarray(8, 24), frame.slice(22, 38), body)]);
  }

  private tcp(frame: Uint8Array, t: NonNullable<ReturnType<typeof parseFrame>>['tcp'] & {}): void {
    if (t.flags & RST) this.rst = true;
    if ((t.flags & (SYN | ACK)) === (SYN | ACK)) {
      this.hostMac = frame.slice(6, 12);
      this.hostIsn = t.seq;
      this.peerMss = mssOption(t.options);
    }
    if (!(t.flags & ACK)) return;
    const offset = ((t.ack - this.isn - 1) | 0) >>> 0;
    if (offset > this.data.length) return; // the SYN's ACK (offset −1) or nonsense
    this.acks.push(offset);
    if (offset >= this.una) {
      this.una = offset;
      this.window = t.window;
    }
  }

  /** Wait until `done()` or `timeoutMs`; true if done. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!done() && Date.now() < end) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, end - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return done();
  }

  /** Announce the guest (ARP request / neighbour solicitation for the host), then the handshake. */
  async connect(): Promise<void> {
    const { guest, host } = this.addr;
    if (this.family === 4) {
      const req = new Uint8Array(42);
      req.fill(0xff, 0, 6);
      req.set(NET.guestMac, 6);
      req.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
      req.set(NET.guestMac, 22);
      req.set(parseIp(guest), 28);
      req.set(parseIp(host), 38);
      await this.wire([req]);
    } else {
      const target = parseIp(host);
      const body = new Uint8Array(24);
      body[0] = 135;
      body.set(target, 8);
      const group = parseIp(`ff02::1:ff00:${((target[14] << 8) | target[15]).toString(16)}`);
      const mac = Uint8Array.from([0x33, 0x33, 0xff, target[13], target[14], target[15]]);
      await this.wire([ipv6Icmp(mac, parseIp(guest), group, body)]);
    }
    if (!(await this.until(() => this.hostMac.some((b) => b !== 0), 2000))) throw new Error('slirp did not answer ARP / NDP');
    const ourMss = GUEST_MTU - (this.family === 4 ? 40 : 60);
    const syn = this.frame({ seq: this.isn, ack: 0, flags: SYN, options: Uint8Array.from([2, 4, ourMss >> 8, ourMss & 0xff]) });
    for (let attempt = 0; attempt < 3 && !this.peerMss; attempt++) {
      await this.wire([syn]);
      await this.until(() => this.peerMss !== 0 || this.rst, 2000);
    }
    if (this.rst) throw new Error('slirp reset the connection (is the host server listening?)');
    if (!this.peerMss) throw new Error('no SYN-ACK from slirp');
    this.mss = Math.min(ourMss, this.peerMss);
    this.established = true;
    await this.wire([this.frame({ seq: this.isn + 1, flags: ACK })]);
  }

  private frame(spec: { seq: number; ack?: number; flags: number; options?: Uint8Array; payload?: Uint8Array }): Uint8Array {
    const { guest, host } = this.addr;
    return tcpFrame({
      ipVersion: this.family,
      src: guest,
      dst: host,
      srcMac: NET.guestMac,
      dstMac: this.hostMac,
      sport: this.guestPort,
      dport: this.port,
      seq: spec.seq >>> 0,
      ack: spec.ack ?? (this.hostIsn + 1) >>> 0,
      flags: spec.flags,
      window: 65535,
      ipId: this.ipId++ & 0xffff,
      options: spec.options,
      payload: spec.payload,
    });
  }

  /**
   * The data segment at stream offset `offset` (a multiple of mss; the last one shorter). With
   * `corrupt`, one payload byte is flipped after the checksum was computed: a wire error.
   */
  segment(offset: number, corrupt = false): Uint8Array {
    if (!this.established) throw new Error('not connected');
    const len = Math.min(this.mss, this.data.length - offset);
    const f = this.frame({ seq: this.isn + 1 + offset, flags: ACK, payload: this.data.subarray(offset, offset + len) });
    if (corrupt) f[f.length - 1 - (len >> 1)] ^= 0x5a;
    return f;
  }

  /** Offsets of the segments that start in [from, to). */
  offsets(from: number, to: number): number[] {
    const out: number[] = [];
    for (let o = from; o < Math.min(to, this.data.length); o += this.mss) out.push(o);
    return out;
  }

  /**
   * Send the whole stream from `una` as a guest would: every segment the window allows, in one
   * burst through `wire`, then wait for an ACK that moves; after `rtoMs` without one, go back to
   * `una` (go-back-N). Resolves when slirp acknowledged the last byte.
   */
  async upload(rtoMs = 1000, maxRetransmits = 20): Promise<void> {
    let nxt = this.una;
    while (this.una < this.data.length) {
      nxt = Math.max(nxt, this.una);
      const burst: Uint8Array[] = [];
      while (nxt < this.data.length && Math.min(nxt + this.mss, this.data.length) <= this.una + this.window) {
        burst.push(this.segment(nxt));
        nxt = Math.min(nxt + this.mss, this.data.length);
      }
      if (burst.length > 0) {
        this.segmentsSent += burst.length;
        await this.wire(burst);
      }
      const before = this.una;
      const windowBefore = this.window;
      if (!(await this.until(() => this.una > before || this.window > windowBefore || this.rst, rtoMs))) {
        if (++this.retransmits > maxRetransmits)
          throw new Error(`no progress after ${maxRetransmits} retransmissions at offset ${this.una}`);
        nxt = this.una;
      }
      if (this.rst) throw new Error(`slirp reset the connection at offset ${this.una}`);
    }
  }
}

/** An Ethernet + IPv6 + ICMPv6 frame (hop limit 255, as neighbour discovery requires). */
function ipv6Icmp(dstMac: Uint8Array, src: Uint8Array, dst: Uint8Array, body: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 40 + body.length);
  f.set(dstMac, 0);
  f.set(NET.guestMac, 6);
  f.set([0x86, 0xdd, 0x60, 0, 0, 0, body.length >> 8, body.length & 0xff, 58, 255], 12);
  f.set(src, 22);
  f.set(dst, 38);
  f.set(body, 54);
  const sum = ~internetChecksum(f, 54, f.length, pseudoHeaderSum(src, dst, 58, body.length)) & 0xffff;
  f[56] = sum >> 8;
  f[57] = sum & 0xff;
  return f;
}

function mssOption(options: Uint8Array): number {
  for (let i = 0; i < options.length; ) {
    const kind = options[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (kind === 2 && options[i + 1] === 4) return (options[i + 2] << 8) | options[i + 3];
    i += Math.max(2, options[i + 1]);
  }
  return 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
