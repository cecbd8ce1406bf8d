// Timing and the runners the benchmark compares. A runner's `run()` is one pass over a workload:
// every frame pushed with its time shifted past the previous pass, then everything flushed, so
// each pass does the same work on a warm engine (flows stay in the table between passes).
import { measure } from 'mitata';
import { readFile } from 'node:fs/promises';
import { createEngine } from '../bindings/index.js';
import type { Engine, EngineKind, EngineOptions, PacketSink } from '../bindings/engine/types.js';
import { resolveOptions } from '../bindings/engine/options.js';
import { blankPacketInfo } from '../bindings/engine/queue.js';
import { flowKey, parseFrame } from '../bindings/packet/index.js';
import { NaiveAggregator } from './naive.js';
import { LINE_RATE_GBPS, type Workload } from './workloads.js';

/** ns per pass. */
export interface Timing {
  p50: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
  samples: number;
}

export interface TimingConfig {
  /** Sampling time per runner, ms, spread over the rounds (after the warm-up passes). */
  minMs: number;
  /** Samples per runner, at least (spread over the rounds). */
  minSamples: number;
  /** Warm-up passes per runner. */
  warmup: number;
  /** Runners of a group take turns this many times, so that a change in machine load hits all alike. */
  rounds: number;
}

/**
 * Time a group of runners that will be compared: warm each up, then let mitata sample whole
 * passes (one pass = one sample), the runners taking turns for `rounds` rounds. Returns ns per
 * pass for each runner, from all its samples.
 */
export async function timeGroup(runs: Record<string, () => void>, cfg: TimingConfig): Promise<Record<string, Timing>> {
  const names = Object.keys(runs);
  for (const name of names) for (let i = 0; i < cfg.warmup; i++) runs[name]();
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < cfg.rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      const s = await measure(runs[name], {
        min_cpu_time: (cfg.minMs / cfg.rounds) * 1e6,
        min_samples: Math.max(2, Math.ceil(cfg.minSamples / cfg.rounds)),
        warmup_samples: 0,
        batch_samples: 1,
        batch_threshold: 0,
        max_samples: 100_000,
      });
      samples[name].push(...s.samples);
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarize(samples[n])]));
}

function summarize(t: number[]): Timing {
  t.sort((a, b) => a - b);
  const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
  return { p50: q(0.5), p25: q(0.25), p75: q(0.75), min: t[0], max: t[t.length - 1], samples: t.length };
}

/**
 * A plain hrtime loop for ns-scale kernels, where a library's per-call overhead would distort
 * the figure: `reps` calls per sample, `samples` samples; ns per call.
 */
export function timeKernel(body: (reps: number) => void, reps: number, samples: number): Timing {
  body(reps); // warm up
  body(reps);
  const t: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    body(reps);
    t.push(Number(process.hrtime.bigint() - t0) / reps);
  }
  return summarize(t);
}

export interface Runner {
  /** One pass over the workload. */
  run(): void;
  close(): void;
}

/** What a checking pass saw at the output. */
export interface OutputShape {
  packetsOut: number;
  aggregates: number; // packets of ≥ 2 segments
  segmentsInAggregates: number;
  maxSegments: number;
  bytesOut: number;
  /** Packets sent with reason `capacity` (here: to free a connection buffer for a new aggregate). */
  capacity: number;
  /** Where in the pass each packet's first segment was (engine runners with a sink; else empty). */
  packetStarts: number[];
}

export function emptyShape(): OutputShape {
  return { packetsOut: 0, aggregates: 0, segmentsInAggregates: 0, maxSegments: 0, bytesOut: 0, capacity: 0, packetStarts: [] };
}

function note(shape: OutputShape, length: number, segments: number, reason = '', start = -1): void {
  if (start >= 0) shape.packetStarts.push(start);
  shape.packetsOut++;
  if (reason === 'capacity') shape.capacity++;
  shape.bytesOut += length;
  if (segments >= 2) {
    shape.aggregates++;
    shape.segmentsInAggregates += segments;
    if (segments > shape.maxSegments) shape.maxSegments = segments;
  }
}

