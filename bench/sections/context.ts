// What every section of the benchmark shares: the run's timing, log, bound kernels and seeds, and
// the small helpers the sections build their runners and figures with. A section is an async
// function (ctx, …) that measures its part of RESULTS.md and returns its markdown (a Markdown
// fragment) and the figures other sections (the headline, the notes) quote.
import type { EngineRunnerOptions, KernelExports, OutputShape, Runner, Timing, TimingConfig } from '../harness.js';
import { EngineRunner } from '../harness.js';
import type { Figure, Markdown } from '../report.js';
import type { Size, Workload } from '../workloads.js';

export interface BenchContext {
  size: Size;
  /** Timing of a group of runners compared with each other. */
  timing: TimingConfig;
  /**
   * Timing of groups over many flows: those touch their connection buffers for the first time over
   * several passes (page faults), so they warm up until every flow has been seen a few times.
   */
  manyFlowsTiming: TimingConfig;
  log: (line: string) => void;
  kernels: KernelExports;
  /** The run's random hashSeed (adversarial rows; quoted in the header). */
  randomSeed: number;
  /** Failed checks: each becomes a "Check failed" line under "Reading these numbers". */
  notes: string[];
}

/** What a section returns: its part of RESULTS.md, plus the figures it hands on. */
export interface Section {
  markdown: Markdown;
}

/** An engine runner as the benchmark uses it unless a row says otherwise: verifying, batches of 256, a sink. */
export function engineRunner(w: Workload, o: Partial<EngineRunnerOptions> & { kind: 'wasm' | 'ts' }): Promise<EngineRunner> {
  return EngineRunner.create(w, { verify: true, batch: 256, delivery: 'sink', ...o });
}

export function figure(w: Workload, t: Timing): Figure {
  return { frames: w.frames.length, bytes: w.bytes, t };
}

/** Every timing of a group as a figure over `w`. */
export function figures(w: Workload, t: Record<string, Timing>): Record<string, Figure> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, figure(w, v)]));
}

export function sameShape(a: OutputShape, b: OutputShape): boolean {
  return (
    a.packetsOut === b.packetsOut &&
    a.aggregates === b.aggregates &&
    a.bytesOut === b.bytesOut &&
    a.segmentsInAggregates === b.segmentsInAggregates
  );
}

export function segmentsPerAggregate(s: OutputShape): number {
  return s.aggregates === 0 ? 0 : s.segmentsInAggregates / s.aggregates;
}

export function closeAll(runners: Runner[]): void {
  for (const r of runners) r.close();
}
