// `lro bench`: a small measurement that ships with the package. It generates bulk traffic with the
// package's own generator and times the WASM engine and the TS twin on the same frames, side by
// side in alternating rounds, delivering to a sink and through drain(); it prints Mpps, ns per
// frame and the WASM / TS ratio (or one JSON object with --json).
//
// `lro bench --suite [args]`: the full benchmark suite instead (bench/run.ts, which writes
// bench/RESULTS.md). It is a repository file, not part of the published package, and needs the
// dev dependencies (mitata, the asc compiler): run it from a clone. Its arguments come unparsed.

import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FileError } from '../capture/errors.js';
import { createEngine } from '../engine/create.js';
import type { Engine, EngineKind } from '../engine/types.js';
import { generateTraffic } from '../traffic/generate.js';
import { UsageError, type Parsed } from './args.js';
import { BENCH_DEFAULTS } from './commands.js';
import type { CliIo } from './io.js';
import { int, round } from './summary.js';

/** The runners take turns this many times, so that a change in machine load hits all alike. */
const ROUNDS = 5;
/** Passes per runner before timing (the first also checks the output). */
const WARMUP_PASSES = 2;
/** The traffic: receive-path bulk data (no ACKs, no handshake) of 1448-byte segments, as the suite's bulk workload. */
const TRAFFIC = { seed: 1, mss: 1448, lineRateGbps: 100, ackEvery: 0, handshake: false } as const;
/** Bytes before each frame in the input buffer (a pcap record header's worth). */
const RECORD_GAP = 16;
const ENGINES: readonly EngineKind[] = ['wasm', 'ts'];
const DELIVERIES = ['sink', 'drain'] as const;
type Delivery = (typeof DELIVERIES)[number];

export interface BenchSettings {
  packets: number;
  flows: number;
  seconds: number;
  /** Frames per pushBatch call; 0 = push() per frame. */
  batch: number;
}

/** One engine and delivery: its per-pass times (ns). */
interface Runner {
  kind: EngineKind;
  delivery: Delivery;
  pass(): void;
  /** Packets and bytes out of the last pass. */
  packetsOut: number;
  bytesOut: number;
  samples: number[];
  close(): void;
}

export interface BenchFigure {
  mpps: number;
  nsPerFrame: number;
  /** ns per frame at the 25th and 75th percentile of the passes. */
  nsP25: number;
  nsP75: number;
  gbps: number;
  passes: number;
}

export interface BenchResult {
  packets: number;
  flows: number;
  batch: number;
  seconds: number;
  rounds: number;
  /** Input bytes per pass. */
  bytes: number;
  /** Packets out per pass (the same for every runner) and the mean segments per packet out. */
  packetsOut: number;
  segmentsPerPacket: number;
  node: string;
  cpu: string;
  sink: { wasm: BenchFigure; ts: BenchFigure; wasmOverTs: number };
  drain: { wasm: BenchFigure; ts: BenchFigure; wasmOverTs: number };
}

function settingsFrom(parsed: Parsed): BenchSettings {
  if (parsed.positionals.length > 0) {
    throw new UsageError(
      `lro bench: unexpected argument '${parsed.positionals[0]}' (the full suite's arguments go after --suite; see lro bench --help)`,
    );
  }
  const get = (name: keyof BenchSettings) => (parsed.flags.get(name) as number | undefined) ?? BENCH_DEFAULTS[name];
  const s: BenchSettings = { packets: get('packets'), flows: get('flows'), seconds: get('seconds'), batch: get('batch') };
  if (!Number.isInteger(s.packets) || s.packets < 1) throw new UsageError(`lro bench: --packets must be an integer ≥ 1, got ${s.packets}`);
  if (!Number.isInteger(s.flows) || s.flows < 1 || s.flows > 1 << 24)
    throw new UsageError(`lro bench: --flows must be an integer in [1, ${1 << 24}], got ${s.flows}`);
  if (!(s.seconds > 0) || !Number.isFinite(s.seconds)) throw new UsageError(`lro bench: --seconds must be > 0, got ${s.seconds}`);
  if (!Number.isInteger(s.batch) || s.batch < 0) throw new UsageError(`lro bench: --batch must be an integer ≥ 0, got ${s.batch}`);
  return s;
}

/** Table size for the flows: the default up to 1000, beyond that 10 % headroom rounded up to 1024. */
function maxFlowsFor(flows: number): number {
  return Math.min(1 << 24, flows <= 1000 ? 1024 : Math.ceil((flows * 1.1) / 1024) * 1024);
}

