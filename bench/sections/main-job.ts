// The main job, as users run it: `lro coalesce` on a capture of 64 interleaved bulk flows (pcap,
// pcapng, pcapng with two interfaces), by its own clock and as a whole process next to `cp` of
// the same file; and what it buys a consumer: tshark following a TCP stream on our output (plus
// our coalescing time) against tshark on the raw capture.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { coalesceFile } from '../../bindings/pipeline/coalesce.js';
import { writeGenerated } from '../../bindings/traffic/write.js';
import { ROOT } from '../build.js';
import { Markdown, num, ratio, verdict } from '../report.js';
import type { BenchContext, Section } from './context.js';

export interface MainJob extends Section {
  /** Mpps of `lro coalesce` by its own clock (pcap), the whole process over `cp`, tshark's gain. */
  mpps: number;
  processOverCp: number;
  tsharkGain: number | null;
}

const FRAMES = { full: 200_000, quick: 50_000, tiny: 4_000 } as const;
const ROUNDS = { full: 7, quick: 3, tiny: 1 } as const;

/** Median of the values. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Wall milliseconds of a child process (exit status checked). */
function wallMs(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

function hasTshark(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function mainJobSection(ctx: BenchContext): Promise<MainJob> {
  const frames = FRAMES[ctx.size];
  const rounds = ROUNDS[ctx.size];
  const dir = mkdtempSync(join(os.tmpdir(), 'lro-bench-job-'));
  try {
    ctx.log(`main job: ${frames} frames, 64 flows`);
    const traffic = { packets: frames, flows: 64, ackEvery: 0, handshake: false, seed: 7 };
    const file = { linkType: 1, ns: false, bigEndian: false, snaplen: 262144, packetComments: false };
    const pcap = join(dir, 'bulk64.pcap');
    const pcapng = join(dir, 'bulk64.pcapng');
    await writeGenerated(pcap, traffic, { ...file, format: 'pcap' });
    await writeGenerated(pcapng, traffic, { ...file, format: 'pcapng' });
    const out = join(dir, 'out');

    // By its own clock (in this process, warm): the median of several runs per format.
    const own: Record<string, number[]> = { pcap: [], pcapng: [] };
    for (let r = 0; r < rounds + 1; r++) {
      for (const [name, input] of [
        ['pcap', pcap],
        ['pcapng', pcapng],
      ] as const) {
        const t0 = performance.now();
        await coalesceFile({ input, output: `${out}.${name}` });
        if (r > 0) own[name].push(performance.now() - t0); // the first round warms up
      }
    }
    const ownMs = { pcap: median(own.pcap), pcapng: median(own.pcapng) };

    // Whole processes, taking turns: node start to exit against cp of the same file.
    const bin = join(ROOT, 'bin/lro.js');
    const proc: number[] = [];
    const cp: number[] = [];
    for (let r = 0; r < rounds; r++) {
      proc.push(wallMs(process.execPath, [bin, 'coalesce', pcap, '-o', `${out}.proc.pcap`, '-q']));
      cp.push(wallMs('cp', [pcap, `${out}.cp.pcap`]));
    }
    const procMs = median(proc);
    const cpMs = median(cp);

    // tshark following one TCP stream: raw capture vs our output (plus our own time).
    let tshark: { raw: number; ours: number } | null = null;
    if (hasTshark()) {
      const follow = (f: string) => wallMs('tshark', ['-r', f, '-q', '-z', 'follow,tcp,raw,0']);
      const raw: number[] = [];
      const ours: number[] = [];
      for (let r = 0; r < Math.max(1, rounds >> 1); r++) {
        raw.push(follow(pcap));
        ours.push(follow(`${out}.pcap`));
      }
      tshark = { raw: median(raw), ours: median(ours) };
    }

    const mpps = frames / ownMs.pcap / 1e3;
    const md = new Markdown();
    md.h(2, 'The main job: `lro coalesce`');
    md.p(
      `${frames.toLocaleString('en-US')} frames of 64 interleaved bulk flows (1448-byte segments, no ACKs), ` +
        `${(statSync(pcap).size / 2 ** 20).toFixed(0)} MiB. "Own clock": \`coalesceFile\` in this process, warm, the median ` +
        `of ${rounds} runs. "Whole process": \`node bin/lro.js coalesce … -q\`, start to exit, taking turns with \`cp\` of the same file.`,
    );
    md.table(
      ['', 'ms', 'Mpps'],
      [
        ['own clock, pcap', num(ownMs.pcap, 1), num(mpps)],
        ['own clock, pcapng', num(ownMs.pcapng, 1), num(frames / ownMs.pcapng / 1e3)],
        ['whole process, pcap', num(procMs, 1), num(frames / procMs / 1e3)],
        ['`cp` of the same file', num(cpMs, 1), '—'],
        ...(tshark
          ? [
              ['tshark follow,tcp on the raw capture', num(tshark.raw, 0), '—'],
              ['tshark follow,tcp on our output, plus our own time', num(tshark.ours + ownMs.pcap, 0), '—'],
            ]
          : []),
      ],
    );
    const overCp = procMs / cpMs;
    const gain = tshark ? tshark.raw / (tshark.ours + ownMs.pcap) : null;
    md.table(
      ['target', 'measured', ''],
      [
        ['`lro coalesce` ≥ 1.2 Mpps by its own clock (pcap)', `${num(mpps)} Mpps`, verdict(mpps >= 1.2)],
        ['whole process within 2× the wall time of `cp`', ratio(overCp), verdict(overCp <= 2)],
        [
          'tshark follow-stream on our output + our time ≥ 5× faster than on the raw capture',
          gain === null ? 'tshark not installed' : ratio(gain),
          gain === null ? '—' : verdict(gain >= 5),
        ],
      ],
    );
    return { markdown: md, mpps, processOverCp: overCp, tsharkGain: gain };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
