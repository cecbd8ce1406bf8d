// Real Linux GRO as the reference: the same wire capture through our engine must give the same
// byte streams, the same largest aggregate and a comparable number of packets.
// Needs root, iproute2, ethtool and tcpdump (.ci/run installs them); LRO_SKIP_NETNS=1 skips.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../bindings/capture/index.js';
import { flowKey, parseFrame } from '../bindings/packet/index.js';
import { createEngine, type Packet } from '../bindings/index.js';

const skip = process.env.LRO_SKIP_NETNS === '1';
const BYTES = 2 << 20;
const ATTEMPTS = 3;

interface Frame {
  data: Uint8Array;
  timeUs: number;
}

function load(path: string): Frame[] {
  return [...readCapture(path)].map((r) => ({ data: r.data.slice(), timeUs: r.timeUs }));
}

function payloadBytes(frames: Frame[]): number {
  return frames.reduce((n, f) => n + (parseFrame(f.data)?.tcp?.payload.length ?? 0), 0);
}

/** Per-direction payload stream (keyed by flow) and the data packets' lengths. */
function streams(frames: Uint8Array[]) {
  const byFlow = new Map<string, Buffer[]>();
  const dataLengths: number[] = [];
  for (const f of frames) {
    const p = parseFrame(f);
    if (!p?.tcp || p.tcp.payload.length === 0) continue;
    const key = flowKey(p);
    if (!byFlow.has(key)) byFlow.set(key, []);
    byFlow.get(key)!.push(Buffer.from(p.tcp.payload));
    dataLengths.push(f.length);
  }
  return { byFlow: new Map([...byFlow].map(([k, v]) => [k, Buffer.concat(v)])), dataLengths };
}

describe.skipIf(skip)('against real Linux GRO (veth, two network namespaces)', () => {
  let dir = '';
  let wire: Frame[] = [];
  let linux: Frame[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lro-gro-'));
    // tcpdump may drop packets on a busy machine: retry until both captures hold the whole transfer.
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      execFileSync('bash', [join(import.meta.dirname, 'linux-gro', 'capture.sh'), dir, String(BYTES)], { stdio: 'pipe', timeout: 60_000 });
      expect(Number(readFileSync(join(dir, 'received'), 'utf8'))).toBe(BYTES);
      wire = load(join(dir, 'pre.pcap'));
      linux = load(join(dir, 'post.pcap'));
      if (payloadBytes(wire) === BYTES && payloadBytes(linux) === BYTES) return;
    }
    throw new Error(`tcpdump lost packets in ${ATTEMPTS} attempts`);
  }, 200_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const engineKind of ['wasm', 'ts'] as const) {
    it(`${engineKind}: same byte streams as Linux, aggregates as large, counts comparable`, async () => {
      const engine = await createEngine({ engine: engineKind });
      const out: Packet[] = [];
      for (const f of wire) {
        engine.push(f.data, f.timeUs);
        out.push(...engine.drain());
      }
      engine.close();
      out.push(...engine.drain());

      const ours = streams(out.map((p) => p.data));
      const theirs = streams(linux.map((f) => f.data));
      const sent = streams(wire.map((f) => f.data));
      expect([...ours.byFlow.keys()].sort()).toEqual([...theirs.byFlow.keys()].sort());
      for (const [key, bytes] of theirs.byFlow) {
        expect(ours.byFlow.get(key)!.equals(bytes), key).toBe(true);
        expect(sent.byFlow.get(key)!.equals(bytes), key).toBe(true);
      }
      // Linux: 45 × 1448 bytes with timestamps = 65226-byte frames; ours must reach the same size.
      expect(Math.max(...ours.dataLengths)).toBe(Math.max(...theirs.dataLengths));
      // Linux's boundaries depend on NAPI poll timing; ours on the AgTimer. Compare loosely.
      expect(ours.dataLengths.length).toBeLessThanOrEqual(theirs.dataLengths.length * 3);
      expect(sent.dataLengths.length / ours.dataLengths.length).toBeGreaterThan(10);
      for (const p of out) {
        if (p.segments < 2) continue;
        const parsed = parseFrame(p.data)!;
        expect(parsed.ipChecksumOk && parsed.tcpChecksumOk).toBe(true);
      }
    });
  }
});
