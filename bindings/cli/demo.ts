// `lro demo` (what `npm start` runs): the main job on an embedded default sample. Generates a
// seeded capture of bulk TCP traffic in the system's temporary directory, coalesces it and
// prints the summary, and where both files are.

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsError } from '../capture/errors.js';
import type { EngineOptions } from '../engine/types.js';
import { coalesceFile, type CoalesceResult } from '../pipeline/coalesce.js';
import { writeGenerated, type GenerateResult } from '../traffic/write.js';
import { UsageError, type Parsed } from './args.js';
import { engineFactory, engineOptionsFromFlags } from './engine-flags.js';
import type { CliIo } from './io.js';
import { bytes, int, summaryJson, summaryText } from './summary.js';
import { nowMs } from './clock.js';

/** The embedded sample: 8 bulk flows with the receiver's ACKs and a little noise. */
export const DEMO_TRAFFIC = { seed: 1, flows: 8, ackEvery: 2, noise: 0.001, pshEvery: 0 } as const;

export interface DemoResult {
  sample: GenerateResult;
  generateMs: number;
  coalesce: CoalesceResult;
  coalesceMs: number;
}

export async function runDemo(packets: number, dir: string | undefined, engine: EngineOptions): Promise<DemoResult> {
  const where = dir ?? join(tmpdir(), 'large-receive-demo');
  try {
    mkdirSync(where, { recursive: true });
  } catch (err) {
    throw fsError(where, 'unwritable', 'create the directory', err);
  }
  const input = join(where, 'sample.pcap');
  const output = join(where, 'sample.coalesced.pcap');
  let t = nowMs();
  const sample = await writeGenerated(
    input,
    { ...DEMO_TRAFFIC, packets },
    { format: 'pcap', linkType: 1, ns: false, bigEndian: false, snaplen: 262144, packetComments: false },
  );
  const generateMs = nowMs() - t;
  t = nowMs();
  const coalesce = await coalesceFile({ input, output, engine, createEngine: engineFactory('demo') });
  const coalesceMs = nowMs() - t;
  return { sample, generateMs, coalesce, coalesceMs };
}

export function demoHeader(d: DemoResult): string {
  return (
    `large-receive demo: ${int(d.sample.packets)} frames of seeded synthetic traffic — ${DEMO_TRAFFIC.flows} bulk TCP flows ` +
    `with the receiver's ACKs and ${DEMO_TRAFFIC.noise * 100}% noise\n` +
    `  sample       ${d.sample.output} (${bytes(d.sample.bytes)}, generated in ${(d.generateMs / 1000).toFixed(2)} s)`
  );
}

export function demoFooter(d: DemoResult): string {
  return (
    `\nfiles:\n  in   ${d.coalesce.input}\n  out  ${d.coalesce.output}\n` +
    `next: npx lro inspect ${d.coalesce.output}   ·   npx lro coalesce --help   ·   tshark -r ${d.coalesce.output}`
  );
}

export async function run(parsed: Parsed, io: CliIo): Promise<number> {
  if (parsed.positionals.length) throw new UsageError(`lro demo: unexpected argument '${parsed.positionals[0]}'`);
  const engine = engineOptionsFromFlags('demo', parsed);
  const packets = (parsed.flags.get('packets') as number | undefined) ?? 100_000;
  if (!Number.isInteger(packets) || packets < 1) throw new UsageError(`lro demo: --packets must be an integer ≥ 1, got ${packets}`);
  const d = await runDemo(packets, parsed.flags.get('dir') as string | undefined, engine);
  if (parsed.flags.get('json')) {
    io.out(JSON.stringify(summaryJson(d.coalesce, d.coalesceMs)));
  } else {
    io.out(demoHeader(d));
    io.out(summaryText(d.coalesce, d.coalesceMs));
    io.out(demoFooter(d));
  }
  return 0;
}
