// `npm run compare:linux`: the live comparison README.md quotes ("Compared with Linux, live"), so
// nobody types its numbers by hand. The capture run of test/linux-gro.test.ts (test/linux-gro/run.ts:
// five flows at once between two network namespaces, the wire captured before and Linux GRO's
// packets after), the wire capture coalesced by `lro coalesce`'s job with the gro preset (and
// throughput, once the engines take it), then `lro compare`'s judge over WIRE, ours and Linux's:
// data packets and WIRE segments per aggregate, per flow. Writes the table into README.md between
// the compare:linux markers. Needs root, iproute2, ethtool and tcpdump.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOptions } from '../bindings/engine/options.js';
import type { EngineOptions } from '../bindings/engine/types.js';
import { coalesceFile } from '../bindings/pipeline/coalesce.js';
import { compareCaptures } from '../bindings/pipeline/compare.js';
import { runLinuxGro } from '../test/linux-gro/run.js';
import { table } from './report.js';

const START = '<!-- compare:linux (written by bench/compare-linux.ts: npm run compare:linux) -->';
const END = '<!-- /compare:linux -->';

function takes(preset: string): boolean {
  try {
    resolveOptions({ preset } as unknown as EngineOptions);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const root = join(import.meta.dirname, '..');
  const dir = mkdtempSync(join(tmpdir(), 'lro-compare-linux-'));
  try {
    const run = runLinuxGro(dir);
    const presets = ['gro', ...(takes('throughput') ? ['throughput'] : [])];
    for (const preset of presets)
      await coalesceFile({ input: run.wirePath, output: join(dir, `${preset}.pcap`), engine: { preset } as unknown as EngineOptions });
    const names = [...presets.map((p) => `ours ${p}`), 'Linux GRO'];
    const r = await compareCaptures({
      wire: { label: 'WIRE', path: run.wirePath },
      others: [...presets.map((p) => ({ label: `ours ${p}`, path: join(dir, `${p}.pcap`) })), { label: 'Linux GRO', path: run.linuxPath }],
      rerun: { preset: 'gro' },
    });
    if (!r.rerun?.matchesFirst) throw new Error('compare:linux: the in-memory re-run does not give the gro file');
    // Why ours gro sent its data packets (the re-run's reasons, over the five flows' data directions).
    const why = new Map<string, number>();
    let bare = 0;
    for (const c of r.connections) {
      if (!run.flows.some((f) => f.key === c.key) || !c.rerun) continue;
      bare += c.rerun.packets - c.rerun.dataPackets;
      for (const [reason, n] of Object.entries(c.rerun.reasons)) why.set(reason, (why.get(reason) ?? 0) + (n ?? 0));
    }
    const mean = (x: number) => x.toFixed(2);
    const int = (n: number) => n.toLocaleString('en-US');
    const rows: (string | number)[][] = [];
    const sums = names.map(() => ({ packets: 0, segments: 0 }));
    let wireTotal = 0;
    for (const f of run.flows) {
      const c = r.connections.find((x) => x.key === f.key);
      if (!c) throw new Error(`compare:linux: flow ${f.name} is not in the report`);
      const sides = c.sides.slice(1);
      sides.forEach((s, k) => {
        if (!s?.identical) throw new Error(`compare:linux: ${names[k]}'s stream of ${f.name} is not the wire's`);
        sums[k].packets += s.dataPackets;
        sums[k].segments += s.segments;
      });
      wireTotal += c.sides[0]!.dataPackets;
      rows.push([f.name, int(c.sides[0]!.dataPackets), ...sides.flatMap((s) => [int(s!.dataPackets), mean(s!.meanSegments)])]);
    }
    rows.push(['**all five**', int(wireTotal), ...sums.flatMap((s) => [int(s.packets), mean(s.segments / s.packets)])]);
    const head = ['flow', 'wire segments', ...names.flatMap((n) => [`${n}: data packets`, 'segments / aggregate'])];
    const date = new Date().toISOString().slice(0, 10);
    const machine = `${cpus().length} logical CPUs, Linux ${release()}`;
    const body =
      `${START}\nOne capture run (${machine}, ${date}${run.attempts > 1 ? `, capture attempt ${run.attempts}` : ''}): ` +
      `the five flows at once; data packets = TCP packets with payload; segments per aggregate = the wire segments a data ` +
      `packet holds, from sequence numbers (\`lro compare\`). Every stream is the wire's byte for byte.\n\n` +
      `${table(head, rows)}\n\n` +
      `Why ours gro sent them (\`lro compare --rerun\`, the five flows' packets): ${[...why]
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `${reason} ${n.toLocaleString('en-US')}`)
        .join(
          ' · ',
        )}; ${bare.toLocaleString('en-US')} of these packets carry no payload (SYN, ACKs, FIN), and such a segment always passes through.\n`;
    const readmePath = join(root, 'README.md');
    const readme = readFileSync(readmePath, 'utf8');
    const a = readme.indexOf(START);
    const b = readme.indexOf(END);
    if (a < 0 || b < a) throw new Error('compare:linux: README.md lacks the compare:linux markers');
    writeFileSync(readmePath, readme.slice(0, a) + body + readme.slice(b));
    console.log(`${table(head, rows)}\n\nwritten to README.md`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
