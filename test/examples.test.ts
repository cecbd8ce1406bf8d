// The receivers' runnable examples (examples/, README "Receivers"), each run here on real bytes as
// a user runs it: they import the built package by name ('large-receive', dist/ from npm run
// build). Every one must hand the receiver exactly the TCP byte streams that went in, in far fewer
// frames, none larger than the receiver takes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStream, type EngineOptions, type TimedFrame } from '../bindings/index.js';
import { readCapture } from '../bindings/capture/index.js';
import { parseFrame } from '../bindings/packet/index.js';
import { type GenerateOptions, generateTraffic } from '../bindings/traffic/generate.js';
import { reassemble } from './linux-gro/run.js';

const root = join(import.meta.dirname, '..');
const example = (name: string) => join(root, 'examples', name);
let dir: string;

beforeAll(() => {
  expect(existsSync(join(root, 'dist', 'index.js')), 'the examples import the built package: run npm run build').toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'lro-examples-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function traffic(o: GenerateOptions): TimedFrame[] {
  return [...generateTraffic({ seed: 17, flows: 4, ackEvery: 8, ...o })].map((f) => ({ data: f.data, timeUs: f.timeUs }));
}

/** Output carries each flow's bytes exactly as the input, every frame with good IP and TCP checksums. */
function expectSameStreams(out: Uint8Array[], input: Uint8Array[]): void {
  const want = reassemble(input);
  const got = reassemble(out);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, w] of want) {
    const g = got.get(key)!;
    expect(g.holes, key).toBe(0);
    expect(Buffer.compare(g.bytes, w.bytes), `${key}: ${g.bytes.length} bytes, want ${w.bytes.length}`).toBe(0);
  }
  for (const f of out) {
    const p = parseFrame(f);
    if (!p?.tcp) continue;
    expect(p.ipChecksumOk && p.tcpChecksumOk, 'checksums').toBe(true);
  }
}

/** Data frames (TCP with payload): what a receiver's stack handles one by one. */
const dataFrames = (frames: Uint8Array[]) => frames.filter((f) => (parseFrame(f)?.tcp?.payload.length ?? 0) > 0).length;

describe('v86 (examples/v86-receiver.mjs)', () => {
  // ne2k (MTU 1500) on small segments, virtio-net with mtu 9000 on bulk traffic.
  const CASES: [string, number, GenerateOptions, number][] = [
    ['ne2k, MTU 1500, 300-byte segments', 1500, { packets: 3000, smallSegments: [300, 300], ipv6: 0.5 }, 3],
    ['virtio-net, mtu 9000, bulk', 9000, { packets: 3000, ipv6: 0.5 }, 5],
  ];
  for (const [name, mtu, options, gain] of CASES) {
    it(`${name}: the guest gets every byte in frames ≤ MTU + 14, ≥ ${gain}× fewer data frames`, async () => {
      const { createV86Receiver, stubBus } = await import(example('v86-receiver.mjs'));
      const bus = stubBus();
      let now = 0; // µs: a frame each, so that a stall of this busy machine does not end aggregates (AgTimer)
      const rx = await createV86Receiver(bus, { mtu, clockUs: () => now++ });
      const input = traffic(options).map((f) => f.data);
      for (let i = 0; i < input.length; i++) {
        rx.receive(input[i]);
        if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 2)); // bursts, as a relay delivers them
      }
      await new Promise((resolve) => setTimeout(resolve, 5)); // idle: the receiver flushes
      const got = bus.received as Uint8Array[];
      expect(rx.stats().packetsOut).toBe(got.length); // flushed when idle: nothing left pending
      expect(Math.max(...got.map((f) => f.length))).toBeLessThanOrEqual(mtu + 14);
      expect(dataFrames(got) * gain).toBeLessThanOrEqual(dataFrames(input));
      expectSameStreams(got, input);
      rx.close();
    });
  }

  it('runs on its own', () => {
    expect(execFileSync('node', [example('v86-receiver.mjs')], { encoding: 'utf8' })).toMatch(
      /^8 frames in, ([12]) to the guest: (234, 1314|1494) bytes/,
    );
  });
});

