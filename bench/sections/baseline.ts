// This engine next to an earlier one, timed taking turns in this process: the engine as it was
// before the staging ring (issue 14 asked that bulk single-flow speed not drop below it). The
// earlier commit is extracted from git into a temporary directory with its own bindings, bench
// harness and build/lro.wasm (built there), so each side runs exactly its own code on the same
// workload definitions. Without git or that commit (an installed package, a shallow clone) the
// section says so and measures nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeGroup, type Runner } from '../harness.js';
import { Markdown, nsCell, ratio, verdict } from '../report.js';
import * as ourWorkloads from '../workloads.js';
import type { Size, Workload } from '../workloads.js';
import { ROOT } from '../build.js';
import { engineRunner, figure, type BenchContext, type Section } from './context.js';

/** The last commit before the ring (9830578): its engine kept a 64 KiB buffer per pending aggregate. */
export const BASELINE_COMMIT = '6d5b1e3';

export interface Baseline extends Section {
  /** Bulk: this engine's ns per frame over the baseline's (null: not measured). */
  bulkRatio: number | null;
  /** Whether this engine's bulk median lies at or under the baseline's p75. */
  bulkMet: boolean;
}

type WorkloadOf = (size: Size) => Workload;

/** The workloads compared, picked by name from either commit's bench/workloads.ts. */
const WORKLOADS: { name: string; pick: (m: Record<string, unknown>) => WorkloadOf }[] = [
  { name: 'bulk', pick: (m) => m.bulkWorkload as WorkloadOf },
  { name: 'flows-64', pick: (m) => m.flows64Workload as WorkloadOf },
  { name: 'small', pick: (m) => m.smallWorkload as WorkloadOf },
  { name: 'scale-1', pick: (m) => (size) => (m.scaleWorkload as (flows: number, size: Size) => Workload)(1, size) },
];

/** Run a command; its stderr (or null when it succeeded). */
function run(cmd: string, args: string[], cwd: string): string | null {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error !== undefined) return r.error.message;
  return r.status === 0 ? null : `${cmd} ${args[0]}: ${r.stderr.trim().split('\n').pop()}`;
}

/** Extract the baseline commit into `dir` and build its engine there; null, or why it could not. */
function prepare(dir: string): string | null {
  const tar = join(dir, 'src.tar');
  const failed = run('git', ['archive', '--output', tar, BASELINE_COMMIT], ROOT) ?? run('tar', ['-xf', tar], dir);
  if (failed !== null) return failed;
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return run(process.execPath, ['scripts/build-wasm.mjs'], dir);
}

export async function baselineSection(ctx: BenchContext): Promise<Baseline> {
  const md = new Markdown();
  md.h(2, `Against the engine before the ring (git ${BASELINE_COMMIT})`);
  const dir = mkdtempSync(join(os.tmpdir(), 'lro-baseline-'));
  try {
    ctx.log(`baseline: extracting and building git ${BASELINE_COMMIT}`);
    const why = prepare(dir);
    if (why !== null) {
      md.p(`Not measured: the baseline could not be extracted or built here (${why}); it needs a git clone with that commit.`);
      return { markdown: md, bulkRatio: null, bulkMet: false };
    }
    const theirWorkloads = (await import(pathToFileURL(join(dir, 'bench/workloads.ts')).href)) as Record<string, unknown>;
    const theirHarness = (await import(pathToFileURL(join(dir, 'bench/harness.ts')).href)) as {
      EngineRunner: { create(w: Workload, o: Record<string, unknown>): Promise<Runner & { check(): unknown }> };
    };
    const rows: (string | number)[][] = [];
    let bulkRatio: number | null = null;
    let bulkMet = false;
    for (const { name, pick } of WORKLOADS) {
      ctx.log(`baseline: ${name}`);
      const w = pick(ourWorkloads)(ctx.size);
      const theirs = pick(theirWorkloads)(ctx.size);
      const ours = await engineRunner(w, { kind: 'wasm' });
      const before = await theirHarness.EngineRunner.create(theirs, { kind: 'wasm', verify: true, batch: 256, delivery: 'sink' });
      const t = await timeGroup({ ours: () => ours.run(), before: () => before.run() }, ctx.timing);
      ours.close();
      before.close();
      const now = figure(w, t.ours);
      const then = figure(theirs, t.before);
      const r = t.ours.p50 / w.frames.length / (t.before.p50 / theirs.frames.length);
      if (name === 'bulk') {
        bulkRatio = r;
        bulkMet = t.ours.p50 / w.frames.length <= t.before.p75 / theirs.frames.length;
      }
      rows.push([name, w.frames.length, nsCell(now), nsCell(then), ratio(r)]);
    }
    md.p(
      'The same workloads (WASM engine, checksums verified, pushBatch × 256, a sink), this engine and the one before ' +
        'the staging ring taking turns in one group per workload. The earlier engine copied every pending segment ' +
        'into a 64 KiB buffer per aggregate; this one builds the first 64 pending aggregates in build areas the same way and ' +
        'holds the rest where they were staged.',
    );
    md.table(['workload', 'frames per pass', 'this engine: ns per frame (p25–p75)', 'before the ring', 'this ÷ before'], rows);
    md.table(
      ['target', 'measured', ''],
      [
        [
          'bulk single flow not slower than before the ring (median at or under the earlier p75)',
          bulkRatio === null ? '—' : ratio(bulkRatio),
          verdict(bulkMet),
        ],
      ],
    );
    return { markdown: md, bulkRatio, bulkMet };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
