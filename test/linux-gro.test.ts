// Real Linux GRO as the reference: the same wire capture through our engine must give the same
// byte streams, the same largest aggregate and a comparable number of packets; the `gro` preset
// makes no more data packets than Linux did, `throughput` (once the engines have it) strictly fewer.
// The run (test/linux-gro/run.ts, capture.sh, flows.mjs): several flows at once between two network
// namespaces — three IPv4 bulk transfers, 200-byte writes with pauses, an IPv6 bulk transfer.
// Needs root, iproute2, ethtool and tcpdump (.ci/run installs them); LRO_SKIP_NETNS=1 skips.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowKey, parseFrame } from '../bindings/packet/index.js';
import { coalesceFile } from '../bindings/pipeline/coalesce.js';
import { createEngine, resolveOptions, resegment, type EngineOptions, type Packet } from '../bindings/index.js';
import { expectSameByteLists } from './helpers/bytes.js';
import { byFlow } from './helpers/receivers.js';
import { lro } from './helpers/cli.js';
import { dataByFlow, flowBytes, load, reassemble, runLinuxGro, type LinuxRun } from './linux-gro/run.js';

const skip = process.env.LRO_SKIP_NETNS === '1';

/** The `throughput` preset, checked when the tests run: its assertion runs as soon as the engines take it. */
const hasThroughput = (() => {
  try {
    resolveOptions({ preset: 'throughput' } as unknown as EngineOptions);
    return true;
  } catch {
    return false;
  }
})();

/** Per-direction payload stream (keyed by flow) and the data packets' lengths. */
function streams(frames: Uint8Array[]) {
  const byFlow = new Map<string, Buffer[]>();
  const dataLengths: number[] = [];
  for (const f of frames) {
    const p = parseFrame(f);
    if (!p?.tcp || p.tcp.payload.length === 0) continue;
    const key = flowKey(p);
    if (!byFlow.has(key)) byFlow.set(key, []);
    byFlow.get(key)!.push(Buffer.from(p.tcp.payload));
    dataLengths.push(f.length);
  }
  return { byFlow: new Map([...byFlow].map(([k, v]) => [k, Buffer.concat(v)])), dataLengths };
}

