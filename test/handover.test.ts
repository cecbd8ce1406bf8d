// Every way of handing frames over (push, pushBatch, pushFrom, pushStaged, mixed call by call) and
// of taking packets out (drain, drainViews, a sink that scribbles over the caller's frames and
// reads the engine from inside) gives the same packets and stats on both engines (CONTRACT §6.4,
// §7 "Calls"), under ring pressure (capacity sends while chunks are staged), fewer descriptors than
// flows, frames over 128 KiB, times going back and advance() / flush() between calls. Checked
// against the stats' own identities and a model of the clock (§5 firstTimeUs).
import { describe, expect, it } from 'vitest';
import { createEngine, type EngineKind, type Packet, type Stats } from '../bindings/index.js';
import { PASS_THROUGH_CAUSES, REASONS } from '../bindings/abi.js';
import { generateTraffic } from '../bindings/traffic/generate.js';
import { Prng } from '../bindings/traffic/prng.js';
import { expectSamePackets, framesInBuffer } from './helpers/bytes.js';

type Step = { frame: Uint8Array; t: number } | { advance: number } | { flush: true };
type Mode = 'push' | 'pushBatch' | 'pushFrom' | 'pushStaged';
type Delivery = 'drain' | 'views' | 'scribbling sink';

const OPTIONS = { ringBytes: 1 << 20, maxFlows: 512, maxPending: 100, hashSeed: 9 } as const;

/** 6000 frames of 300 flows (noise, loss, reordering, IPv6), three frames over 128 KiB, times that go back, advance() and flush(). */
function steps(): Step[] {
  const rng = new Prng(4);
  const traffic = [
    ...generateTraffic({ packets: 6000, flows: 300, seed: 4, noise: 0.02, ipv6: 0.2, loss: 0.01, reorder: 0.01, flowSegments: 60 }),
  ];
  const t0 = traffic[0].timeUs;
  const out: Step[] = [];
  for (const [i, f] of traffic.entries()) {
    const t = f.timeUs - t0 - (rng.chance(0.005) ? 40 : 0) + (rng.chance(0.005) ? 0.5 : 0);
    out.push({ frame: f.data, t: Math.max(0, t) });
    if (i % 2000 === 999) out.push({ frame: new Uint8Array(140_000 + i).fill(i & 0xff), t });
    else if (rng.chance(0.004)) out.push({ advance: t + rng.int(0, 1500) });
    else if (rng.chance(0.001)) out.push({ flush: true });
  }
  return out;
}

interface Run {
  packets: Packet[];
  stats: Stats;
  /** What the sink read from inside, packet by packet. */
  inside: string[];
}

async function run(kind: EngineKind, all: Step[], mode: Mode | 'mixed', delivery: Delivery): Promise<Run> {
  const e = await createEngine({ ...OPTIONS, engine: kind });
  const rng = new Prng(7);
  const packets: Packet[] = [];
  const inside: string[] = [];
  let handed: Uint8Array[] = []; // the caller's bytes of the call in progress
  if (delivery === 'scribbling sink') {
    e.setSink((data, meta) => {
      packets.push({ ...meta, data: data.slice() });
      for (const f of handed) f.fill(0xa5);
      const s = e.stats();
      inside.push(
        `${s.packetsIn} ${s.packetsOut} ${s.bytesOut} ${s.flowsActive} ${e.nextDeadline()} ${e.firstPendingIndex()} ${e.drain().length}`,
      );
    });
  }
  const take = () => {
    if (delivery === 'views') packets.push(...e.drainViews().map((p) => ({ ...p, data: p.data.slice() })));
    else packets.push(...e.drain());
  };
  const hand = (frames: Uint8Array[], times: number[], how: Mode) => {
    if (how === 'push') {
      frames.forEach((f, i) => {
        handed = [Buffer.from(f)]; // a Node Buffer: its slice() is a view
        e.push(handed[0], times[i]);
      });
    } else if (how === 'pushBatch') {
      handed = frames.map((f) => f.slice());
      e.pushBatch(handed, times);
    } else if (how === 'pushFrom') {
      // Back to back in a SharedArrayBuffer, with gaps.
      const buffer = new SharedArrayBuffer(8 + frames.reduce((n, f) => n + f.length + 40, 0));
      const { view, offsets, lengths } = framesInBuffer(frames, buffer, () => rng.int(0, 39));
      handed = [view];
      e.pushFrom(view, offsets, lengths, times);
    } else {
      const area = e.stagingArea();
      for (let i = 0; i < frames.length; ) {
        const offsets: number[] = [];
        let at = 0;
        const from = i;
        while (i < frames.length && at + frames[i].length <= area.length) {
          area.set(frames[i], at);
          offsets.push(at);
          at += frames[i++].length + rng.int(0, 9);
        }
        handed = [area];
        e.pushStaged(
          offsets,
          frames.slice(from, i).map((f) => f.length),
          times.slice(from, i),
        );
      }
    }
    take();
  };
  let frames: Uint8Array[] = [];
  let times: number[] = [];
  const handAll = () => {
    while (frames.length > 0) {
      const n = Math.min(frames.length, rng.chance(0.5) ? rng.int(1, 20) : rng.int(1, 3000));
      const how = mode === 'mixed' ? (['push', 'pushBatch', 'pushFrom', 'pushStaged'] as const)[rng.int(0, 3)] : mode;
      hand(frames.slice(0, n), times.slice(0, n), how);
      frames = frames.slice(n);
      times = times.slice(n);
    }
  };
  for (const s of all) {
    if ('frame' in s) {
      frames.push(s.frame);
      times.push(s.t);
      continue;
    }
    handAll();
    if ('advance' in s) e.advance(s.advance);
    else e.flush();
    take();
  }
  handAll();
  e.close();
  take();
  return { packets, stats: e.stats(), inside };
}

