// A real userspace TCP stack receives our output: libslirp, the stack behind QEMU's -netdev user
// and slirp4netns (issue 12 item 6). test/slirp/harness.c, built here against the machine's
// libslirp, is the guest's wire: each frame our engine hands over goes to slirp_input(), as a
// VMM's NIC backend does, and each frame slirp sends to the guest comes back. test/slirp/guest.ts
// plays the guest's TCP sender (ARP / neighbour discovery, handshake, a window-limited bulk upload
// with go-back-N retransmission) to 10.0.2.2 / fec0::2, which slirp connects out to 127.0.0.1 / ::1,
// where a Node server keeps every byte. slirp verifies the IP and TCP checksums of what it takes
// (ip_input / tcp_input cksum()), so exact bytes on the host side are an exact check of our output.
//
// What libslirp's sizes mean for aggregates (libslirp 4.7.0 source, and measured below):
// - if_mru is not checked on input: slirp_input() takes a frame of any length (the mbuf grows),
//   and IPv4 aggregates of 44 segments (64 294-byte frames) are acknowledged with the default
//   if_mru 1500. if_mru (with if_mtu) only sets the MSS slirp offers: min(if_mtu, if_mru) − 40 / 60.
// - IPv6 is different: ip6_input() drops a packet whose length is over if_mtu and answers ICMPv6
//   Packet Too Big. At the default if_mtu 1500 (QEMU's -netdev user sets no other) every IPv6
//   aggregate is refused and nothing arrives; with if_mtu 65521 (its maximum; slirp4netns --mtu
//   sets if_mtu and if_mru) they are taken. So maxFrame = if_mtu + 14 (checked at the byte: an
//   8714-byte frame is taken at if_mtu 8700 and refused at 8699): 65535 at the maximum.
// - slirp's TCP has no window scaling: the window is at most 65535 bytes, so a guest never has more
//   in flight and an aggregate tops out at 65535 / mss segments (44 × 1460 for IPv4, 45 × 1440 for
//   IPv6), whatever maxFrame allows.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createStream, type EngineKind, type Packet, resegment } from '../bindings/index.js';
import { parseFrame } from '../bindings/packet/index.js';
import { runBoth, type Step } from './helpers/engines.js';
import { Guest } from './slirp/guest.js';
import { buildHarness, HostServer, SlirpHarness } from './slirp/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'lro-slirp-'));
const built = buildHarness(dir);
const skipReason = 'skip' in built ? built.skip : null;
if (skipReason) console.info(`test/slirp.test.ts skipped: ${skipReason} (needs gcc, pkg-config and libslirp-dev)`);

