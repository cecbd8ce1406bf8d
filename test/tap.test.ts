// The real check of the virtio-net header (docs/CONTRACT.md §8): Linux TCP receives our output
// through a tap. A kernel socket in a fresh namespace connects out through a tap opened with
// IFF_VNET_HDR (12-byte header); test/tap/peer.py plays the peer (handshake), and every data packet
// is built here, pushed through the engine and written into the tap behind encodeVirtioNetHeader().
// tun verifies the TCP checksum of what it is given with flags DATA_VALID or 0 (measured on kernel
// 6.18): a bad one is dropped and counted in TcpInCsumErrors, so this is an exact check of our bytes.
// Needs root and /dev/net/tun (iproute2, python3); LRO_SKIP_NETNS=1 skips it like the other
// namespace tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  encodeVirtioNetHeader,
  type EngineKind,
  type EngineOptions,
  type Packet,
  type ReceiverPacket,
  resegment,
  toPartialChecksum,
  type VirtioNetHeaderOptions,
} from '../bindings/index.js';
import { readCapture } from '../bindings/capture/index.js';
import { ACK, internetChecksum, parseFrame, type TcpFrameSpec, tcpFrame, tcpTimestampOption } from '../bindings/packet/index.js';
import { expectSameByteLists } from './helpers/bytes.js';
import { indexInputs, withHeaders } from './helpers/receivers.js';
import { addNamespace, deleteNamespace, inNs, ip, Peer, type Ready, receiverMss, tcpCounters } from './tap/peer.js';

const skipReason =
  process.env.LRO_SKIP_NETNS === '1'
    ? 'LRO_SKIP_NETNS=1'
    : process.getuid?.() !== 0
      ? 'not root'
      : !existsSync('/dev/net/tun')
        ? 'no /dev/net/tun'
        : null;

if (skipReason) console.info(`test/tap.test.ts skipped: ${skipReason} (needs root and /dev/net/tun; LRO_SKIP_NETNS=1 skips it)`);

/** Payload per segment: below the receiver's advmss (1448 IPv4, 1428 IPv6 with timestamps), so
 * rcvmss can only reach it through gso_size (a GSO packet without it would read as advmss). */
const MSS = { 4: 1400, 6: 1380 } as const;
const SEGMENTS = 300;

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

/** Data segments k ∈ [from, to) of the peer's stream, as Ethernet frames towards the kernel. */
function segments(
  r: Ready,
  family: 4 | 6,
  from: number,
  to: number,
  corrupt = -1,
  extra: Pick<TcpFrameSpec, 'ipv6ExtHeaders' | 'ipId'> = {},
): { data: Uint8Array; timeUs: number }[] {
  const mss = MSS[family];
  const out: { data: Uint8Array; timeUs: number }[] = [];
  for (let k = from; k < to; k++) {
    const data = tcpFrame({
      ipVersion: family,
      src: r.peer,
      dst: r.local,
      srcMac: hex(r.peerMac),
      dstMac: hex(r.tapMac),
      sport: r.peerPort,
      dport: r.kernelPort,
      seq: (r.peerIsn + 1 + k * mss) >>> 0,
      ack: (r.kernelIsn + 1) >>> 0,
      flags: ACK,
      window: 2048,
      ipId: (17 + k) & 0xffff,
      options: tcpTimestampOption(1001, r.kernelTsval),
      payload: mss,
      badTcpChecksum: k === corrupt,
      ...extra,
    });
    out.push({ data, timeUs: k });
  }
  return out;
}

function payloadOf(frames: { data: Uint8Array }[]): Buffer {
  return Buffer.concat(frames.map((f) => Buffer.from(parseFrame(f.data)!.tcp!.payload)));
}

