// Scale: 1 → 10k flows at the same frames per pass, the short-aggregate control, 10k flows with
// fewer pending aggregates allowed (maxPending) and 100k flows (default maxPending and ring); each
// row timed in its own group with the bound and the bound with segments held where they were staged.
import type { WasmEngine } from '../../bindings/engine/wasm.js';
import { BOUND_FULL, BOUND_HELD, BOUND_HELD_EMIT, BOUND_HELD_STATE, BoundRunner, timeGroup, type OutputShape } from '../harness.js';
import { Markdown, gbps, mpps, nsPerFrame, num, pct, rateCell, ratio, type Figure } from '../report.js';
import { LINE_RATE_GBPS, SCALE_FLOWS, scaleControlWorkload, scaleWorkload, type Workload } from '../workloads.js';
import { closeAll, engineRunner, figures, segmentsPerAggregate, type BenchContext, type Section } from './context.js';

/** maxPending of the scale row whose 10k flows may have fewer aggregates pending at once. */
export const CAPPED_PENDING = 1024;

export interface ScaleRow {
  w: Workload;
  f: Record<string, Figure>;
  shape: OutputShape;
  maxPending: number;
  live: number;
  /** The WASM engine's linear memory (fixed at creation). */
  memoryBytes: number;
}

export interface Scale extends Section {
  /** The 1 → 10k sweep (SCALE_FLOWS), in order. */
  sweep: ScaleRow[];
  /** WASM throughput lost from the first to the last row of the sweep. */
  loss: number;
  /** The same for the bound with segments held where they were staged. */
  heldBoundLoss: number;
  /** The same for that bound with each frame's flow record read and written. */
  stateBoundLoss: number;
  /** The same for that bound with a view handed to a sink for each of the engine's packets as well. */
  emitBoundLoss: number;
  /** WASM ns per frame of the 64-flow row over the 1-flow row (same frames per pass). */
  flows64OverOne: number;
  /** The 100k-flow row on the defaults: its WASM memory and the share of packets sent early (capacity). */
  hundredK: { memoryBytes: number; capacityShare: number };
}

async function measureRow(ctx: BenchContext, work: Workload, maxPending = work.maxFlows): Promise<ScaleRow> {
  const { kernels } = ctx;
  ctx.log(`scale: ${work.name}${maxPending < work.maxFlows ? `, maxPending ${maxPending}` : ''}`);
  const wasm = await engineRunner(work, { kind: 'wasm', engine: { maxPending } });
  const ts = await engineRunner(work, { kind: 'ts', engine: { maxPending } });
  const shape = wasm.check();
  const bound = new BoundRunner(kernels, work, BOUND_FULL);
  const held = new BoundRunner(kernels, work, BOUND_HELD);
  const state = new BoundRunner(kernels, work, BOUND_HELD_STATE);
  const emit = new BoundRunner(kernels, work, BOUND_HELD_EMIT, shape.packetStarts);
  const runners = {
    wasm: () => wasm.run(),
    ts: () => ts.run(),
    bound: () => bound.run(),
    held: () => held.run(),
    state: () => state.run(),
    emit: () => emit.run(),
  };
  const live = wasm.engine.stats().flowsActive;
  const memoryBytes = (wasm.engine as Partial<WasmEngine>).memoryBytes?.() ?? 0;
  const t = await timeGroup(runners, ctx.manyFlowsTiming);
  closeAll([wasm, ts]);
  return { w: work, shape, maxPending, live, memoryBytes, f: figures(work, t) };
}

export async function scaleSection(ctx: BenchContext): Promise<Scale> {
  // 5. Scale: 1 → 10k flows ----------------------------------------------------------------------
  const sweep: ScaleRow[] = [];
  for (const n of SCALE_FLOWS) sweep.push(await measureRow(ctx, scaleWorkload(n, ctx.size)));
  const control = await measureRow(ctx, scaleControlWorkload(ctx.size));
  // Fewer pending aggregates than flows (maxPending), and 100k flows with the defaults.
  const pooled = await measureRow(ctx, scaleWorkload(10_000, ctx.size), CAPPED_PENDING);
  const hundredK = await measureRow(ctx, scaleWorkload(100_000, ctx.size));
  const first = sweep[0];
  const last = sweep[sweep.length - 1];
  return {
    markdown: render(sweep, control, pooled, hundredK),
    sweep,
    loss: 1 - mpps(last.f.wasm) / mpps(first.f.wasm),
    heldBoundLoss: 1 - mpps(last.f.held) / mpps(first.f.held),
    stateBoundLoss: 1 - mpps(last.f.state) / mpps(first.f.state),
    emitBoundLoss: 1 - mpps(last.f.emit) / mpps(first.f.emit),
    flows64OverOne: nsPerFrame(sweep.find((s) => s.w.flows === 64)!.f.wasm) / nsPerFrame(first.f.wasm),
    hundredK: { memoryBytes: hundredK.memoryBytes, capacityShare: hundredK.shape.capacity / hundredK.shape.packetsOut },
  };
}