describe('container2wasm-style ring between two worker_threads (examples/c2w-ring.mjs)', () => {
  it('u32be frames through a wrapping SharedArrayBuffer ring: every byte, far fewer frames', async () => {
    const { runRing } = await import(example('c2w-ring.mjs'));
    const input = traffic({ packets: 4000, ipv6: 0.5, vlan: 7 });
    const capacity = 160 * 1024; // 2.5 aggregates: the ring wraps again and again, and the writer waits for the reader
    const r = await runRing(
      input.map((f) => f.data),
      input.map((f) => f.timeUs),
      { capacity },
    );
    const got = r.frames as Uint8Array[];
    expect(r.written).toBe(got.length);
    expect(r.wraps).toBeGreaterThanOrEqual(10);
    expect(got.reduce((n, f) => n + 4 + f.length, 0)).toBeGreaterThan(10 * capacity);
    expect(Math.max(...got.map((f) => f.length))).toBeLessThanOrEqual(65535 + 14);
    expect(dataFrames(got) * 20).toBeLessThanOrEqual(dataFrames(input.map((f) => f.data)));
    expectSameStreams(
      got,
      input.map((f) => f.data),
    );
  });

  it('runs on its own', () => {
    expect(execFileSync('node', [example('c2w-ring.mjs')], { encoding: 'utf8' })).toMatch(/^2000 frames in, 45 through the ring/);
  });
});

/** Records of a virtio-framed file: `size`-byte header, then an Ethernet frame whose length its IP header says. */
function readVirtioRecords(bytes: Uint8Array, size: number): { header: Uint8Array; frame: Uint8Array }[] {
  const out: { header: Uint8Array; frame: Uint8Array }[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = 0; at < bytes.length; ) {
    const frameAt = at + size;
    let l3 = frameAt + 14;
    let type = view.getUint16(frameAt + 12);
    if (type === 0x8100) {
      type = view.getUint16(frameAt + 16);
      l3 += 4;
    }
    const ipLength = type === 0x0800 ? view.getUint16(l3 + 2) : 40 + view.getUint16(l3 + 4);
    const end = l3 + ipLength;
    out.push({ header: bytes.subarray(at, frameAt), frame: bytes.subarray(frameAt, end) });
    at = end;
  }
  return out;
}

const le16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);

describe('tap writer (examples/tap-writer.mjs)', () => {
  it('a capture in, virtio-net header + frame per write() out: GSO fields per packet, every byte back', () => {
    const pcap = join(dir, 'in.pcap');
    execFileSync('node', [
      join(root, 'bin/lro.js'),
      'generate',
      '-o',
      pcap,
      '--packets',
      '3000',
      '--flows',
      '4',
      '--ipv6',
      '0.5',
      '--vlan',
      '9',
    ]);
    const wire = [...readCapture(pcap)].map((r) => r.data.slice());
    const out = join(dir, 'out.vnet');
    const said = execFileSync('node', [example('tap-writer.mjs'), pcap, out], { encoding: 'utf8' });
    const [, frames, packets] = /^(\d+) frames in, (\d+) packets written/.exec(said)!.map(Number);
    const records = readVirtioRecords(readFileSync(out), 12);
    expect(records).toHaveLength(packets);
    expect(frames).toBe(3000);
    let gso = 0;
    for (const { header, frame } of records) {
      const p = parseFrame(frame)!;
      expect(le16(header, 10), 'num_buffers').toBe(1);
      if (header[1] !== 0) {
        gso++;
        expect(header[1]).toBe(p.ipVersion === 4 ? 1 : 4);
        const mss = le16(header, 4);
        expect(p.tcp!.payload.length).toBeGreaterThan(mss); // two or more segments of mss
        expect(le16(header, 2), 'hdr_len').toBe(frame.length - p.tcp!.payload.length);
        expect(header[0], 'DATA_VALID').toBe(2);
      }
    }
    expect(gso).toBeGreaterThan(20);
    const written = records.map((r) => r.frame);
    expect(dataFrames(written) * 10).toBeLessThanOrEqual(dataFrames(wire));
    expectSameStreams(written, wire);
  });

  it("'needs-csum' through writeToTap: NEEDS_CSUM records carry the partial sum, which finishes to the full checksum", async () => {
    const { writeToTap } = await import(example('tap-writer.mjs'));
    const { openSync, closeSync } = await import('node:fs');
    const input = traffic({ packets: 2000, ipv6: 0.5 });
    const out = join(dir, 'needs-csum.vnet');
    const fd = openSync(out, 'w');
    const source = new ReadableStream<TimedFrame>({
      start(controller) {
        for (const f of input) controller.enqueue(f);
        controller.close();
      },
    });
    const packets = await writeToTap(source, fd, { virtio: { size: 10, csum: 'needs-csum' } });
    closeSync(fd);
    const records = readVirtioRecords(readFileSync(out), 10);
    expect(records).toHaveLength(packets);
    const finished: Uint8Array[] = [];
    let partial = 0;
    for (const { header, frame } of records) {
      const f = frame.slice();
      if (header[0] === 1) {
        partial++;
        const start = le16(header, 6);
        expect(le16(header, 8)).toBe(16);
        expect(parseFrame(f)!.tcpChecksumOk).toBe(false); // the partial sum, not a full checksum
        let sum = 0;
        for (let i = start; i < f.length; i += 2) sum += (f[i] << 8) | (f[i + 1] ?? 0);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
        f[start + 16] = (~sum >>> 8) & 0xff;
        f[start + 17] = ~sum & 0xff;
      }
      finished.push(f);
    }
    expect(partial).toBeGreaterThan(20);
    expectSameStreams(
      finished,
      input.map((f) => f.data),
    );
  });
});

