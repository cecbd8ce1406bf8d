// The machine's bound (bulk): the bound kernel's parts and the engines from the comparison's bulk
// extras, and the ns-scale kernels (plain hrtime loops) measured here.
import { sum16 } from '../../bindings/twin/checksum.js';
import { timeKernel, type Timing } from '../harness.js';
import { Markdown, gbps, nsCell, nsPerFrame, num, pct, rateCell, ratio, verdict, type Figure } from '../report.js';
import type { Workload } from '../workloads.js';
import type { BenchContext, Section } from './context.js';

export interface Bound extends Section {
  /** ns per 1448 bytes: the engine's SIMD checksum kernel and the TS twin's sum16. */
  simdChecksumNs: number;
  twinChecksumNs: number;
}

export async function boundSection(ctx: BenchContext, bulk: Workload, extras: Record<string, Figure>): Promise<Bound> {
  // 4. Kernels (ns scale: plain hrtime loops) ----------------------------------------------------
  ctx.log('kernels');
  const { kernels, log } = ctx;
  const heap = new Uint8Array(kernels.memory.buffer);
  const stage = kernels.stagePtr();
  const frame = bulk.frames[0];
  heap.set(frame, stage);
  const payloadAt = frame.length - 1448;
  const reps = ctx.size === 'tiny' ? 2000 : 200_000;
  const samples = ctx.size === 'tiny' ? 3 : 15;
  const stageCopy = timeKernel(
    (n) => {
      for (let i = 0; i < n; i++) heap.set(frame, stage + (i & 7));
    },
    reps,
    samples,
  );
  const simd = timeKernel(
    (n) => {
      kernels.sumLoop(stage + payloadAt, 1448, n);
    },
    reps,
    samples,
  );
  const copy = timeKernel(
    (n) => {
      kernels.copyLoop(kernels.connPtr(), stage + payloadAt, 1448, n);
    },
    reps,
    samples,
  );
  let x = 0;
  const twin = timeKernel(
    (n) => {
      for (let i = 0; i < n; i++) x += sum16(frame, payloadAt + (i & 1), payloadAt + 1448 + (i & 1));
    },
    reps / 4,
    samples,
  );
  const textbook = timeKernel(
    (n) => {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = payloadAt; j < payloadAt + 1448; j += 2) s += (frame[j] << 8) | frame[j + 1];
        x += s;
      }
    },
    reps / 8,
    samples,
  );
  if (x === 0.5) log(''); // keep x alive
  const kernelRows: [string, Timing][] = [
    ['stage one frame: `Uint8Array.prototype.set` (1514 B)', stageCopy],
    ['SIMD checksum, 1448 B (engine kernel, WASM call included)', simd],
    ['`memory.copy` 1448 B into a connection buffer', copy],
    ['TS twin `sum16`, 1448 B (plain JS, u32 words)', twin],
    ["textbook JS checksum loop, 1448 B (the naive baseline's)", textbook],
  ];
  return { markdown: render(extras, kernelRows), simdChecksumNs: simd.p50, twinChecksumNs: twin.p50 };
}

function render(extras: Record<string, Figure>, kernelRows: [string, Timing][]): Markdown {
  const md = new Markdown();
  md.h(2, "The machine's bound (bulk)");
  md.p(
    'bench/kernels.ts (AssemblyScript, SIMD, `--runtime stub`, built by this script to ' +
      'build/bench-kernels.wasm) does only the unavoidable work per frame: JS stages the frame into linear memory ' +
      'with `Uint8Array.set` (256 frames per call), the kernel verifies the IPv4 header and TCP checksums with the ' +
      "engine's own SIMD `sum16` and appends the payload to a connection buffer with `memory.copy`. It handles " +
      'IPv4 TCP (other frames are only staged), keeps no per-flow state and uses one connection buffer.',
  );
  const cells = (f: Figure) => [nsCell(f), rateCell(f), num(gbps(f))];
  md.table(
    ['work per frame', 'ns per frame (p25–p75)', 'Mpps', 'Gbit/s'],
    [
      ['staging copy + call', ...cells(extras.stage)],
      ['+ checksum verification (SIMD)', ...cells(extras.checksum)],
      ['+ payload `memory.copy` = **the bound**', ...cells(extras.bound)],
      ['WASM engine (sink)', ...cells(extras.wasm)],
      ['WASM engine (`drain()`: packets copied out, the caller owns them)', ...cells(extras.wasmDrain)],
      ['WASM engine (`drainViews()`: packets in a reused buffer)', ...cells(extras.wasmViews)],
      ['TS twin (sink)', ...cells(extras.ts)],
      ['TS twin (`drain()`)', ...cells(extras.tsDrain)],
      ['TS twin (`drainViews()`)', ...cells(extras.tsViews)],
    ],
  );
  const takeOut = (k: string, sink: Figure) => nsPerFrame(extras[k]) / nsPerFrame(sink);
  md.table(
    ['target: packets taken out within 1.5× of a sink', "measured (ns per frame over the sink's)", ''],
    [
      ['WASM engine, `drainViews()`', ratio(takeOut('wasmViews', extras.wasm)), verdict(takeOut('wasmViews', extras.wasm) <= 1.5)],
      ['TS twin, `drainViews()`', ratio(takeOut('tsViews', extras.ts)), verdict(takeOut('tsViews', extras.ts) <= 1.5)],
      ['WASM engine, `drain()`', ratio(takeOut('wasmDrain', extras.wasm)), verdict(takeOut('wasmDrain', extras.wasm) <= 1.5)],
      ['TS twin, `drain()`', ratio(takeOut('tsDrain', extras.ts)), verdict(takeOut('tsDrain', extras.ts) <= 1.5)],
    ],
  );
  md.p(
    '`drain()` gives the caller bytes it owns, each packet in a fresh buffer: the fresh memory (page faults, ' +
      'external-memory GCs), not the copy, makes up most of its cost over a sink. `drainViews()` lends views of one ' +
      'reused buffer until the next call that sends packets: the cheap way (README), in Node and in Chromium ' +
      '(bench/RESULTS-browser.md).',
  );
  const over = nsPerFrame(extras.wasm) - nsPerFrame(extras.bound);
  md.p(
    `The WASM engine runs at **${pct(nsPerFrame(extras.bound) / nsPerFrame(extras.wasm))}** of the bound ` +
      `(${num(nsPerFrame(extras.wasm), 1)} vs ${num(nsPerFrame(extras.bound), 1)} ns per frame): ` +
      `${num(over, 1)} ns per frame go to what the bound leaves out — header parsing, the flow lookup, both timers, ` +
      `the aggregation checks, the per-aggregate fix-up and the sink call (see the profile below). ` +
      `The staging copy alone is ${pct(nsPerFrame(extras.stage) / nsPerFrame(extras.wasm))} of the engine's time.`,
  );
  md.h(3, "Kernels (plain hrtime loops: a library's per-call overhead would distort ns-scale figures)");
  md.table(
    ['kernel', 'ns per call (median)', 'p25–p75'],
    kernelRows.map(([name, t]) => [name, num(t.p50, 1), `${num(t.p25, 1)}–${num(t.p75, 1)}`]),
  );
  return md;
}
