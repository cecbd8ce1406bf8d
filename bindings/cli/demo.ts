// `lro demo` (what `npm start` runs): the main job on an embedded default sample. Generates a
// seeded capture of bulk TCP traffic in the system's temporary directory, coalesces it and
// prints the summary, and where both files are.

import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsError } from '../capture/errors.js';
import type { EngineOptions } from '../types.js';
import { type FlagSpec } from './args.js';
import { coalesceFile, type CoalesceResult } from './coalesce.js';
import { ENGINE_FLAGS } from './engine-flags.js';
import { writeGenerated, type GenerateResult } from './generate.js';
import { bytes, int } from './summary.js';

export const DEMO_FLAGS: FlagSpec[] = [
  { name: 'packets', type: 'number', arg: 'N', help: 'frames in the sample (default 100000)' },
  { name: 'dir', type: 'string', arg: 'DIR', help: 'where to write the files (default: <tmpdir>/large-receive-demo)' },
  ...ENGINE_FLAGS,
  { name: 'json', type: 'boolean', help: 'print the coalesce summary as one JSON object' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

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
  let t = performance.now();
  const sample = await writeGenerated(input, { ...DEMO_TRAFFIC, packets }, { format: 'pcap', linkType: 1, ns: false, bigEndian: false, snaplen: 262144, packetComments: false });
  const generateMs = performance.now() - t;
  t = performance.now();
  const coalesce = await coalesceFile({ input, output, engine, command: 'demo' });
  const coalesceMs = performance.now() - t;
  return { sample, generateMs, coalesce, coalesceMs };
}

export function demoHeader(d: DemoResult): string {
  return `large-receive demo: ${int(d.sample.packets)} frames of seeded synthetic traffic — ${DEMO_TRAFFIC.flows} bulk TCP flows ` +
    `with the receiver's ACKs and ${DEMO_TRAFFIC.noise * 100}% noise\n` +
    `  sample       ${d.sample.output} (${bytes(d.sample.bytes)}, generated in ${(d.generateMs / 1000).toFixed(2)} s)`;
}

export function demoFooter(d: DemoResult): string {
  return `\nfiles:\n  in   ${d.coalesce.input}\n  out  ${d.coalesce.output}\n` +
    `next: npx lro inspect ${d.coalesce.output}   ·   npx lro coalesce --help   ·   tshark -r ${d.coalesce.output}`;
}
