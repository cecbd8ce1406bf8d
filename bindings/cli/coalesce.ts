// `lro coalesce IN -o OUT`: flags → the main job (pipeline/coalesce.ts), then its summary.
import { statSync, realpathSync } from 'node:fs';
import type { CaptureFormat } from '../capture/types.js';
import { coalesceFile, type CoalesceResult } from '../pipeline/coalesce.js';
import { nearest, UsageError, type Parsed } from './args.js';
import { engineFactory, engineOptionsFromFlags } from './engine-flags.js';
import type { CliIo } from './io.js';
import { Progress } from './progress.js';
import { summaryJson, summaryText } from './summary.js';
import { nowMs } from './clock.js';

/** IN and OUT name one file (OUT may not exist yet). */
function sameFile(input: string, output: string): boolean {
  try {
    return realpathSync(input) === realpathSync(output);
  } catch {
    return false;
  }
}

/** `-F` values: editcap's names for the two formats, and libpcap (tshark's older name for pcap). */
const FORMATS: ReadonlyMap<string, CaptureFormat> = new Map([
  ['pcap', 'pcap'],
  ['libpcap', 'pcap'],
  ['pcapng', 'pcapng'],
]);

/** The output format `-F` asks for (undefined: the input's). */
function outputFormat(value: string | number | boolean | undefined): CaptureFormat | undefined {
  if (value === undefined) return undefined;
  const given = String(value);
  const name = given.toLowerCase();
  const format = FORMATS.get(name);
  if (format) return format;
  if (name === 'nsecpcap') {
    throw new UsageError("lro coalesce: -F nsecpcap is not offered: -F pcap writes ns timestamps whenever the input's are finer than µs");
  }
  const near = nearest(name, [...FORMATS.keys()]);
  throw new UsageError(
    `lro coalesce: unknown output format '${given}' for -F (${near ? `did you mean ${near}? ` : ''}choose pcap or pcapng)`,
  );
}

export async function run(parsed: Parsed, io: CliIo): Promise<number> {
  const f = parsed.flags;
  const inputs = [...parsed.positionals, ...(f.has('read') ? [f.get('read') as string] : [])];
  if (inputs.length === 0) throw new UsageError('lro coalesce: missing input file (usage: lro coalesce IN -o OUT)');
  if (inputs.length > 1) throw new UsageError(`lro coalesce: one input file, got ${inputs.length} (usage: lro coalesce IN -o OUT)`);
  if (f.has('output') && f.has('write')) throw new UsageError('lro coalesce: -o and -w both name the output: give one');
  const output = (f.get('output') ?? f.get('write')) as string | undefined;
  if (!output) throw new UsageError('lro coalesce: -o OUT is required (usage: lro coalesce IN -o OUT)');
  const input = inputs[0];
  if (input !== '-' && output !== '-' && sameFile(input, output))
    throw new UsageError(`lro coalesce: the output would replace the input ${input}: name another file`);
  const format = outputFormat(f.get('format'));
  const engine = engineOptionsFromFlags('coalesce', parsed);
  const json = f.get('json') === true;
  const quiet = f.get('quiet') === true;
  // With the capture on standard output, the summary goes to standard error.
  const say = output === '-' ? io.err : io.out;
  let size = 0;
  try {
    if (input !== '-') size = statSync(input).size;
  } catch {
    // openCapture reports it.
  }
  const progress = new Progress(f.get('no-progress') || quiet ? null : (io.progress ?? null), size, 'coalesce');
  let skipped = 0;
  const t0 = nowMs();
  let result: CoalesceResult;
  try {
    result = await coalesceFile({
      input,
      output,
      format,
      engine,
      createEngine: engineFactory('coalesce'),
      skipBad: f.get('skip-bad') === true,
      onSkip: (err) => {
        skipped++;
        if (skipped <= 20) io.err(`lro coalesce: skipped corrupt record: ${err.message}`);
        else if (skipped === 21) io.err('lro coalesce: more corrupt records skipped (the summary counts them)');
      },
      onProgress: progress.enabled ? (offset, packets) => progress.update(offset, packets) : undefined,
    });
  } finally {
    progress.done();
  }
  const elapsed = nowMs() - t0;
  if (json) say(JSON.stringify(summaryJson(result, elapsed)));
  else if (!quiet) say(summaryText(result, elapsed));
  return 0;
}