/** Times of a pass: the workload's relative times after `base`. */
class Clock {
  readonly abs: Float64Array;
  private base = 1_000_000;

  constructor(private readonly w: Workload) {
    this.abs = new Float64Array(w.rel.length);
  }

  /** Shift the times of the next pass (1 ms after the previous one ended). */
  next(): Float64Array {
    const abs = this.abs;
    const rel = this.w.rel;
    const base = this.base;
    for (let i = 0; i < abs.length; i++) abs[i] = base + rel[i];
    this.base = base + this.w.spanUs + 1000;
    return abs;
  }
}

export type Delivery = 'sink' | 'drain' | 'views';

export interface EngineRunnerOptions {
  kind: EngineKind;
  verify: boolean;
  /** Frames per pushBatch call; 0 = push() per frame. */
  batch: number;
  delivery: Delivery;
  engine?: EngineOptions;
  /** Where packets go (default: nowhere, so no copy is counted). */
  sink?: PacketSink;
}

/** A runner whose output shape one pass can record: subclasses note() into `checking` while set. */
abstract class ShapeRunner implements Runner {
  protected checking: OutputShape | null = null;

  abstract run(): void;
  abstract close(): void;

  /** One pass that records the output's shape (also a warm-up pass). */
  check(): OutputShape {
    this.checking = emptyShape();
    this.run();
    const shape = this.checking;
    this.checking = null;
    return shape;
  }
}

export class EngineRunner extends ShapeRunner {
  private readonly clock: Clock;
  // Each batch's frames and a view of its times (refilled by the clock every pass): nothing is
  // allocated per call, whatever the batch size.
  private readonly batches: { frames: Uint8Array[]; times: Float64Array }[] = [];

  private constructor(
    readonly engine: Engine,
    private readonly w: Workload,
    private readonly o: EngineRunnerOptions,
  ) {
    super();
    this.clock = new Clock(w);
    const step = o.batch > 0 ? o.batch : w.frames.length;
    for (let i = 0; i < w.frames.length; i += step) {
      const to = Math.min(w.frames.length, i + step);
      this.batches.push({ frames: w.frames.slice(i, to), times: this.clock.abs.subarray(i, to) });
    }
    if (o.delivery === 'sink') {
      const user = o.sink ?? null;
      engine.setSink((data, meta) => {
        if (this.checking !== null) {
          note(this.checking, data.length, meta.segments, meta.reason, meta.inputIndex % w.frames.length);
        }
        if (user !== null) user(data, meta);
      });
    }
  }

  static async create(w: Workload, o: EngineRunnerOptions): Promise<EngineRunner> {
    const engine = await createEngine({
      maxFlows: w.maxFlows,
      verifyChecksums: o.verify,
      ...o.engine,
      engine: o.kind,
    });
    return new EngineRunner(engine, w, o);
  }

  run(): void {
    const e = this.engine;
    const abs = this.clock.next();
    const drain = this.o.delivery !== 'sink';
    if (this.o.batch === 0) {
      const frames = this.w.frames;
      for (let i = 0; i < frames.length; i++) {
        e.push(frames[i], abs[i]);
        if (drain) this.drained(e);
      }
    } else {
      for (const b of this.batches) {
        e.pushBatch(b.frames, b.times);
        if (drain) this.drained(e);
      }
    }
    e.flush();
    if (drain) this.drained(e);
  }

  private drained(e: Engine): void {
    const packets = this.o.delivery === 'views' ? e.drainViews() : e.drain();
    if (this.checking !== null) for (const p of packets) note(this.checking, p.data.length, p.segments, p.reason);
  }

  close(): void {
    this.engine.close();
    this.engine.drain();
  }
}

export class NaiveRunner extends ShapeRunner {
  private readonly clock: Clock;
  private readonly agg: NaiveAggregator;

