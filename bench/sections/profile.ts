// Where the time goes: `node --cpu-prof` on bench/profile.ts (a child process per scenario), the
// WASM core built with names kept; self time of the hot loop's samples.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PROFILE_WASM, ROOT } from '../build.js';
import { Markdown, num, pct } from '../report.js';
import type { Size } from '../workloads.js';
import type { BenchContext, Section } from './context.js';

/** Seconds of profiling per scenario (none in the tiny smoke test). */
export const PROFILE_SECONDS: Record<Size, number> = { full: 4, quick: 1, tiny: 0 };

interface ProfileResult {
  kind: string;
  workload: string;
  nsPerFrame: number;
  top: { name: string; where: string; share: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export async function profileSection(ctx: BenchContext, profile: boolean): Promise<Section> {
  // 8. Profile -----------------------------------------------------------------------------------
  const profiles: ProfileResult[] = [];
  if (profile && PROFILE_SECONDS[ctx.size] > 0) {
    for (const [kind, name] of [
      ['wasm', 'bulk'],
      ['ts', 'bulk'],
      ['wasm', 'scale-10k'],
    ] as const) {
      ctx.log(`profile: ${kind} ${name}`);
      profiles.push(profileScenario(kind, name, PROFILE_SECONDS[ctx.size]));
    }
  }
  return { markdown: render(profiles) };
}

function render(profiles: ProfileResult[]): Markdown {
  const md = new Markdown();
  md.h(2, 'Where the time goes (CPU profile)');
  if (profiles.length === 0) {
    md.p('Not profiled in this run (`--no-profile` or tiny size).');
  } else {
    md.p(
      '`node --cpu-prof` on bench/profile.ts, the WASM core built with names kept (build/lro.profile.wasm: ' +
        'release optimisation + `--debug`; small functions are inlined into their callers as in the release build). ' +
        'Self time of the hot loop\'s samples; "ns per frame" splits the run\'s measured time by those shares.',
    );
    for (const p of profiles) {
      md.h(3, `${p.kind === 'wasm' ? 'WASM engine' : 'TS twin'}, ${p.workload}: ${num(p.nsPerFrame, 1)} ns per frame`);
      md.table(
        ['function', 'where', 'self', 'ns per frame'],
        p.top.map((t) => [`\`${t.name}\``, t.where, pct(t.share), num(t.share * p.nsPerFrame, 1)]),
      );
    }
  }
  return md;
}

function profileScenario(kind: string, workload: string, seconds: number): ProfileResult {
  const dir = mkdtempSync(join(os.tmpdir(), 'lro-prof-'));
  try {
    const child = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        '--cpu-prof-dir',
        dir,
        '--cpu-prof-interval',
        '200',
        '--import',
        'tsx',
        join(ROOT, 'bench/profile.ts'),
        kind,
        workload,
        String(seconds),
        PROFILE_WASM,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (child.status !== 0) throw new Error(`profile ${kind} ${workload} failed: ${child.stderr}`);
    const { frames, ns } = JSON.parse(child.stdout.trim().split('\n').pop()!) as { frames: number; ns: number };
    // tsx's loader thread writes a profile too: take the one with the hot loop in it.
    const prof = readdirSync(dir)
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile)
      .find((p) => p.nodes.some((n) => n.callFrame.functionName === 'hotLoop'));
    if (prof === undefined) throw new Error(`profile ${kind} ${workload}: no samples in hotLoop`);
    return { kind, workload, nsPerFrame: ns / frames, top: hotLoopSelfTime(prof) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Self time per function over the samples under `hotLoop`, top 12. */
function hotLoopSelfTime(prof: CpuProfile): { name: string; where: string; share: number }[] {
  const parent = new Map<number, number>();
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const underHot = new Map<number, boolean>();
  const isUnderHot = (id: number): boolean => {
    const known = underHot.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id)!;
    const p = parent.get(id);
    const v = n.callFrame.functionName === 'hotLoop' || (p !== undefined && isUnderHot(p));
    underHot.set(id, v);
    return v;
  };
  const self = new Map<string, number>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    if (!isUnderHot(id)) return;
    const f = byId.get(id)!.callFrame;
    const where = f.url.startsWith('wasm://') ? 'wasm' : (f.url.split('/').pop() ?? '');
    const key = `${f.functionName || '(anonymous)'}\u0000${where}`;
    const dt = prof.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([k, v]) => {
      const [name, where] = k.split('\u0000');
      return { name, where, share: total > 0 ? v / total : 0 };
    });
}
