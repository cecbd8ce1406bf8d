// The browser benchmark's measurement, one module for both sides: the page (bench-page.ts, in
// Chromium) and Node (bench/browser.ts) run exactly this code on the same frames. The method is
// `lro bench`'s (bindings/cli/bench.ts): generated bulk traffic of 1448-byte segments, the WASM
// engine and the TS twin, each delivering to a sink (setSink), through drain() and through
// drainViews(), pushBatch of
// 256 frames, alternating rounds so that a change of load hits every runner alike; the median
// sample gives Mpps. A sample is several passes (about 20 ms), since a page's clock is coarse.
import { createEngine } from '../../bindings/engine/create.js';
import type { Engine, EngineKind } from '../../bindings/engine/types.js';
import { generateTraffic } from '../../bindings/traffic/generate.js';

export interface BenchSettings {
  packets: number;
  flows: number;
  batch: number;
  seconds: number;
}

export const BENCH_DEFAULTS: BenchSettings = { packets: 4000, flows: 1, batch: 256, seconds: 4 };

/** Receive-path bulk data (no ACKs, no handshake), as `lro bench` and the suite's bulk workload. */
const TRAFFIC = { seed: 1, mss: 1448, lineRateGbps: 100, ackEvery: 0, handshake: false } as const;
const ROUNDS = 5;
const SAMPLE_MS = 20;
const ENGINES: readonly EngineKind[] = ['wasm', 'ts'];
export const DELIVERIES = ['sink', 'drain', 'views'] as const;
export type Delivery = (typeof DELIVERIES)[number];

export interface Figure {
  mpps: number;
  nsPerFrame: number;
  nsP25: number;
  nsP75: number;
  samples: number;
}

export interface BenchOutput {
  settings: BenchSettings;
  frames: number;
  bytes: number;
  packetsOut: number;
  /** figures[delivery][engine] */
  figures: Record<Delivery, Record<EngineKind, Figure>>;
}

interface Runner {
  kind: EngineKind;
  delivery: Delivery;
  engine: Engine;
  pass(): void;
  packetsOut: number;
  /** ns per frame, one per sample. */
  samples: number[];
}

async function runner(
  kind: EngineKind,
  delivery: Delivery,
  frames: Uint8Array[],
  rel: Float64Array,
  span: number,
  batch: number,
): Promise<Runner> {
  const engine = await createEngine({ engine: kind });
  const abs = new Float64Array(frames.length);
  const batches: { frames: Uint8Array[]; times: Float64Array }[] = [];
  for (let i = 0; i < frames.length; i += batch) {
    const to = Math.min(frames.length, i + batch);
    batches.push({ frames: frames.slice(i, to), times: abs.subarray(i, to) });
  }
  let base = 1_000_000;
  const r: Runner = {
    kind,
    delivery,
    engine,
    packetsOut: 0,
    samples: [],
    pass() {
      for (let i = 0; i < abs.length; i++) abs[i] = base + rel[i];
      base += span + 1000;
      r.packetsOut = 0;
      for (const b of batches) {
        engine.pushBatch(b.frames, b.times);
        if (delivery === 'drain') r.packetsOut += engine.drain().length;
        else if (delivery === 'views') r.packetsOut += engine.drainViews().length;
      }
      engine.flush();
      if (delivery === 'drain') r.packetsOut += engine.drain().length;
      else if (delivery === 'views') r.packetsOut += engine.drainViews().length;
    },
  };
  if (delivery === 'sink') engine.setSink(() => void r.packetsOut++);
  return r;
}

function figure(samples: number[]): Figure {
  const t = [...samples].sort((a, b) => a - b);
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  const ns = q(0.5);
  return { mpps: 1e3 / ns, nsPerFrame: ns, nsP25: q(0.25), nsP75: q(0.75), samples: t.length };
}

/** Measure; `now()` is a clock in ms (performance.now in both places). */
export async function measure(s: BenchSettings = BENCH_DEFAULTS, now: () => number = () => performance.now()): Promise<BenchOutput> {
  const generated = [...generateTraffic({ ...TRAFFIC, packets: s.packets, flows: s.flows })];
  // Back to back in one buffer, 16 bytes (a pcap record header) before each, as a reader hands them out.
  let bytes = 0;
  for (const f of generated) bytes += f.data.length;
  const buffer = new Uint8Array(bytes + 16 * generated.length);
  const frames: Uint8Array[] = [];
  let at = 0;
  for (const f of generated) {
    at += 16;
    buffer.set(f.data, at);
    frames.push(buffer.subarray(at, at + f.data.length));
    at += f.data.length;
  }
  const t0 = generated[0].timeUs;
  const rel = Float64Array.from(generated, (f) => f.timeUs - t0);
  const span = rel[rel.length - 1];

  const runners: Runner[] = [];
  for (const delivery of DELIVERIES) for (const kind of ENGINES) runners.push(await runner(kind, delivery, frames, rel, span, s.batch));
  try {
    // Warm up, check that every runner gives the same packets, and size a sample to ~SAMPLE_MS.
    const passes = new Map<Runner, number>();
    for (const r of runners) {
      r.pass();
      const a = now();
      let n = 0;
      do {
        r.pass();
        n++;
      } while (now() - a < SAMPLE_MS / 2);
      passes.set(r, Math.max(1, Math.round((n * SAMPLE_MS) / (now() - a))));
      if (r.packetsOut !== runners[0].packetsOut) {
        throw new Error(
          `bench: ${r.kind}/${r.delivery} gave ${r.packetsOut} packets, ${runners[0].kind}/${runners[0].delivery} ${runners[0].packetsOut}`,
        );
      }
    }
    const slot = (s.seconds * 1000) / (ROUNDS * runners.length);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < runners.length; i++) {
        const r = runners[(i + round) % runners.length];
        const k = passes.get(r)!;
        const start = now();
        do {
          const a = now();
          for (let p = 0; p < k; p++) r.pass();
          r.samples.push(((now() - a) * 1e6) / (k * frames.length));
        } while (now() - start < slot);
      }
    }
    const fig = (delivery: Delivery, kind: EngineKind) => figure(runners.find((r) => r.kind === kind && r.delivery === delivery)!.samples);
    return {
      settings: s,
      frames: frames.length,
      bytes,
      packetsOut: runners[0].packetsOut,
      figures: {
        sink: { wasm: fig('sink', 'wasm'), ts: fig('sink', 'ts') },
        drain: { wasm: fig('drain', 'wasm'), ts: fig('drain', 'ts') },
        views: { wasm: fig('views', 'wasm'), ts: fig('views', 'ts') },
      },
    };
  } finally {
    for (const r of runners) r.engine.close();
  }
}
