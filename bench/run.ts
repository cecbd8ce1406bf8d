// The benchmark: `npm run bench [-- --quick] [--out FILE] [--no-profile]`.
// Everything in bench/RESULTS.md comes from one run of this script: figures compared with each
// other are timed in the same group, taking turns (harness.ts timeGroup). Each part of RESULTS.md
// is a section (bench/sections/): it measures, then returns its markdown and the figures that the
// headline and the closing notes quote.
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syncReadme } from './readme.js';
import { KERNELS_WASM, ROOT, buildWasm } from './build.js';
import { loadKernels, type TimingConfig } from './harness.js';
import { Markdown } from './report.js';
import type { Size } from './workloads.js';
import type { BenchContext } from './sections/context.js';
import { adversarialSection } from './sections/adversarial.js';
import { baselineSection } from './sections/baseline.js';
import { batchSection } from './sections/batch.js';
import { boundSection } from './sections/bound.js';
import { comparisonSection } from './sections/comparison.js';
import { endToEndSection } from './sections/end-to-end.js';
import { mainJobSection } from './sections/main-job.js';
import { memorySection } from './sections/memory.js';
import { presetsSection } from './sections/presets.js';
import { PROFILE_SECONDS, profileSection } from './sections/profile.js';
import { scaleSection } from './sections/scale.js';
import { streamSection } from './sections/stream.js';
import { headerSection, headlineSection, readingSection } from './sections/summary.js';

export interface BenchOptions {
  size: Size;
  /** Where RESULTS.md goes (null: only returned). */
  out: string | null;
  profile: boolean;
  log: (line: string) => void;
}

const TIMING: Record<Size, TimingConfig> = {
  full: { minMs: 1000, minSamples: 20, warmup: 3, rounds: 10 },
  quick: { minMs: 80, minSamples: 4, warmup: 2, rounds: 2 },
  tiny: { minMs: 4, minSamples: 2, warmup: 1, rounds: 1 },
};

/** Runs every section, writes RESULTS.md (and, for bench/RESULTS.md, the README headline); returns the text. */
export async function runBench(o: BenchOptions): Promise<string> {
  const started = new Date();
  const loadAtStart = os.loadavg()[0];
  const { log } = o;

  log('building wasm (bench kernels, profiling build)');
  await buildWasm(o.profile && PROFILE_SECONDS[o.size] > 0, log);
  const timing = TIMING[o.size];
  const ctx: BenchContext = {
    size: o.size,
    timing,
    manyFlowsTiming: { ...timing, warmup: Math.max(timing.warmup, 12) },
    log,
    kernels: await loadKernels(new URL(`file://${KERNELS_WASM}`)),
    randomSeed: randomInt(1, 2 ** 32 - 1),
    notes: [],
  };

  // Measured in this order (each section's runners are timed together) …
  const comparison = await comparisonSection(ctx);
  const batch = await batchSection(ctx, comparison.bulk.w);
  const bound = await boundSection(ctx, comparison.bulk.w, comparison.extras);
  const baseline = await baselineSection(ctx);
  const scale = await scaleSection(ctx);
  const memory = await memorySection(ctx);
  const adversarial = await adversarialSection(ctx);
  const endToEnd = await endToEndSection(ctx, comparison.rows, scale.sweep);
  const mainJob = await mainJobSection(ctx);
  const presets = await presetsSection(ctx);
  const stream = await streamSection(ctx);
  const profile = await profileSection(ctx, o.profile);
  const clock = { started, finished: new Date(), loadAtStart, loadAtEnd: os.loadavg()[0] };

  // … and written in this one.
  const md = new Markdown();
  md.append(headerSection(ctx, clock));
  md.append(headlineSection(comparison, scale, adversarial, endToEnd, mainJob, baseline));
  md.append(comparison.markdown);
  md.append(bound.markdown);
  md.append(baseline.markdown);
  md.append(batch.markdown);
  md.append(scale.markdown);
  md.append(memory.markdown);
  md.append(adversarial.markdown);
  md.append(endToEnd.markdown);
  md.append(mainJob.markdown);
  md.append(presets.markdown);
  md.append(stream.markdown);
  md.append(profile.markdown);
  md.append(readingSection(ctx, comparison, bound, scale, endToEnd));

  const text = md.toString();
  if (o.out !== null) {
    writeFileSync(o.out, text);
    if (o.out === join(ROOT, 'bench/RESULTS.md')) syncReadme(ROOT);
  }
  return text;
}

const USAGE =
  'usage: npm run bench -- [--quick] [--out FILE] [--no-profile]   (or: lro bench --suite [--quick] …)\n' +
  '  (full run ~3 min, --quick ~30 s; writes bench/RESULTS.md unless --out says otherwise)';

/** `lro bench --suite` and `npm run bench` both end here. Returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let size: Size = 'full';
  let out: string | null = join(ROOT, 'bench/RESULTS.md');
  let profile = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') size = 'quick';
    else if (a === '--tiny') size = 'tiny';
    else if (a === '--no-profile') profile = false;
    else if (a === '--out' && i + 1 < argv.length) out = argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else {
      process.stderr.write(`bench: unknown argument ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  const t0 = Date.now();
  await runBench({ size, out, profile, log: (line) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${line}\n`) });
  process.stderr.write(`bench: wrote ${out} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