async function createRunner(
  kind: EngineKind,
  delivery: Delivery,
  frames: Uint8Array[],
  rel: Float64Array,
  spanUs: number,
  s: BenchSettings,
): Promise<Runner> {
  const maxFlows = maxFlowsFor(s.flows);
  const engine: Engine = await createEngine({ engine: kind, maxFlows });
  // Each pass: the same frames, their times shifted past the previous pass, then a flush.
  const abs = new Float64Array(frames.length);
  const batches: { frames: Uint8Array[]; times: Float64Array }[] = [];
  const step = s.batch > 0 ? s.batch : frames.length;
  for (let i = 0; i < frames.length; i += step) {
    const to = Math.min(frames.length, i + step);
    batches.push({ frames: frames.slice(i, to), times: abs.subarray(i, to) });
  }
  let base = 1_000_000;
  function drained(): void {
    const packets = engine.drain();
    r.packetsOut += packets.length;
    for (let i = 0; i < packets.length; i++) r.bytesOut += packets[i].data.length;
  }
  const r: Runner = {
    kind,
    delivery,
    packetsOut: 0,
    bytesOut: 0,
    samples: [],
    pass() {
      for (let i = 0; i < abs.length; i++) abs[i] = base + rel[i];
      base += spanUs + 1000;
      r.packetsOut = 0;
      r.bytesOut = 0;
      if (s.batch === 0) {
        for (let i = 0; i < frames.length; i++) {
          engine.push(frames[i], abs[i]);
          if (delivery === 'drain') drained();
        }
      } else {
        for (const b of batches) {
          engine.pushBatch(b.frames, b.times);
          if (delivery === 'drain') drained();
        }
      }
      engine.flush();
      if (delivery === 'drain') drained();
    },
    close() {
      engine.close();
      engine.drain();
    },
  };
  if (delivery === 'sink') {
    engine.setSink((data) => {
      r.packetsOut++;
      r.bytesOut += data.length;
    });
  }
  return r;
}

function figure(samples: number[], frames: number, bytes: number): BenchFigure {
  const t = [...samples].sort((a, b) => a - b);
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  const p50 = q(0.5);
  return {
    mpps: (frames / p50) * 1e3,
    nsPerFrame: p50 / frames,
    nsP25: q(0.25) / frames,
    nsP75: q(0.75) / frames,
    gbps: (bytes * 8) / p50,
    passes: t.length,
  };
}

/** Generate the traffic, time every runner in alternating rounds, and summarise. */
export async function measure(s: BenchSettings): Promise<BenchResult> {
  // The frames back to back in one buffer, a 16-byte gap (a pcap record header) before each, as a
  // capture reader hands them out.
  const generated = [...generateTraffic({ ...TRAFFIC, packets: s.packets, flows: s.flows })];
  let bytes = 0;
  for (const f of generated) bytes += f.data.length;
  const buffer = new Uint8Array(bytes + RECORD_GAP * generated.length);
  const frames: Uint8Array[] = [];
  const times: number[] = [];
  let at = 0;
  for (const f of generated) {
    at += RECORD_GAP;
    buffer.set(f.data, at);
    frames.push(buffer.subarray(at, at + f.data.length));
    times.push(f.timeUs);
    at += f.data.length;
  }
  const t0 = times[0];
  const rel = Float64Array.from(times, (t) => t - t0);
  const spanUs = rel[rel.length - 1];

  const runners: Runner[] = [];
  try {
    for (const delivery of DELIVERIES) {
      for (const kind of ENGINES) runners.push(await createRunner(kind, delivery, frames, rel, spanUs, s));
    }
    for (const r of runners) for (let i = 0; i < WARMUP_PASSES; i++) r.pass();
    const first = runners[0];
    for (const r of runners) {
      if (r.packetsOut !== first.packetsOut || r.bytesOut !== first.bytesOut) {
        throw new Error(
          `bench: the engines' outputs differ (${first.kind}/${first.delivery}: ${first.packetsOut} packets, ` +
            `${first.bytesOut} bytes; ${r.kind}/${r.delivery}: ${r.packetsOut} packets, ${r.bytesOut} bytes)`,
        );
      }
    }
    const slotNs = (s.seconds * 1e9) / (ROUNDS * runners.length);
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < runners.length; i++) {
        const r = runners[(i + round) % runners.length];
        const start = process.hrtime.bigint();
        let elapsed = 0;
        do {
          const a = process.hrtime.bigint();
          r.pass();
          const b = process.hrtime.bigint();
          r.samples.push(Number(b - a));
          elapsed = Number(b - start);
        } while (elapsed < slotNs);
      }
    }
    const fig = (kind: EngineKind, delivery: Delivery) =>
      figure(runners.find((r) => r.kind === kind && r.delivery === delivery)!.samples, frames.length, bytes);
    const row = (delivery: Delivery) => {
      const wasm = fig('wasm', delivery);
      const ts = fig('ts', delivery);
      return { wasm, ts, wasmOverTs: ts.nsPerFrame / wasm.nsPerFrame };
    };
    return {
      packets: frames.length,
      flows: s.flows,
      batch: s.batch,
      seconds: s.seconds,
      rounds: ROUNDS,
      bytes,
      packetsOut: first.packetsOut,
      segmentsPerPacket: first.packetsOut > 0 ? frames.length / first.packetsOut : 0,
      node: process.version,
      cpu: cpus()[0]?.model?.trim() ?? 'unknown CPU',
      sink: row('sink'),
      drain: row('drain'),
    };
  } finally {
    for (const r of runners) r.close();
  }
}

