// Batch size sweep (bulk): push() per frame and pushBatch of 1 … 256 frames, WASM and TS twin in
// one group: the cost of crossing the JS → WASM boundary.
import { timeGroup, type EngineRunner } from '../harness.js';
import { Markdown, nsCell, nsPerFrame, num, rateCell, type Figure } from '../report.js';
import type { Workload } from '../workloads.js';
import { closeAll, engineRunner, figures, type BenchContext, type Section } from './context.js';

/** Frames per call; 0 = push() per frame. */
const BATCHES = [0, 1, 16, 64, 256];

export async function batchSection(ctx: BenchContext, bulk: Workload): Promise<Section> {
  ctx.log('batch size sweep');
  const runners: EngineRunner[] = [];
  const runs: Record<string, () => void> = {};
  for (const kind of ['wasm', 'ts'] as const) {
    for (const batch of BATCHES) {
      const r = await engineRunner(bulk, { kind, batch });
      runners.push(r);
      runs[`${kind}-${batch}`] = () => r.run();
    }
  }
  const sweep = figures(bulk, await timeGroup(runs, ctx.timing));
  closeAll(runners);
  return { markdown: render(sweep) };
}

function render(sweep: Record<string, Figure>): Markdown {
  const md = new Markdown();
  md.h(2, 'Batch size sweep (bulk): the boundary-crossing cost');
  md.table(
    ['frames per call', 'WASM Mpps', 'WASM ns per frame', 'TS Mpps', 'TS ns per frame'],
    BATCHES.map((b) => [
      b === 0 ? '`push()` per frame' : `\`pushBatch\` × ${b}`,
      rateCell(sweep[`wasm-${b}`]),
      nsCell(sweep[`wasm-${b}`]),
      rateCell(sweep[`ts-${b}`]),
      nsCell(sweep[`ts-${b}`]),
    ]),
  );
  md.p(
    `Going from 1 to 256 frames per call saves ${num(nsPerFrame(sweep['wasm-1']) - nsPerFrame(sweep['wasm-256']), 1)} ns ` +
      `per frame on the WASM engine (${num(nsPerFrame(sweep['ts-1']) - nsPerFrame(sweep['ts-256']), 1)} ns on the TS twin, ` +
      'which crosses no boundary).',
  );
  return md;
}