/** Can this machine listen on ::1 (slirp connects IPv6 guests there)? */
async function hasIpv6Loopback(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

/** The engine options for slirp: gro, and no frame over if_mtu + 14 (65535 at if_mtu 65521). */
const LRO = { preset: 'gro', maxFrame: 65535, hashSeed: 7 } as const;
/** slirp with room for IPv6 aggregates (IPv4 needs nothing: if_mru is not checked on input). */
const SLIRP_ARGS = { 4: [], 6: ['--mtu', '65521'] } as const;
const UPLOAD = 1 << 20;

/** What the runs measured, printed at the end (README "Receivers" quotes it). */
const facts: string[] = [];

interface Run {
  slirp: SlirpHarness;
  host: HostServer;
  guest: Guest;
  data: Uint8Array;
}

describe.skipIf(skipReason !== null)(
  `libslirp (QEMU -netdev user, slirp4netns) receives our output through slirp_input${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    let ipv6 = true;
    /** What the running test opened (the harness process, the server), closed after it whatever happened. */
    const opened: { close(): Promise<unknown> }[] = [];

    beforeAll(async () => {
      ipv6 = await hasIpv6Loopback();
      if (!ipv6) console.info('test/slirp.test.ts: no ::1 on this machine, the IPv6 runs are skipped');
    });

    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** A slirp, a host server and a guest whose frames go through `wire` (given the run). */
    async function start(
      family: 4 | 6,
      args: readonly string[],
      wire: (run: Run, frames: Uint8Array[]) => void | Promise<void>,
    ): Promise<Run> {
      const host = new HostServer();
      opened.push(host);
      const port = await host.listen(family === 4 ? '127.0.0.1' : '::1');
      const slirp = new SlirpHarness((built as { path: string }).path, [...args]);
      opened.unshift(slirp);
      await slirp.ready();
      const data = randomBytes(UPLOAD);
      let run!: Run;
      const guest = new Guest(slirp, family, port, data, (frames) => wire(run, frames));
      run = { slirp, host, data, guest };
      await run.guest.connect();
      return run;
    }

    /** The guest's frames through one engine, flushed after each burst (the NIC went idle): what it handed over. */
    async function engineWire(kind: EngineKind, maxFrame: number = LRO.maxFrame) {
      const engine = await createEngine({ ...LRO, maxFrame, engine: kind });
      const steps: Step[] = [];
      const handed: Packet[] = [];
      let t = 0;
      const wire = (run: Run, frames: Uint8Array[]) => {
        for (const frame of frames) {
          t += 10;
          engine.push(frame, t);
          steps.push({ frame, t });
        }
        engine.flush();
        steps.push({ flush: true });
        for (const p of engine.drain()) {
          handed.push(p);
          run.slirp.input(p.data);
        }
      };
      return { engine, steps, handed, wire };
    }

    /** The host got exactly the stream and slirp's last ACK covers its last byte. */
    function expectDelivered(run: Run): void {
      expect(run.host.received).toBe(run.data.length);
      expect(run.host.data().equals(run.data)).toBe(true);
      expect(run.guest.una).toBe(run.data.length);
      expect(run.guest.acks.at(-1)).toBe(run.data.length);
      expect(run.host.connections).toBe(1);
    }

    const perMb = (frames: number, bytes: number) => (frames / (bytes / 2 ** 20)).toFixed(1);

    const ENGINE_RUNS: [4 | 6, EngineKind][] = [
      [4, 'wasm'],
      [4, 'ts'],
      [6, 'wasm'],
      [6, 'ts'],
    ];
    for (const [family, kind] of ENGINE_RUNS) {
      it(`IPv${family}, ${kind} engine: a 1 MiB upload arrives exactly, slirp ACKs the last byte, far fewer frames handed over`, async (ctx) => {
        if (family === 6 && !ipv6) ctx.skip();
        const { engine, steps, handed, wire } = await engineWire(kind);
        const run = await start(family, SLIRP_ARGS[family], wire);
        await run.guest.upload();
        await run.host.waitFor(UPLOAD, 10_000);
        expectDelivered(run);

        const data = handed.filter((p) => (parseFrame(p.data)?.tcp?.payload.length ?? 0) > 0);
        const largest = Math.max(...data.map((p) => p.data.length));
        const mostSegments = Math.max(...data.map((p) => p.segments));
        const segments = run.guest.segmentsSent;
        // Far fewer: at least 10 segments per frame handed over (measured: about 40).
        expect(data.length * 10).toBeLessThan(segments);
        expect(largest).toBeLessThanOrEqual(LRO.maxFrame);
        // An aggregate 40 times the MRU was taken (IPv4: if_mru 1500, not checked on input).
        expect(largest).toBeGreaterThan(40 * 1514);
        // The window (at most 65535: slirp has no window scaling) bounds an aggregate.
        expect(run.guest.window).toBeLessThanOrEqual(65535);
        expect(mostSegments).toBeLessThanOrEqual(Math.floor(65535 / run.guest.mss));
        // Every engine: the same input gives the same frames (CONTRACT §6.4), and they are what slirp got.
        const both = await runBoth({ ...LRO }, steps);
        expect(both.packets.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(
          handed.map((p) => Buffer.from(p.data).toString('hex')),
        );
        expect(engine.stats().passThroughCauses['bad-tcp-checksum']).toBe(0);
        facts.push(
          `IPv${family} (${kind}), if_mtu ${family === 4 ? 1500 : 65521}, if_mru 1500, mss ${run.guest.mss}: ${segments} segments → ` +
            `${data.length} data frames handed over (${(segments / data.length).toFixed(1)} segments each; ${perMb(data.length, UPLOAD)} per MiB ` +
            `instead of ${perMb(segments, UPLOAD)}); largest ${mostSegments} segments, ${largest} B; ${run.slirp.framesIn} frames in all ` +
            `(ARP/NDP, SYN, ACK included); ${run.guest.retransmits} timeouts`,
        );
      });
    }

    // tcpip.js users write nic.readable.pipeThrough(lro).pipeTo(tap.writable): the same shape, real
    // timers (a burst ends when the aggregate timeout fires), into slirp.
    for (const [family, kind] of [
      [4, 'wasm'],
      [6, 'ts'],
    ] as const) {
      it(`IPv${family}, ${kind} engine: readable.pipeThrough(createStream({ output: 'frames', maxFrame: 65535 })).pipeTo(writable) into slirp`, async (ctx) => {
        if (family === 6 && !ipv6) ctx.skip();
        let nic!: ReadableStreamDefaultController<Uint8Array>;
        const readable = new ReadableStream<Uint8Array>({
          start(c) {
            nic = c;
          },
        });
        const lro = createStream({ ...LRO, engine: kind, output: 'frames' });
        let piped: Promise<void> | null = null;
        const run = await start(family, SLIRP_ARGS[family], (r, frames) => {
          piped ??= readable.pipeThrough(lro).pipeTo(r.slirp.writable);
          for (const f of frames) nic.enqueue(f);
        });
        await run.guest.upload();
        await run.host.waitFor(UPLOAD, 10_000);
        nic.close();
        await piped;
        expectDelivered(run);
        const segments = run.guest.segmentsSent;
        expect(run.slirp.framesIn * 10).toBeLessThan(segments);
        facts.push(
          `IPv${family} (${kind}) through createStream: ${segments} segments → ${run.slirp.framesIn} frames handed over in all ` +
            `(${perMb(run.slirp.framesIn, UPLOAD)} per MiB); ${run.guest.retransmits} timeouts`,
        );
      });
    }

    it('IPv4, no engine: the same upload frame by frame (the baseline: frames per MiB)', async () => {
      const run = await start(4, [], (r, frames) => {
        for (const f of frames) r.slirp.input(f);
      });
      await run.guest.upload();
      await run.host.waitFor(UPLOAD, 10_000);
      expectDelivered(run);
      expect(run.slirp.framesIn).toBeGreaterThanOrEqual(Math.ceil(UPLOAD / run.guest.mss));
      facts.push(
        `IPv4 without the engine: ${run.guest.segmentsSent} segments = ${run.slirp.framesIn} frames handed over in all (${perMb(run.guest.segmentsSent, UPLOAD)} data frames per MiB)`,
      );
    });

    for (const [family, kind] of [
      [4, 'wasm'],
      [6, 'ts'],
    ] as const) {
      it(`IPv${family}, ${kind} engine: a segment corrupted on the way in is not laundered — it passes alone, slirp drops it, the retransmission fills the hole`, async (ctx) => {
        if (family === 6 && !ipv6) ctx.skip();
        const { engine, handed, wire } = await engineWire(kind);
        const run = await start(family, SLIRP_ARGS[family], wire);
        const { guest, host } = run;
        const mss = guest.mss;
        // One window's burst, segment `bad` with a payload byte flipped after its checksum.
        const offsets = guest.offsets(0, 40 * mss);
        const bad = 20;
        const burst = offsets.map((o, k) => guest.segment(o, k === bad));
        const before = handed.length;
        await wire(run, burst);
        const out = handed.slice(before);
        expect(out.map((p) => p.segments)).toEqual([bad, 1, offsets.length - bad - 1]);
        expect(out[1].data).toEqual(burst[bad]);
        expect(out[1].verified).toBe(false);
        expect(engine.stats().passThroughCauses['bad-tcp-checksum']).toBe(1);

        // slirp takes the bytes up to the hole, queues the rest, and ACKs the hole's start.
        const hole = bad * mss;
        await host.waitFor(hole, 10_000);
        await guest.until(() => guest.acks.includes(hole), 3000);
        expect(await host.waitFor(hole + 1, 500)).toBe(hole);
        expect(guest.una).toBe(hole);
        expect(guest.acks.filter((a) => a > hole)).toEqual([]);

        // The retransmission, correct this time, fills the hole: everything up to the burst's end.
        await wire(run, [guest.segment(hole)]);
        const end = offsets.length * mss;
        expect(await guest.until(() => guest.una === end, 10_000)).toBe(true);
        await host.waitFor(end, 10_000);
        expect(host.received).toBe(end);
        expect(host.data().equals(Buffer.from(run.data.subarray(0, end)))).toBe(true);
        // And the rest of the stream.
        await guest.upload();
        await host.waitFor(UPLOAD, 10_000);
        expectDelivered(run);
        facts.push(
          `IPv${family} (${kind}): segment ${bad} of a 40-segment burst corrupted → handed over as ${out.map((p) => p.segments).join(' + ')} segments; ` +
            `slirp ACKed ${hole} B (${guest.acks.filter((a) => a === hole).length}×) until the retransmission, then all ${UPLOAD} B arrived exactly`,
        );
      });
    }

    it('IPv6 at libslirp’s default if_mtu 1500: an aggregate is refused (ICMPv6 Packet Too Big), its segments are taken', async (ctx) => {
      if (!ipv6) ctx.skip();
      const { handed, wire } = await engineWire('wasm');
      const run = await start(6, [], wire);
      const { guest, host } = run;
      const offsets = guest.offsets(0, 10 * guest.mss);
      await wire(
        run,
        offsets.map((o) => guest.segment(o)),
      );
      const aggregate = handed.at(-1)!;
      expect(aggregate.segments).toBe(10);
      expect(await guest.until(() => guest.tooBig.length > 0, 3000)).toBe(true);
      expect(guest.tooBig[0]).toBe(1500);
      expect(await host.waitFor(1, 500)).toBe(0);
      expect(guest.una).toBe(0);
      // The same bytes as resegment() cuts them: each one fits if_mtu and is taken.
      for (const s of resegment(aggregate)) run.slirp.input(s);
      expect(await guest.until(() => guest.una === offsets.length * guest.mss, 10_000)).toBe(true);
      await host.waitFor(offsets.length * guest.mss, 10_000);
      expect(host.data().equals(Buffer.from(run.data.subarray(0, offsets.length * guest.mss)))).toBe(true);
      facts.push(
        `IPv6 at if_mtu 1500: a 10-segment aggregate (${aggregate.data.length} B) → ICMPv6 Packet Too Big (MTU ${guest.tooBig[0]}), no ACK, nothing on the host; its resegment() pieces → ACKed, exact bytes`,
      );
    });

    // maxFrame = if_mtu + 14, exactly: 6 segments of 1440 make an IPv6 packet of 40 + 20 + 8640 = 8700 bytes.
    for (const [mtu, taken] of [
      [8700, true],
      [8699, false],
    ] as const) {
      it(`IPv6 at if_mtu ${mtu}, maxFrame 8714: 6-segment aggregates of 8714 bytes are ${taken ? 'taken' : 'refused'}`, async (ctx) => {
        if (!ipv6) ctx.skip();
        const { handed, wire } = await engineWire('ts', 8714);
        const run = await start(6, ['--mtu', String(mtu)], wire);
        const { guest, host } = run;
        expect(guest.mss).toBe(1440);
        const end = 12 * guest.mss;
        const before = handed.length;
        await wire(
          run,
          guest.offsets(0, end).map((o) => guest.segment(o)),
        );
        const out = handed.slice(before);
        expect(out.map((p) => [p.segments, p.data.length])).toEqual([
          [6, 8714],
          [6, 8714],
        ]);
        if (taken) {
          expect(await guest.until(() => guest.una === end, 10_000)).toBe(true);
          await host.waitFor(end, 10_000);
          expect(host.data().equals(Buffer.from(run.data.subarray(0, end)))).toBe(true);
          expect(guest.tooBig).toEqual([]);
        } else {
          expect(await guest.until(() => guest.tooBig.length >= 2, 3000)).toBe(true);
          expect(guest.tooBig).toEqual([mtu, mtu]);
          expect(await host.waitFor(1, 500)).toBe(0);
          expect(guest.una).toBe(0);
        }
        facts.push(
          `IPv6 at if_mtu ${mtu}, maxFrame 8714: two 6-segment aggregates of 8714 B → ${taken ? 'ACKed, exact bytes' : `ICMPv6 Packet Too Big (MTU ${guest.tooBig[0]}) ×2, no ACK, nothing on the host`}`,
        );
      });
    }

    it('prints what the runs measured', () => {
      console.log(`slirp facts (${(built as { version: string }).version}):\n  ${facts.join('\n  ')}`);
    });
  },
);