describe('tcpip.js: nic.readable.pipeThrough(lro).pipeTo(tap.writable), maxFrame 65535', () => {
  /** The shape of the wiring: a ReadableStream of frames, createStream frames mode, a WritableStream that takes frames ≤ 65535 bytes. */
  async function pipe(options: EngineOptions, frames: Uint8Array[]): Promise<Uint8Array[]> {
    const nic = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const f of frames) controller.enqueue(f);
        controller.close();
      },
    });
    const taken: Uint8Array[] = [];
    const tap = new WritableStream<Uint8Array>({
      write(frame) {
        if (!(frame instanceof Uint8Array)) throw new TypeError('tcpip.js takes Uint8Array frames');
        taken.push(frame);
      },
    });
    // The stream clock stands still: a stall of this busy machine does not end aggregates (AgTimer).
    const lro = createStream({ ...options, output: 'frames', flushWhenIdle: true, clockUs: () => 0 });
    await nic.pipeThrough(lro).pipeTo(tap);
    return taken;
  }

  for (const kind of ['wasm', 'ts'] as const) {
    it(`${kind}: frames ≤ 65535 bytes, the TCP byte streams exactly, ≥ 20× fewer data frames`, async () => {
      const input = traffic({ packets: 4000, ipv6: 0.5 }).map((f) => f.data);
      const got = await pipe({ engine: kind, maxFrame: 65535 }, input);
      expect(Math.max(...got.map((f) => f.length))).toBeLessThanOrEqual(65535);
      expect(dataFrames(got) * 20).toBeLessThanOrEqual(dataFrames(input));
      expectSameStreams(got, input);
    });

    it(`${kind}: threshold 65535 and a 1393-byte MSS make a 65537-byte frame, unless maxFrame is 65535`, async () => {
      const input = traffic({ packets: 2000, mss: 1393 }).map((f) => f.data);
      const unlimited = await pipe({ engine: kind, threshold: 65535 }, input);
      expect(Math.max(...unlimited.map((f) => f.length))).toBe(65537); // 14 + 20 + 32 + 47 × 1393
      const got = await pipe({ engine: kind, threshold: 65535, maxFrame: 65535 }, input);
      expect(Math.max(...got.map((f) => f.length))).toBeLessThanOrEqual(65535);
      expectSameStreams(got, input);
    });
  }
});

describe('README "Receivers": the gains table', () => {
  it('holds exactly what bench/receivers.ts counts, and both engines count the same', async () => {
    const { END, START, measureReceivers, readmeBlock, receiversTable } = await import('../bench/receivers.js');
    const wasm = await measureReceivers('wasm');
    expect(await measureReceivers('ts')).toEqual(wasm);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = readme.slice(readme.indexOf(START), readme.indexOf(END) + END.length);
    expect(block, 'run npx tsx bench/receivers.ts --write').toBe(readmeBlock(receiversTable(wasm)));
    // The engine hands over far fewer frames than the wire, except full-size segments at MTU 1500.
    for (const row of wasm.slice(1, -1)) for (const [k, x] of row.entries()) expect(x * 5).toBeLessThan(wasm[0][k]);
  });
});