/** The frames through one engine (then close()), as packets with their header metadata. */
async function coalesce(
  kind: EngineKind,
  frames: { data: Uint8Array; timeUs: number }[],
  options: EngineOptions = {},
): Promise<(Packet & ReceiverPacket)[]> {
  const engine = await createEngine({ ...options, engine: kind });
  const out: Packet[] = [];
  for (const f of frames) engine.push(f.data, f.timeUs);
  engine.close();
  out.push(...engine.drain());
  const index = indexInputs(frames.map((f) => f.data));
  return out.map((p) => withHeaders(p, index));
}

/** What the runs measured, printed at the end (README "Receivers" quotes it). */
const facts: string[] = [];

describe.skipIf(skipReason !== null)(
  `Linux TCP through a tap with a virtio-net header${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    let ns = '';
    let peer: Peer | null = null;
    let n = 0;

    beforeEach(() => {
      ns = `lrotap${process.pid}x${n++}`;
      addNamespace(ns);
    });

    afterEach(async () => {
      await peer?.close();
      peer = null;
      deleteNamespace(ns);
    });

    const RUNS: [4 | 6, NonNullable<VirtioNetHeaderOptions['csum']>, EngineKind][] = [
      [4, 'data-valid', 'wasm'],
      [4, 'none', 'ts'],
      [6, 'data-valid', 'ts'],
      [6, 'none', 'wasm'],
    ];

    for (const [family, csum, kind] of RUNS) {
      it(`IPv${family}, ${csum === 'none' ? 'flags 0' : 'DATA_VALID'}, ${kind} engine: exact bytes, no checksum error, rcvmss = mss; a corrupted segment is dropped alone`, async () => {
        peer = new Peer(ns, ['--family', String(family), '--initrwnd', '1000']);
        const r = await peer.ready();
        const mss = MSS[family];
        const before = tcpCounters(ns);

        // Phase 1: a clean transfer.
        const clean = segments(r, family, 0, SEGMENTS);
        const packets = await coalesce(kind, clean);
        let dataValid = 0;
        for (const p of packets) {
          const vnet = encodeVirtioNetHeader(p, { size: 12, csum });
          if (vnet[0] === 2) dataValid++;
          const w = await peer.write(vnet, p.data);
          expect(w, `packet of ${p.segments} segments`).toEqual({ ok: true, wrote: 12 + p.data.length });
        }
        const expected = payloadOf(clean);
        const got = await peer.recv(expected.length);
        expect(got.received).toBe(expected.length);
        expect(got.data.equals(expected)).toBe(true);
        const afterClean = tcpCounters(ns);
        expect(afterClean.InCsumErrors - before.InCsumErrors).toBe(0);
        expect(receiverMss(ns, r.peerPort)).toBe(mss);
        expect(dataValid).toBe(csum === 'none' ? 0 : packets.length);
        facts.push(
          `IPv${family} ${csum} (${kind}): ${SEGMENTS} segments of ${mss} B → ${packets.length} packets written ` +
            `(largest ${Math.max(...packets.map((p) => p.segments))} segments), Tcp:InSegs +${afterClean.InSegs - before.InSegs}, ` +
            `InCsumErrors +0, rcvmss ${mss}`,
        );

        // Phase 2: segment `bad` corrupted on input passes through unmerged; the kernel drops exactly it.
        const bad = SEGMENTS + 20;
        const dirty = segments(r, family, SEGMENTS, SEGMENTS + 60, bad);
        const out = await coalesce(kind, dirty);
        const passed = out.filter((p) => p.segments === 1);
        expect(passed).toHaveLength(1);
        expect(passed[0].data).toEqual(dirty[bad - SEGMENTS].data);
        expect(passed[0].verified).toBe(false);
        expect(encodeVirtioNetHeader(passed[0], { csum })[0]).toBe(0);
        for (const p of out) expect(await peer.write(encodeVirtioNetHeader(p, { csum }), p.data)).toMatchObject({ ok: true });
        const upToHole = payloadOf(clean.concat(dirty.slice(0, bad - SEGMENTS)));
        const whole = payloadOf(clean.concat(segments(r, family, SEGMENTS, SEGMENTS + 60)));
        const chunks = [got.data, (await peer.recv(upToHole.length, 2)).data];
        // Give the kernel time to see everything: nothing past the hole may be delivered.
        const quiet = await peer.recv(whole.length, 0.5);
        chunks.push(quiet.data);
        expect(quiet.received).toBe(upToHole.length);
        expect(tcpCounters(ns).InCsumErrors - before.InCsumErrors).toBe(1);
        // The retransmission, correct this time, fills the hole: the whole stream arrives.
        const again = await coalesce(kind, segments(r, family, bad, bad + 1));
        expect(again.map((p) => p.segments)).toEqual([1]);
        expect(await peer.write(encodeVirtioNetHeader(again[0], { csum }), again[0].data)).toMatchObject({ ok: true });
        const rest = await peer.recv(whole.length);
        chunks.push(rest.data);
        expect(rest.received).toBe(whole.length);
        expect(Buffer.concat(chunks).equals(whole)).toBe(true);
        expect(tcpCounters(ns).InCsumErrors - before.InCsumErrors).toBe(1);
        facts.push(
          `IPv${family} ${csum} (${kind}): the corrupted segment passed through with flags 0; InCsumErrors +1; after its retransmission all ${whole.length} B arrived`,
        );
      });
    }

    // fixChecksums: false leaves both checksums as the first segment's; NEEDS_CSUM has the kernel
    // finish the TCP one, and toPartialChecksum makes the IPv4 header's full (ip_rcv verifies it).
    for (const [family, kind] of [
      [4, 'ts'],
      [6, 'wasm'],
    ] as const) {
      // Retried: peer.py's IPv6 handshake now and then gets no ACK for its SYN-ACK on a busy machine.
      it(`IPv${family}, fixChecksums off, NEEDS_CSUM, ${kind} engine: the kernel's TCP receives every byte`, { retry: 2 }, async () => {
        peer = new Peer(ns, ['--family', String(family), '--initrwnd', '1000']);
        const r = await peer.ready();
        const frames = segments(r, family, 0, 100);
        const packets = await coalesce(kind, frames, { fixChecksums: false });
        expect(packets.every((p) => !p.checksumsFixed && p.segments >= 2)).toBe(true);
        const before = tcpCounters(ns);
        for (const p of packets) {
          const vnet = encodeVirtioNetHeader(p, { csum: 'needs-csum' });
          expect(vnet[0]).toBe(1);
          expect(toPartialChecksum(p)).toBe(true);
          expect(await peer.write(vnet, p.data)).toMatchObject({ ok: true });
        }
        const expected = payloadOf(frames);
        const got = await peer.recv(expected.length, 3);
        expect(got.received).toBe(expected.length);
        expect(got.data.equals(expected)).toBe(true);
        expect(tcpCounters(ns).InCsumErrors - before.InCsumErrors).toBe(0);
        facts.push(
          `IPv${family} fixChecksums off, needs-csum (${kind}): ${packets.length} packets written, all ${expected.length} B received`,
        );
      });
    }

    // IPv6 extension headers: hdr_len and csum_start (headerLength, tcpOffset) count them, and the
    // partial sum is the one of the header they follow. (Linux drops PadN longer than 7 bytes: the
    // 16-byte header holds an option it skips, type 0x1e.) VLAN is not run here: the test kernel
    // has neither 8021q nor bridge VLAN filtering to take a tagged frame up to TCP.
    const HBH_DSTOPTS = [
      { type: 0, bytes: new Uint8Array([1, 4, 0, 0, 0, 0]) },
      { type: 60, bytes: new Uint8Array([0x1e, 12, ...new Array(12).fill(0xab)]) },
    ];
    for (const [csum, kind] of [
      ['data-valid', 'wasm'],
      ['needs-csum', 'ts'],
    ] as const) {
      // Retried as above (the handshake).
      it(`IPv6 behind Hop-by-Hop and Destination Options, ${csum}, ${kind} engine: the kernel's TCP receives every byte`, {
        retry: 2,
      }, async () => {
        peer = new Peer(ns, ['--family', '6', '--initrwnd', '1000']);
        const r = await peer.ready();
        const frames = segments(r, 6, 0, 100, -1, { ipv6ExtHeaders: HBH_DSTOPTS });
        const packets = await coalesce(kind, frames);
        expect(Math.max(...packets.map((p) => p.segments))).toBeGreaterThan(20);
        expect(packets[0].tcpOffset).toBe(14 + 40 + 8 + 16);
        const before = tcpCounters(ns);
        for (const p of packets) {
          const vnet = encodeVirtioNetHeader(p, { csum });
          expect(vnet[0]).toBe(csum === 'needs-csum' && p.segments >= 2 ? 1 : 2);
          if (csum === 'needs-csum') toPartialChecksum(p);
          expect(await peer.write(vnet, p.data)).toMatchObject({ ok: true });
        }
        const expected = payloadOf(frames);
        const got = await peer.recv(expected.length, 3);
        expect(got.received).toBe(expected.length);
        expect(got.data.equals(expected)).toBe(true);
        const after = tcpCounters(ns);
        expect(after.InCsumErrors - before.InCsumErrors).toBe(0);
        facts.push(
          `IPv6 + Hop-by-Hop + Destination Options ${csum} (${kind}): 100 segments → ${packets.length} packets written, all ${expected.length} B received, InSegs +${after.InSegs - before.InSegs}`,
        );
      });
    }

    it('controls: tun refuses headers it cannot use (EINVAL), and checks the checksum even under DATA_VALID', async () => {
      peer = new Peer(ns, ['--family', '4', '--initrwnd', '1000']);
      const r = await peer.ready();
      const frames = segments(r, 4, 0, 10);
      const [agg] = await coalesce('wasm', frames);
      expect(agg.segments).toBe(10);
      const good = encodeVirtioNetHeader(agg);
      const refused: [string, Uint8Array][] = [];
      const variant = (name: string, options: VirtioNetHeaderOptions, field: number, value: number) => {
        const h = encodeVirtioNetHeader(agg, options);
        h[field] = value & 0xff;
        h[field + 1] = value >>> 8;
        refused.push([name, h]);
      };
      variant('gso_size 0, DATA_VALID', {}, 4, 0);
      variant('gso_size 0, NEEDS_CSUM', { csum: 'needs-csum' }, 4, 0);
      variant('csum_offset 17', { csum: 'needs-csum' }, 8, 17);
      variant('csum_start 10 (in the Ethernet header)', { csum: 'needs-csum' }, 6, 10);
      for (const [name, vnet] of refused) expect(await peer.write(vnet, agg.data, false), name).toMatchObject({ ok: false, errno: 22 });
      const before = tcpCounters(ns);
      // A payload byte flipped under DATA_VALID: still dropped as a checksum error.
      const spoiled = agg.data.slice();
      spoiled[spoiled.length - 1] ^= 0xff;
      expect(await peer.write(good, spoiled)).toMatchObject({ ok: true });
      expect((await peer.recv(1, 0.5)).received).toBe(0);
      expect(tcpCounters(ns).InCsumErrors - before.InCsumErrors).toBe(1);
      // The real one goes through.
      expect(await peer.write(good, agg.data)).toMatchObject({ ok: true });
      expect((await peer.recv(10 * MSS[4])).data.equals(payloadOf(frames))).toBe(true);
      facts.push(
        `controls: ${refused.map(([name]) => name).join('; ')} → EINVAL; a flipped payload byte under DATA_VALID → dropped, InCsumErrors +1`,
      );
    });

    // NEEDS_CSUM is never verified by a local receiver. A router namespace in between finishes it:
    // the GSO packet is forwarded out of a veth with tso/gso/tx off, so Linux re-cuts it at gso_size
    // and computes every checksum from our partial sum. The far side captures the segments. With
    // fixed IPv4 IDs (fixedIpId aggregates) Linux's re-cut increments the ID instead: a virtio-net
    // header cannot say SKB_GSO_TCP_FIXEDID, so only resegment() gives the fixed IDs back.
    for (const [family, fixedId] of [
      [4, false],
      [6, false],
      [4, true],
    ] as const) {
      const ids = fixedId ? ', fixed IPv4 IDs' : '';
      const what = fixedId ? "exactly resegment()'s segments but for incrementing IDs" : "exactly resegment()'s segments";
      // Retried: the far side's count depends on tcpdump keeping up, which a busy machine can miss.
      it(`IPv${family}${ids}, NEEDS_CSUM through a router: Linux re-cuts each aggregate into ${what}`, {
        retry: 2,
      }, async () => {
        const b = `${ns}b`;
        const far =
          family === 4
            ? { r: '10.89.0.1', b: '10.89.0.2', len: 24, net: '10.88.0.0/24' }
            : { r: 'fd89::1', b: 'fd89::2', len: 64, net: 'fd88::/64' };
        const dir = mkdtempSync(join(tmpdir(), 'lro-tap-'));
        let tcpdump: ChildProcess | null = null;
        try {
          addNamespace(b);
          ip('link', 'add', 'vr', 'netns', ns, 'type', 'veth', 'peer', 'name', 'vb', 'netns', b);
          inNs(ns, 'sysctl', '-qw', family === 4 ? 'net.ipv4.ip_forward=1' : 'net.ipv6.conf.all.forwarding=1');
          const nodad = family === 6 ? ['nodad'] : [];
          ip('-n', ns, 'addr', 'add', `${far.r}/${far.len}`, 'dev', 'vr', ...nodad);
          ip('-n', b, 'addr', 'add', `${far.b}/${far.len}`, 'dev', 'vb', ...nodad);
          ip('-n', ns, 'link', 'set', 'vr', 'up');
          ip('-n', b, 'link', 'set', 'vb', 'up');
          ip('-n', b, 'route', 'add', far.net, 'via', far.r, 'initrwnd', '1000');
          inNs(ns, 'ethtool', '-K', 'vr', 'tso', 'off', 'gso', 'off', 'tx', 'off');
          inNs(b, 'ethtool', '-K', 'vb', 'gro', 'off');
          const pcap = join(dir, 'far.pcap');
          tcpdump = spawn('ip', [
            'netns',
            'exec',
            b,
            'tcpdump',
            '-i',
            'vb',
            '-w',
            pcap,
            '-s',
            '262144',
            '-U',
            // Each packet handed to tcpdump as it arrives: without it the kernel keeps packets in a
            // ring block until the block fills or times out, and the last ones can be lost at SIGINT.
            '--immediate-mode',
            '-B',
            '8192',
            'tcp src port 5201',
          ]);
          await new Promise<void>((resolve, reject) => {
            tcpdump!.stderr!.on('data', (d) => String(d).includes('listening on') && resolve());
            tcpdump!.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}`)));
          });

          peer = new Peer(ns, ['--family', String(family), '--socket-netns', b, '--socket-addr', far.b]);
          const r = await peer.ready();
          const before = tcpCounters(b);
          const frames = segments(r, family, 0, 200, -1, fixedId ? { ipId: 77 } : {});
          const packets = await coalesce('wasm', frames);
          const expected: Uint8Array[] = [];
          let partial = 0;
          for (const p of packets) {
            expected.push(...resegment(p).map((s) => s.slice()));
            const vnet = encodeVirtioNetHeader(p, { csum: 'needs-csum' });
            if (toPartialChecksum(p)) partial++;
            expect(vnet[0]).toBe(p.segments >= 2 ? 1 : 2);
            expect(await peer.write(vnet, p.data)).toMatchObject({ ok: true });
          }
          expect(partial).toBeGreaterThan(0);
          const bytes = payloadOf(frames);
          const got = await peer.recv(bytes.length);
          expect(got.data.equals(bytes)).toBe(true);
          // Control: an aggregate marked NEEDS_CSUM that still holds its full checksum (no
          // toPartialChecksum) is finished wrong by the router, and every re-cut segment is dropped.
          const [first] = await coalesce('wasm', frames.slice(0, 10));
          expect(await peer.write(encodeVirtioNetHeader(first, { csum: 'needs-csum' }), first.data)).toMatchObject({ ok: true });
          await peer.recv(bytes.length + 1, 0.5);
          const after = tcpCounters(b);
          expect(after.InCsumErrors - before.InCsumErrors).toBe(10);

          // tcpdump -U writes each packet as it comes, but behind the kernel's ring: wait until the file stops growing.
          for (let size = -1, t = 0; t < 50 && statSync(pcap).size !== size; t++) {
            size = statSync(pcap).size;
            await new Promise((resolve) => setTimeout(resolve, 300));
          }
          tcpdump.kill('SIGINT');
          await new Promise((resolve) => tcpdump!.once('exit', resolve));
          tcpdump = null;
          const captured = [...readCapture(pcap)]
            .map((rec) => rec.data.slice())
            .filter((f) => (parseFrame(f)?.tcp?.payload.length ?? 0) > 0);
          // What left the router: our packets' segments, then the control's 10.
          expect(captured).toHaveLength(expected.length + 10);
          const recut = captured.slice(0, expected.length);
          for (const f of recut) {
            const parsed = parseFrame(f)!;
            expect(parsed.ipChecksumOk && parsed.tcpChecksumOk).toBe(true);
          }
          if (fixedId) {
            expect(packets.every((p) => p.segments < 2 || p.fixedIpId)).toBe(true);
            // Each packet's segments leave with first, first + 1, …; resegment() keeps 77 on each.
            let k = 0;
            for (const p of packets)
              for (let i = 0; i < resegment(p).length; i++)
                expect(parseFrame(recut[k++])!.ipId).toBe(p.segments < 2 ? 77 : (77 + i) & 0xffff);
            expect(expected.every((f) => parseFrame(f)!.ipId === 77)).toBe(true);
          }
          expectSameByteLists(
            recut.map((f, i) => asSent(f, expected[i])),
            expected,
            're-cut segment',
          );
          facts.push(
            `IPv${family}${ids} needs-csum via a router: ${frames.length} segments → ${packets.length} packets written (${partial} NEEDS_CSUM) → ` +
              `${recut.length} segments on the far side, byte-identical to resegment() (TTL and MACs aside${fixedId ? ', IDs incremented by Linux' : ''}); a full checksum under NEEDS_CSUM → 10 × InCsumErrors`,
          );
        } finally {
          tcpdump?.kill('SIGINT');
          deleteNamespace(b);
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    it('prints what the runs measured', () => {
      console.log(`tap facts:\n  ${facts.join('\n  ')}`);
    });
  },
);

/** A frame captured past the router, as it was before forwarding: our MACs, TTL / hop limit + 1 (and our IPv4 ID). */
function asSent(captured: Uint8Array, ours: Uint8Array): Uint8Array {
  const f = captured.slice();
  f.set(ours.subarray(0, 12), 0);
  const p = parseFrame(f)!;
  if (p.ipVersion === 4) {
    f[p.l3Offset + 8]++;
    f.set(ours.subarray(p.l3Offset + 4, p.l3Offset + 6), p.l3Offset + 4);
    f[p.l3Offset + 10] = 0;
    f[p.l3Offset + 11] = 0;
    const sum = internetChecksum(f, p.l3Offset, p.l3Offset + 20);
    f[p.l3Offset + 10] = (~sum >>> 8) & 0xff;
    f[p.l3Offset + 11] = ~sum & 0xff;
  } else {
    f[p.l3Offset + 7]++;
  }
  return f;
}