  constructor(
    private readonly w: Workload,
    verify: boolean,
    concatEverySegment = false,
    sink: ((frame: Uint8Array) => void) | null = null,
  ) {
    super();
    this.clock = new Clock(w);
    this.agg = new NaiveAggregator(
      (frame, segments) => {
        if (this.checking !== null) note(this.checking, frame.length, segments);
        if (sink !== null) sink(frame);
      },
      { verifyChecksums: verify, concatEverySegment },
    );
  }

  run(): void {
    const abs = this.clock.next();
    const frames = this.w.frames;
    for (let i = 0; i < frames.length; i++) this.agg.push(frames[i], abs[i]);
    this.agg.flush();
  }

  close(): void {}
}

// ---------------------------------------------------------------------------------------------
// The machine's bound: bench/kernels.ts (build/bench-kernels.wasm).

export interface KernelExports {
  memory: WebAssembly.Memory;
  stagePtr(): number;
  descPtr(): number;
  stageBytes(): number;
  maxBatch(): number;
  connPtr(): number;
  ringPtr(): number;
  ringEnd(): number;
  flowsEnd(flows: number): number;
  bound(count: number, mode: number): number;
  sumLoop(ptr: number, len: number, reps: number): number;
  copyLoop(dst: number, src: number, len: number, reps: number): void;
}

/** Where the kernels' mode 6 hands packets (BoundRunner sets it for its pass). */
const kernelOutput = { emit: (_ptr: number, _length: number) => {} };

export async function loadKernels(path: URL): Promise<KernelExports> {
  const { instance } = await WebAssembly.instantiate(await readFile(path), {
    env: {
      abort() {
        throw new Error('bench kernels aborted');
      },
      emitPacket: (ptr: number, length: number) => kernelOutput.emit(ptr, length),
    },
  });
  return instance.exports as unknown as KernelExports;
}

/** Bound modes: what the kernel does after staging. */
export const BOUND_STAGE = 0;
export const BOUND_CHECKSUM = 1;
export const BOUND_FULL = 2;
/** BOUND_FULL with segments held where they were staged: the payload copied is the one staged with the flow's previous segment. */
export const BOUND_HELD = 4;
/** BOUND_HELD, + the frame's flow's record (the engine's size) read and written: the least per-flow state. */
export const BOUND_HELD_STATE = 5;
/** BOUND_HELD_STATE, + a new view handed to a sink that does nothing wherever the engine's output has a packet start. */
export const BOUND_HELD_EMIT = 6;
/** Bit 31 of a frame's flow word (bench/kernels.ts PACKET_STARTS). */
const PACKET_STARTS = 0x80000000;
/** u32 words per frame description (bench/kernels.ts DESC_SIZE / 4): offset, length, held offset, flow. */
const DESC_WORDS = 4;

/** The engine's default AgTimer (µs): the longest a pending segment is held. */
const AG_TIMER_US = resolveOptions({}).aggregateTimeoutUs;

/** Each frame's flow (its key's order of first appearance; frames without a key share one). */
function flowIndices(frames: Uint8Array[]): Uint32Array {
  const index = new Map<string, number>();
  const out = new Uint32Array(frames.length);
  frames.forEach((f, i) => {
    const p = parseFrame(f);
    const key = p === null ? '' : flowKey(p);
    if (!index.has(key)) index.set(key, index.size);
    out[i] = index.get(key)!;
  });
  return out;
}

/** The unavoidable work over a workload, 256 frames per call like the engines. */
export class BoundRunner implements Runner {
  private heap: Uint8Array;
  private desc: Uint32Array;
  private readonly stage: number;
  private readonly stageBytes: number;
  /**
   * BOUND_HELD: how many frames back the segment a frame's aggregate holds was staged — its
   * flow's previous segment, at most the AgTimer's 1 ms of traffic back — and the ring's state.
   */
  private readonly holdFrames: number = 0;
  private readonly ringBytes: number = 0;
  private readonly staged: Uint32Array = new Uint32Array(0);
  /** BOUND_HELD_STATE: each frame's flow, numbered in order of first appearance (BOUND_HELD_EMIT: | PACKET_STARTS). */
  private readonly flowOf: Uint32Array = new Uint32Array(0);
  private ringHead = 0;
  private count = 0;
  bad = 0;

