// WASM vs TS twin vs naive on every comparison workload, checksum verification on and off, and
// the bulk extras (the bound's parts, drain() vs sink, the literal concat-per-segment naive) that
// the bound section and the notes quote.
import { BOUND_CHECKSUM, BOUND_FULL, BOUND_STAGE, BoundRunner, NaiveRunner, timeGroup, type OutputShape } from '../harness.js';
import { Markdown, gbps, mpps, nsPerFrame, num, pct, rateCell, ratio, type Figure } from '../report.js';
import { comparisonWorkloads, type Workload } from '../workloads.js';
import { closeAll, engineRunner, figures, sameShape, type BenchContext, type Section } from './context.js';

export interface ComparisonRow {
  w: Workload;
  /** Verification on: wasm, ts, naive, bound. */
  on: Record<string, Figure>;
  /** Verification off: wasm, ts, naive. */
  off: Record<string, Figure>;
  shapes: Record<string, OutputShape>;
}

export interface Comparison extends Section {
  rows: ComparisonRow[];
  /** The first row: bulk. */
  bulk: ComparisonRow;
  /**
   * Bulk, one group: wasm, ts, wasmDrain, tsDrain, wasmViews, tsViews (engines), stage, checksum, bound (the bound's
   * parts), naiveQuadratic.
   */
  extras: Record<string, Figure>;
}

export async function comparisonSection(ctx: BenchContext): Promise<Comparison> {
  const { log, notes, kernels } = ctx;
  log('generating workloads');
  const cmp = comparisonWorkloads(ctx.size);
  const bulk = cmp[0];

  // 1. WASM vs TS twin vs naive, checksum verification on and off ---------------------------
  const rows: ComparisonRow[] = [];
  for (const w of cmp) {
    log(`comparison: ${w.name}`);
    const row: ComparisonRow = { w, on: {}, off: {}, shapes: {} };
    for (const verify of [true, false]) {
      const wasm = await engineRunner(w, { kind: 'wasm', verify });
      const ts = await engineRunner(w, { kind: 'ts', verify });
      const naive = new NaiveRunner(w, verify);
      const bound = new BoundRunner(kernels, w, BOUND_FULL);
      if (verify) {
        row.shapes.wasm = wasm.check();
        row.shapes.ts = ts.check();
        row.shapes.naive = naive.check();
        if (!sameShape(row.shapes.wasm, row.shapes.ts)) notes.push(`${w.name}: WASM and TS outputs differ in shape`);
      }
      const runs: Record<string, () => void> = { wasm: () => wasm.run(), ts: () => ts.run(), naive: () => naive.run() };
      if (verify) runs.bound = () => bound.run();
      const t = await timeGroup(runs, ctx.timing);
      if (verify) row.on = figures(w, t);
      else row.off = figures(w, t);
      closeAll([wasm, ts, naive]);
    }
    rows.push(row);
  }

  // 2. Bulk extras: the bound's parts, drain() vs sink, literal concat-per-segment naive -------
  log('bulk: bound breakdown, delivery, naive variants');
  const wasm = await engineRunner(bulk, { kind: 'wasm' });
  const ts = await engineRunner(bulk, { kind: 'ts' });
  const wasmDrain = await engineRunner(bulk, { kind: 'wasm', delivery: 'drain' });
  const tsDrain = await engineRunner(bulk, { kind: 'ts', delivery: 'drain' });
  const wasmViews = await engineRunner(bulk, { kind: 'wasm', delivery: 'views' });
  const tsViews = await engineRunner(bulk, { kind: 'ts', delivery: 'views' });
  const stage = new BoundRunner(kernels, bulk, BOUND_STAGE);
  const check = new BoundRunner(kernels, bulk, BOUND_CHECKSUM);
  const full = new BoundRunner(kernels, bulk, BOUND_FULL);
  const naiveQuadratic = new NaiveRunner(bulk, true, true);
  const extras = figures(
    bulk,
    await timeGroup(
      {
        wasm: () => wasm.run(),
        ts: () => ts.run(),
        wasmDrain: () => wasmDrain.run(),
        tsDrain: () => tsDrain.run(),
        wasmViews: () => wasmViews.run(),
        tsViews: () => tsViews.run(),
        stage: () => stage.run(),
        checksum: () => check.run(),
        bound: () => full.run(),
        naiveQuadratic: () => naiveQuadratic.run(),
      },
      ctx.timing,
    ),
  );
  if (full.bad !== 0) notes.push(`bound kernel: ${full.bad} frames of bulk failed their checksums`);
  closeAll([wasm, ts, wasmDrain, tsDrain, wasmViews, tsViews]);

  return { markdown: render(cmp, rows, extras), rows, bulk: rows[0], extras };
}

function render(cmp: Workload[], rows: ComparisonRow[], extras: Record<string, Figure>): Markdown {
  const md = new Markdown();
  md.h(2, 'WASM vs TS twin vs naive, all workloads');
  md.p(
    "Input: every workload's pass is small enough to stay in the L3 cache (frames handed over hot, as from " +
      'a capture chunk or a NIC ring). The naive aggregator keys flows by string in a Map, reads headers byte by ' +
      'byte, verifies with the textbook RFC 1071 loop, keeps payload views and builds each aggregate with one ' +
      '`Buffer.concat`, then checksums the aggregate again (bench/naive.ts). The TS twin uses the same ' +
      'algorithm as the WASM core with a u32-word checksum (bindings/twin/checksum.ts).',
  );
  const wl = cmp.map((w) => [w.name, w.frames.length, num(w.bytes / 2 ** 20, 1), w.flows, pct(w.nonCandidates), w.description]);
  md.table(['workload', 'frames per pass', 'MiB', 'flows', 'non-candidates', 'traffic'], wl);
  for (const verify of [true, false]) {
    md.h(3, `Checksum verification ${verify ? 'on' : 'off'}`);
    md.table(
      [
        'workload',
        'WASM Mpps',
        'TS Mpps',
        'naive Mpps',
        'WASM Gbit/s',
        'TS Gbit/s',
        'naive Gbit/s',
        'WASM / TS',
        'WASM / naive',
        ...(verify ? ['WASM % of bound'] : []),
      ],
      rows.map((r) => {
        const f = verify ? r.on : r.off;
        return [
          r.w.name,
          rateCell(f.wasm),
          rateCell(f.ts),
          rateCell(f.naive),
          num(gbps(f.wasm)),
          num(gbps(f.ts)),
          num(gbps(f.naive)),
          ratio(mpps(f.wasm) / mpps(f.ts)),
          ratio(mpps(f.wasm) / mpps(f.naive)),
          ...(verify ? [pct(nsPerFrame(f.bound) / nsPerFrame(f.wasm))] : []),
        ];
      }),
    );
  }
  md.p(
    `Literal "Buffer.concat on every segment" naive variant (re-concatenates the aggregate per join, ` +
      `quadratic copying; not used as the baseline): ${rateCell(extras.naiveQuadratic)} Mpps on bulk, ` +
      `${ratio(mpps(extras.wasm) / mpps(extras.naiveQuadratic))} slower than WASM.`,
  );
  return md;
}
