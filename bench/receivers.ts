// What each receiver gains (README "Receivers"): data frames handed over per MiB of TCP payload,
// on the wire and after the engine set up as that receiver needs, on seeded traffic (counts, not
// timings: the same on every machine and both engines). `npx tsx bench/receivers.ts` prints the
// table; `--write` puts it into README.md between the receivers markers (test/examples.test.ts
// checks that the README holds exactly what this measures, so no number there is typed by hand).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../bindings/index.js';
import type { EngineKind, EngineOptions } from '../bindings/engine/types.js';
import { parseFrame } from '../bindings/packet/index.js';
import { type GenerateOptions, generateTraffic } from '../bindings/traffic/generate.js';

export const START = '<!-- receivers:measured (written by bench/receivers.ts) -->';
export const END = '<!-- /receivers:measured -->';

interface Receiver {
  name: string;
  /** How the engine is set up for it (shown in the table). */
  setup: string;
  options: EngineOptions | null;
}

export const RECEIVERS: Receiver[] = [
  { name: 'the wire (no engine)', setup: '—', options: null },
  {
    name: 'Linux tap / KVM virtio-net (GSO header); a container2wasm / gvisor-tap-vsock ring; a GSO router (`resegment()`)',
    setup: 'defaults',
    options: {},
  },
  { name: 'tcpip.js (16-bit frame length)', setup: '`maxFrame: 65535`', options: { maxFrame: 65535 } },
  { name: 'v86 virtio-net at `mtu: 9000`', setup: '`maxFrame: 9014`', options: { maxFrame: 9014 } },
  { name: 'v86 ne2k, any NIC without GSO at MTU 1500', setup: '`maxFrame: 1514`', options: { maxFrame: 1514 } },
];

export const TRAFFIC: [string, GenerateOptions][] = [
  ['bulk, 1448-byte segments', {}],
  ['300-byte writes', { smallSegments: [300, 300] }],
];

/** 8 flows, half IPv6, an ACK back every 2 segments, seeded. */
function frames(o: GenerateOptions) {
  return [...generateTraffic({ seed: 12, packets: 20_000, flows: 8, ipv6: 0.5, ...o })];
}

/** Data frames (TCP with payload) and their payload bytes. */
function count(list: Iterable<Uint8Array>): { frames: number; payload: number } {
  let n = 0;
  let payload = 0;
  for (const f of list) {
    const len = parseFrame(f)?.tcp?.payload.length ?? 0;
    if (len > 0) {
      n++;
      payload += len;
    }
  }
  return { frames: n, payload };
}

/** Data frames per MiB of payload, per receiver and traffic. */
export async function measureReceivers(kind: EngineKind = 'wasm'): Promise<number[][]> {
  const rows: number[][] = RECEIVERS.map(() => []);
  for (const [, traffic] of TRAFFIC) {
    const input = frames(traffic);
    for (const [i, r] of RECEIVERS.entries()) {
      let out: Uint8Array[] = input.map((f) => f.data);
      if (r.options !== null) {
        const engine = await createEngine({ ...r.options, engine: kind });
        out = [];
        engine.setSink((data) => out.push(data.slice()));
        engine.pushBatch(
          input.map((f) => f.data),
          input.map((f) => f.timeUs),
        );
        engine.close();
      }
      const c = count(out);
      rows[i].push(c.frames / (c.payload / 2 ** 20));
    }
  }
  return rows;
}

export function receiversTable(rows: number[][]): string {
  const head = ['receiver', 'engine set-up', ...TRAFFIC.map(([name]) => `${name}: data frames per MiB`)];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const wire = rows[0];
  const body = RECEIVERS.map((r, i) =>
    line([r.name, r.setup, ...rows[i].map((x, k) => (i === 0 ? x.toFixed(0) : `${x.toFixed(1)} (${(wire[k] / x).toFixed(1)}× fewer)`))]),
  );
  return [line(head), line(head.map(() => '---')), ...body].join('\n');
}

export function readmeBlock(table: string): string {
  return `${START}\n${table}\n${END}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const table = receiversTable(await measureReceivers());
  console.log(table);
  if (process.argv.includes('--write')) {
    const path = join(import.meta.dirname, '..', 'README.md');
    const readme = readFileSync(path, 'utf8');
    const a = readme.indexOf(START);
    const b = readme.indexOf(END);
    if (a < 0 || b < a) throw new Error(`README.md lacks the markers ${START} … ${END}`);
    writeFileSync(path, readme.slice(0, a) + readmeBlock(table) + readme.slice(b + END.length));
    console.error('README.md: receivers table written');
  }
}