/** The stats' identities, and each packet's firstTimeUs against the clock (floored, never back) at its first segment's push. */
function checkAgainstModel(r: Run, all: Step[]): void {
  const s = r.stats;
  const inputs = all.filter((x): x is { frame: Uint8Array; t: number } => 'frame' in x);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  expect(sum(PASS_THROUGH_CAUSES.map((c) => s.passThroughCauses[c]))).toBe(s.passedThrough);
  expect(sum(REASONS.map((c) => s.reasons[c]))).toBe(s.packetsOut);
  expect(s.aggregates + s.passedThrough).toBe(s.packetsOut);
  expect(s.segmentsAggregated + s.passedThrough).toBe(inputs.length); // nothing pending after close
  expect(s.packetsIn).toBe(inputs.length);
  expect(s.bytesIn).toBe(sum(inputs.map((x) => x.frame.length)));
  expect(s.packetsOut).toBe(r.packets.length);
  expect(s.bytesOut).toBe(sum(r.packets.map((p) => p.data.length)));
  expect(s.flowsCreated - s.flowsDeleted).toBe(s.flowsActive);
  expect(s.reasons.capacity, 'ring pressure').toBeGreaterThan(100);
  expect(s.clockClamped, 'times that go back').toBeGreaterThan(0);
  const clock: number[] = [];
  let now = 0;
  for (const x of all) {
    if ('advance' in x) now = Math.max(now, Math.floor(x.advance));
    else if ('frame' in x) {
      now = Math.max(now, Math.floor(x.t));
      clock.push(now);
    }
  }
  const wrong = r.packets.filter((p) => p.firstTimeUs !== clock[p.inputIndex] || p.firstTimeUs > p.timeUs);
  expect(wrong.map((p) => `${p.inputIndex}: ${p.firstTimeUs} at ${p.timeUs}`)).toEqual([]);
}

describe('handing frames over and taking packets out, every way', () => {
  const all = steps();

  it('the same packets, stats and in-sink readings on both engines, whatever the calls', async () => {
    const reference = await run('wasm', all, 'pushBatch', 'drain');
    checkAgainstModel(reference, all);
    const insideRef = (await run('wasm', all, 'push', 'scribbling sink')).inside;
    expect(insideRef.length).toBe(reference.packets.length);
    const ways: Array<[Mode | 'mixed', Delivery]> = [
      ['push', 'scribbling sink'],
      ['pushBatch', 'views'],
      ['pushFrom', 'scribbling sink'],
      ['pushStaged', 'scribbling sink'],
      ['mixed', 'scribbling sink'],
      ['mixed', 'views'],
    ];
    for (const kind of ['wasm', 'ts'] as const) {
      for (const [mode, delivery] of ways) {
        const r = await run(kind, all, mode, delivery);
        const what = `${kind} ${mode} ${delivery}`;
        expectSamePackets(r.packets, reference.packets, 1, what);
        expect(r.stats, what).toEqual(reference.stats);
        if (delivery === 'scribbling sink') expect(r.inside, what).toEqual(insideRef);
      }
    }
  });
});