function render(scale: ScaleRow[], control: ScaleRow, pooled: ScaleRow, hundredK: ScaleRow): Markdown {
  const md = new Markdown();
  md.h(2, 'Scale: 1 → 10k flows (and 100k)');
  const last = scale[scale.length - 1];
  md.p(
    `Every row of the 1 → ${last.w.flows} sweep has the same frames per pass (${scale[0].w.frames.length}, ` +
      `${num(scale[0].w.bytes / 2 ** 20, 0)} MiB), so only the number of flows changes; that is two frames per flow at ` +
      `${last.w.flows}, so that most flows are live ("live flows": connections in the table after a pass). The ` +
      `${hundredK.w.flows}-flow row has two frames per flow too (${hundredK.w.frames.length}). At ` +
      `${LINE_RATE_GBPS} Gbit/s shared by N flows a flow's next segment comes N × 0.12 µs later, and an aggregate ends ` +
      'at the 1 ms AgTimer and wherever the TCP timestamp ticks (1 kHz: the option bytes differ): with many flows ' +
      'aggregates get short, as they would under Linux GRO. The control row has one flow whose aggregates are ' +
      'as short, to separate the cost of short aggregates from the cost of many flows.',
  );
  const scaleRow = (s: ScaleRow, label: string | number) => [
    label,
    s.live,
    s.w.frames.length,
    s.w.maxFlows,
    s.maxPending === s.w.maxFlows ? '= maxFlows' : s.maxPending,
    num(segmentsPerAggregate(s.shape), 1),
    pct(s.shape.capacity / s.shape.packetsOut),
    rateCell(s.f.wasm),
    num(gbps(s.f.wasm)),
    rateCell(s.f.ts),
    rateCell(s.f.bound),
    pct(nsPerFrame(s.f.bound) / nsPerFrame(s.f.wasm)),
    rateCell(s.f.held),
    rateCell(s.f.state),
    rateCell(s.f.emit),
    pct(nsPerFrame(s.f.emit) / nsPerFrame(s.f.wasm)),
  ];
  md.table(
    [
      'flows',
      'live flows',
      'frames per pass',
      'maxFlows',
      'maxPending',
      'segments / aggregate',
      'sent early (capacity)',
      'WASM Mpps',
      'WASM Gbit/s',
      'TS Mpps',
      'bound Mpps',
      'WASM % of bound',
      'bound, segments held where staged: Mpps',
      '+ a flow record per frame: Mpps',
      '+ a view to a sink per packet: Mpps',
      'WASM % of it',
    ],
    [
      ...scale.map((s) => scaleRow(s, s.w.flows)),
      scaleRow(control, '1 (control: PSH every 2nd segment)'),
      scaleRow(pooled, `${pooled.w.flows} (maxPending ${pooled.maxPending})`),
      scaleRow(hundredK, hundredK.w.flows),
    ],
  );
  const first = scale[0].f;
  const lossWasm = 1 - mpps(last.f.wasm) / mpps(first.wasm);
  const lossShort = 1 - mpps(control.f.wasm) / mpps(first.wasm);
  md.p(
    `Loss from 1 to ${last.w.flows} flows: WASM **${pct(lossWasm)}**, TS twin ` +
      `${pct(1 - mpps(last.f.ts) / mpps(first.ts))}; the bound (no per-flow state) changes ${pct(1 - mpps(last.f.bound) / mpps(first.bound))} on the same frames. ` +
      'The bound with segments held where they were staged (the same work, but every frame staged in turn into a ' +
      "16 MiB ring like the engine's, and the payload copied out the one staged with the frame's flow's previous " +
      'segment — N frames back for N flows, at most the 1 ms AgTimer of traffic: what any aggregator pays that keeps ' +
      `pending segments in place and gathers them at send) loses ${pct(1 - mpps(last.f.held) / mpps(first.held))} from 1 to ` +
      `${last.w.flows} flows by itself; with each frame's flow record read and written as well (128 bytes, the engine's ` +
      'record size, both cache lines: the least per-flow state a lookup touches, with no table, timers or descriptor) ' +
      `it loses ${pct(1 - mpps(last.f.state) / mpps(first.state))}; and with a new view of a frame handed to a sink that ` +
      "does nothing wherever one of the engine's packets starts (the engine's own output on the same frames: " +
      `${num(last.shape.packetsOut / last.w.frames.length, 2)} packets per frame at ${last.w.flows} flows against ` +
      `${num(scale[0].shape.packetsOut / scale[0].w.frames.length, 3)} at 1 — what a per-packet sink costs any engine) ` +
      `${pct(1 - mpps(last.f.emit) / mpps(first.emit))}. ` +
      `Of the WASM engine's loss, short aggregates alone (control row vs 1 flow) account for ${pct(lossShort)}; ` +
      `${last.w.flows} flows vs the control cost another ${pct(1 - mpps(last.f.wasm) / mpps(control.f.wasm))}: the price of many flows — ` +
      'flow records, table slots and timer links touched at random, and pending segments held in the staging ring ' +
      '(where they were staged, gathered once at send: no per-flow buffer) well past the caches. ' +
      `With maxPending ${pooled.maxPending} for the same ${pooled.w.flows} flows the engine runs at ` +
      `${ratio(mpps(pooled.f.wasm) / mpps(last.f.wasm))} the speed of the default, and ` +
      `${pct(pooled.shape.capacity / pooled.shape.packetsOut)} of its packets go out early (capacity). The ${hundredK.w.flows}-flow ` +
      `row runs on the defaults (maxPending = maxFlows, a 16 MiB ring): ${pct(hundredK.shape.capacity / hundredK.shape.packetsOut)} sent early.`,
  );
  return md;
}
