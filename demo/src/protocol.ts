// Messages between the demo page (main.ts) and its worker (worker.ts), and what a run reports.
import type { EngineKind, Preset, Stats } from '../../bindings/engine/types.js';

export type SampleName = 'bulk' | 'mixed';

/** The options the page offers (every other engine option keeps its default, as in `lro coalesce`). */
export interface DemoOptions {
  engine: EngineKind;
  preset: Preset;
  aggregateTimeoutUs: number;
  maxAggregate: number;
  verifyChecksums: boolean;
}

export type RunInput =
  | { kind: 'file'; name: string; bytes: ArrayBuffer }
  | { kind: 'sample'; sample: SampleName }
  /** The input of the previous run again (other options). */
  | { kind: 'again' };

export type ToWorker = { type: 'run'; input: RunInput; options: DemoOptions };

export type Phase = 'generating' | 'coalescing' | 'analysing';

export type FromWorker =
  | { type: 'progress'; phase: Phase; fraction: number }
  | { type: 'result'; result: DemoResult; output: ArrayBuffer }
  | { type: 'error'; message: string };

/** One TCP connection (direction matters) on one interface. */
export interface ConnectionRow {
  key: string;
  /** "10.0.0.1:40000 → 192.168.0.1:5201" (+ interface, VLAN). */
  label: string;
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Output packets that are aggregates (not pass-through), and the segments in them. */
  aggregates: number;
  segments: number;
  /** Output packets per reason. */
  reasons: Record<string, number>;
}

/** A connection's segments in and packets out, for the timeline (times in µs from the capture's start). */
export interface Timeline {
  key: string;
  /** Per input segment with payload: time, sequence offset (from the connection's first), payload length. */
  inT: number[];
  inSeq: number[];
  inLen: number[];
  /** Per output packet with payload: send time, sequence offset, payload length, segments, reason. */
  outT: number[];
  outSeq: number[];
  outLen: number[];
  outSegments: number[];
  outReason: string[];
  /** Points left out past the cap. */
  truncated: boolean;
}

export interface DemoResult {
  name: string;
  outputName: string;
  format: 'pcap' | 'pcapng';
  options: DemoOptions;
  inputBytes: number;
  outputBytes: number;
  interfaces: number;
  /** `lro coalesce`'s run in the worker (reading, engines, writing), the plots' bookkeeping left out. */
  elapsedMs: number;
  stats: Stats;
  /** histogram[n]: aggregates (packets that are not pass-through) of n segments. */
  histogram: number[];
  /** Sorted by packets in, most first. */
  connections: ConnectionRow[];
  /** Timelines of the busiest connections (keys as in `connections`). */
  timelines: Timeline[];
}