  constructor(
    private readonly k: KernelExports,
    private readonly w: Workload,
    private readonly mode: number,
    /** BOUND_HELD_EMIT: the engine's output on these frames (OutputShape.packetStarts). */
    packetStarts: number[] = [],
    private readonly batch = 256,
  ) {
    this.stage = k.stagePtr();
    this.stageBytes = k.stageBytes();
    if (mode === BOUND_HELD_EMIT && packetStarts.length === 0) throw new Error('BoundRunner: BOUND_HELD_EMIT needs the packet starts');
    if (mode >= BOUND_HELD_STATE) {
      this.flowOf = flowIndices(w.frames);
      const missing = k.flowsEnd(this.flowOf.reduce((a, b) => Math.max(a, b), 0) + 1) - k.memory.buffer.byteLength;
      if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
      for (const i of packetStarts) this.flowOf[i] |= PACKET_STARTS;
    }
    if (mode >= BOUND_HELD) {
      const missing = k.ringEnd() - k.memory.buffer.byteLength;
      if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
      this.ringBytes = k.ringEnd() - k.ringPtr();
      const usPerFrame = ((w.bytes / w.frames.length) * 8) / (LINE_RATE_GBPS * 1000);
      this.holdFrames = Math.max(1, Math.min(w.flows, Math.floor(AG_TIMER_US / usPerFrame)));
      this.staged = new Uint32Array(this.holdFrames);
    }
    [this.heap, this.desc] = this.views();
  }

  /** Views of the kernels' memory (renewed when a runner grew it). */
  private views(): [Uint8Array, Uint32Array] {
    const buffer = this.k.memory.buffer;
    return [new Uint8Array(buffer), new Uint32Array(buffer, this.k.descPtr(), this.k.maxBatch() * DESC_WORDS)];
  }

  run(): void {
    if (this.heap.buffer !== this.k.memory.buffer) [this.heap, this.desc] = this.views();
    const frames = this.w.frames;
    const heap = this.heap;
    const desc = this.desc;
    const held = this.mode >= BOUND_HELD;
    const flowOf = this.flowOf;
    const base = held ? this.k.ringPtr() : this.stage;
    if (this.mode === BOUND_HELD_EMIT) {
      // As the engines hand a packet to a sink: a new view, and the packet's (reused) metadata.
      const buffer = this.k.memory.buffer;
      const meta = blankPacketInfo();
      const sink: PacketSink = () => {};
      kernelOutput.emit = (ptr, length) => sink(new Uint8Array(buffer, ptr, length), meta);
    }
    let bad = 0;
    for (let i = 0; i < frames.length; ) {
      let used = 0;
      let n = 0;
      for (; n < this.batch && i < frames.length; n++, i++) {
        const f = frames[i];
        let at = used;
        if (held) {
          // At the ring's head; the payload gathered is the one staged holdFrames frames ago.
          if (this.ringHead + f.length > this.ringBytes) this.ringHead = 0;
          at = this.ringHead;
          this.ringHead = (at + f.length + 7) & ~7;
          const slot = this.count++ % this.holdFrames;
          desc[DESC_WORDS * n + 2] = this.count > this.holdFrames ? this.staged[slot] : at;
          if (flowOf.length !== 0) desc[DESC_WORDS * n + 3] = flowOf[i];
          this.staged[slot] = at;
        } else {
          if (used + f.length > this.stageBytes) break;
          used += (f.length + 7) & ~7;
        }
        heap.set(f, base + at);
        desc[DESC_WORDS * n] = at;
        desc[DESC_WORDS * n + 1] = f.length;
      }
      bad += this.k.bound(n, this.mode);
    }
    this.bad = bad;
  }

  close(): void {}
}