describe.skipIf(skip)('against real Linux GRO (veth, two network namespaces)', () => {
  let dir = '';
  let run: LinuxRun;
  /** Data packets per flow key: on the wire, by Linux, by our presets (filled as the tests run). */
  const counts = new Map<string, Map<string, { packets: number }>>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lro-gro-'));
    // tcpdump may drop packets on a busy machine and Linux's aggregate boundaries depend on NAPI
    // poll timing: runLinuxGro captures again when a capture lacks bytes or Linux aggregated nothing.
    run = runLinuxGro(dir);
    if (run.retries.length) console.log(`Linux GRO capture retried: ${run.retries.join('; ')}`);
    counts.set('wire', dataByFlow(run.wire.map((f) => f.data)));
    counts.set('linux', dataByFlow(run.linux.map((f) => f.data)));
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const engineKind of ['wasm', 'ts'] as const) {
    it(`${engineKind}: same byte streams as Linux, aggregates as large, counts comparable; resegment gives back the wire`, async () => {
      const engine = await createEngine({ engine: engineKind });
      const out: Packet[] = [];
      for (const f of run.wire) {
        engine.push(f.data, f.timeUs);
        out.push(...engine.drain());
      }
      engine.close();
      out.push(...engine.drain());

      const ours = streams(out.map((p) => p.data));
      const theirs = streams(run.linux.map((f) => f.data));
      const sent = streams(run.wire.map((f) => f.data));
      expect([...ours.byFlow.keys()].sort()).toEqual([...theirs.byFlow.keys()].sort());
      expect([...theirs.byFlow.keys()].sort()).toEqual(run.flows.map((f) => f.key).sort());
      // Our payload in output order is the wire's in input order (CONTRACT §6.1), retransmissions included;
      // in sequence order it is each flow's bytes, as Linux delivered them.
      for (const [key, bytes] of sent.byFlow) expect(ours.byFlow.get(key)!.equals(bytes), key).toBe(true);
      const oursInOrder = reassemble(out.map((p) => p.data));
      const linuxInOrder = reassemble(run.linux.map((f) => f.data));
      for (const f of run.flows) {
        const bytes = flowBytes(f.index, f.bytes);
        expect(oursInOrder.get(f.key)!.bytes.equals(bytes), f.name).toBe(true);
        expect(linuxInOrder.get(f.key)!.bytes.equals(bytes), f.name).toBe(true);
      }
      // Linux: 45 × 1448 bytes with timestamps = 65226-byte frames; ours must reach the same size.
      expect(Math.max(...ours.dataLengths)).toBe(Math.max(...theirs.dataLengths));
      // Linux's boundaries depend on NAPI poll timing; ours on the AgTimer. Compare loosely.
      expect(ours.dataLengths.length).toBeLessThanOrEqual(theirs.dataLengths.length * 3);
      const mine = dataByFlow(out.map((p) => p.data));
      const bulk = run.flows.filter((f) => !f.write);
      const sum = (m: Map<string, { packets: number }>) => bulk.reduce((n, f) => n + (m.get(f.key)?.packets ?? 0), 0);
      expect(sum(counts.get('wire')!) / sum(mine)).toBeGreaterThan(10);
      for (const p of out) {
        if (p.segments < 2) continue;
        const parsed = parseFrame(p.data)!;
        expect(parsed.ipChecksumOk && parsed.tcpChecksumOk).toBe(true);
      }
      // The inverse (CONTRACT §9): resegmenting every packet gives back each connection's wire frames, byte for byte.
      const wireByFlow = byFlow(run.wire.map((f) => f.data));
      const backByFlow = byFlow(out.flatMap((p) => resegment(p)));
      expect([...backByFlow.keys()].sort()).toEqual([...wireByFlow.keys()].sort());
      for (const [key, frames] of wireByFlow) expectSameByteLists(backByFlow.get(key)!, frames, `${key} frame`);
    });
  }

  /** `lro coalesce` of the wire capture with a preset; its data packets per flow. */
  async function coalesceWith(preset: string): Promise<string> {
    const output = join(dir, `${preset}.pcap`);
    await coalesceFile({ input: run.wirePath, output, engine: { preset } as unknown as EngineOptions });
    counts.set(preset, dataByFlow(load(output).map((f) => f.data)));
    return output;
  }

  function total(name: string): number {
    let n = 0;
    for (const f of run.flows) n += counts.get(name)!.get(f.key)?.packets ?? 0;
    return n;
  }

  function table(names: string[]): string {
    const head = ['flow', ...names];
    const rows = run.flows.map((f) => [f.name, ...names.map((n) => String(counts.get(n)!.get(f.key)?.packets ?? 0))]);
    rows.push(['all', ...names.map((n) => String(total(n)))]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    return [head, ...rows].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
  }

  it('gro makes no more data packets than Linux did (data packet = TCP with payload); the lro compare report', async () => {
    const gro = await coalesceWith('gro');
    console.log(
      `data packets (wire ${total('wire')}): gro ${total('gro')}, Linux GRO ${total('linux')}\n${table(['wire', 'gro', 'linux'])}`,
    );
    const report = await lro('compare', run.wirePath, gro, run.linuxPath, '--rerun');
    expect(report.code).toBe(0);
    console.log(report.out);
    expect(report.out).toMatch(/same streams as WIRE\s+5 of 5\s+5 of 5/);
    expect(total('gro')).toBeLessThanOrEqual(total('linux'));
    expect(total('gro')).toBeLessThan(total('wire'));
  });

  it.skipIf(!hasThroughput)('throughput makes strictly fewer data packets than Linux did', async () => {
    const throughput = await coalesceWith('throughput');
    if (!counts.has('gro')) await coalesceWith('gro');
    console.log(
      `data packets (wire ${total('wire')}): gro ${total('gro')}, throughput ${total('throughput')}, Linux GRO ${total('linux')}\n` +
        table(['wire', 'gro', 'throughput', 'linux']),
    );
    const report = await lro('compare', run.wirePath, throughput, run.linuxPath);
    expect(report.code).toBe(0);
    console.log(report.out);
    expect(report.out).toMatch(/same streams as WIRE\s+5 of 5\s+5 of 5/);
    expect(total('throughput')).toBeLessThan(total('linux'));
  });
});