export function benchText(r: BenchResult): string {
  const head = ['delivery', 'WASM Mpps', 'ns/frame', 'TS Mpps', 'ns/frame', 'WASM / TS'];
  const cells = (f: BenchFigure) => [f.mpps.toFixed(2), f.nsPerFrame.toFixed(1)];
  const body = [
    ['sink (setSink)', ...cells(r.sink.wasm), ...cells(r.sink.ts), `${r.sink.wasmOverTs.toFixed(2)}×`],
    ['drain()', ...cells(r.drain.wasm), ...cells(r.drain.ts), `${r.drain.wasmOverTs.toFixed(2)}×`],
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const passes = [r.sink.wasm, r.sink.ts, r.drain.wasm, r.drain.ts].map((f) => f.passes);
  return [
    `lro bench: ${int(r.packets)} frames per pass (${r.flows} bulk flow${r.flows === 1 ? '' : 's'}, 1448-byte segments, ` +
      `${(r.bytes / 1e6).toFixed(1)} MB), ${r.batch === 0 ? 'push() per frame' : `pushBatch × ${r.batch}`}, checksums verified`,
    `output: ${int(r.packetsOut)} packets per pass (${r.segmentsPerPacket.toFixed(1)} frames per packet), the same from both engines`,
    '',
    fmt(head),
    ...body.map(fmt),
    '',
    `Median of ${Math.min(...passes)}–${Math.max(...passes)} passes per runner, ${r.rounds} alternating rounds in ${r.seconds} s; ` +
      `${r.node}, ${r.cpu}.`,
    'The full benchmark suite (naive baseline, scale, profiles; writes bench/RESULTS.md) runs from a clone: lro bench --suite',
  ].join('\n');
}

function jsonFigure(f: BenchFigure): Record<string, number> {
  return {
    mpps: round(f.mpps, 4),
    nsPerFrame: round(f.nsPerFrame, 2),
    nsP25: round(f.nsP25, 2),
    nsP75: round(f.nsP75, 2),
    gbps: round(f.gbps, 3),
    passes: f.passes,
  };
}

export function benchJson(r: BenchResult): Record<string, unknown> {
  const row = (x: BenchResult['sink']) => ({ wasm: jsonFigure(x.wasm), ts: jsonFigure(x.ts), wasmOverTs: round(x.wasmOverTs, 3) });
  return { ...r, segmentsPerPacket: round(r.segmentsPerPacket, 3), sink: row(r.sink), drain: row(r.drain) };
}

// ---------------------------------------------------------------------------------------------
// The full suite (a clone only)

/** bench/run.ts, next to bindings/ (from bindings/cli or dist/cli alike). */
export function benchScript(): string {
  return fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
}

/**
 * Run bench/run.ts's exported `main(args)`. While it is imported, process.argv holds the suite's
 * arguments after lro's own path, so a script that runs itself only when it is the entry stays
 * quiet on import, and one that always runs still sees its arguments.
 */
export async function runSuite(args: readonly string[]): Promise<number> {
  const path = benchScript();
  if (!existsSync(path)) {
    throw new FileError(
      `lro bench --suite: the benchmark suite is not here (${path} is missing); it ships with the repository: ` +
        'run it from a clone (npm run bench). `lro bench` without --suite runs the built-in measurement',
    );
  }
  const savedArgv = process.argv;
  process.argv = [savedArgv[0], savedArgv[1], ...args];
  try {
    let mod: { main?: (args: string[]) => unknown };
    try {
      mod = (await import(pathToFileURL(path).href)) as typeof mod;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e && (e.code === 'ERR_UNKNOWN_FILE_EXTENSION' || e.code === 'ERR_MODULE_NOT_FOUND')) {
        throw new FileError(
          `lro bench --suite: cannot load ${path} (${e.code}); run it from a clone with its dev dependencies installed (npm run bench)`,
        );
      }
      throw err;
    }
    if (typeof mod.main === 'function') {
      const code = await mod.main([...args]);
      return typeof code === 'number' ? code : 0;
    }
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } finally {
    process.argv = savedArgv;
  }
}

/** `lro bench [--packets N …]`, or `lro bench --suite ARGS…` (main.ts passes those unparsed, as positionals). */
export async function run(parsed: Parsed, io: CliIo): Promise<number> {
  if (parsed.flags.get('suite')) return runSuite(parsed.positionals);
  const result = await measure(settingsFrom(parsed));
  io.out(parsed.flags.get('json') ? JSON.stringify(benchJson(result)) : benchText(result));
  return 0;
}
