// `lro`: the command-line entry. `main(argv, io)` runs one command and resolves to its exit
// status (0 done, 1 bad input or output file, 2 bad usage); it never calls process.exit, so
// tests run it in-process. Run directly (npm start: `tsx bindings/cli/main.ts demo`) or
// through bin/lro.js.

import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CaptureError } from '../capture/index.js';
import { FileError, UsageError, formatFlags, parseArgs, type FlagSpec, type Parsed } from './args.js';
import { runBench } from './bench.js';
import { SUPPORTED_LINK_TYPES, coalesceFile } from './coalesce.js';
import { DEMO_FLAGS, demoFooter, demoHeader, runDemo } from './demo.js';
import { ENGINE_FLAGS, engineOptionsFromFlags } from './engine-flags.js';
import { GENERATE_FLAGS, generateOptionsFromFlags, writeGenerated } from './generate.js';
import { INSPECT_FLAGS, inspectFile, inspectText } from './inspect.js';
import { Progress, type ProgressTarget } from './progress.js';
import { bytes, int, summaryJson, summaryText } from './summary.js';
import { statSync } from 'node:fs';

export interface CliIo {
  /** Standard output (JSON, summaries, tables). */
  out(text: string): void;
  /** Standard error (errors, warnings). */
  err(text: string): void;
  /** Where a progress bar may be drawn (drawn only if it is a TTY). */
  progress?: ProgressTarget | null;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  progress: process.stderr,
};

const COALESCE_FLAGS: FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', arg: 'OUT', help: 'capture to write, same format as IN (required; written atomically)' },
  ...ENGINE_FLAGS,
  { name: 'skip-bad', type: 'boolean', help: 'skip corrupt records where the reader can resynchronise (each is\nreported on stderr and counted) instead of stopping at the first' },
  { name: 'json', type: 'boolean', help: 'print one JSON object: the engine stats() names, elapsedMs, input, output, …' },
  { name: 'quiet', short: 'q', type: 'boolean', help: 'print nothing on success (errors still go to stderr)' },
  { name: 'no-progress', type: 'boolean', help: 'no progress bar (it is drawn only when stderr is a terminal)' },
  { name: 'help', short: 'h', type: 'boolean', help: 'this help' },
];

const BENCH_FLAGS: FlagSpec[] = [{ name: 'help', short: 'h', type: 'boolean', help: 'this help (other arguments go to bench/run.ts)' }];

interface Command {
  synopsis: string;
  about: string;
  flags: FlagSpec[];
  notes?: string;
}

const COMMANDS: Record<string, Command> = {
  coalesce: {
    synopsis: 'lro coalesce IN -o OUT [options]',
    about: 'Aggregate the TCP segments of a pcap or pcapng capture (Large Receive, like Linux GRO) and\n' +
      'write the result in the same format. Capture timestamps drive the engine clock.',
    flags: COALESCE_FLAGS,
    notes: `Link types: ${SUPPORTED_LINK_TYPES}. pcapng: one engine per interface;\n` +
      'pass-through packets (and one-segment aggregates) are written as their original records: same\n' +
      'timestamp at full resolution, same options; aggregates get the send time and no options.\n' +
      'Example: lro coalesce in.pcap -o out.pcap --json',
  },
  generate: {
    synopsis: 'lro generate -o FILE [options]',
    about: 'Write seeded synthetic TCP traffic (bulk flows, ACKs, impairments, noise) as pcap or pcapng.\nSame options, same bytes.',
    flags: GENERATE_FLAGS,
    notes: 'Example: lro generate -o bulk.pcap --packets 1000000 --flows 16 --loss 0.001 --noise 0.01',
  },
  inspect: {
    synopsis: 'lro inspect FILE [--top N] [--json]',
    about: 'Per-connection table of a capture: packets, bytes, TCP payload bytes and segment sizes\n(min / mean / max payload of the segments carrying some), sorted by packets; plus totals.',
    flags: INSPECT_FLAGS,
  },
  bench: {
    synopsis: 'lro bench [args]',
    about: 'Run the benchmark suite (bench/run.ts, in a clone of the repository; writes bench/RESULTS.md).\nArguments are passed on to it (e.g. --quick).',
    flags: BENCH_FLAGS,
  },
  demo: {
    synopsis: 'lro demo [options]',
    about: 'What `npm start` runs: generate a default sample (100,000 frames, 8 bulk flows with ACKs and\na little noise) in the temporary directory, coalesce it, print the summary and the file names.',
    flags: DEMO_FLAGS,
  },
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  return `usage: ${c.synopsis}\n\n${c.about}\n\noptions:\n${formatFlags(c.flags)}${c.notes ? `\n\n${c.notes}` : ''}`;
}

export function mainHelp(): string {
  const parts = [
    `lro ${version()} — TCP Large Receive aggregator (large-receive)`,
    '',
    'usage: lro <command> [options]      lro <command> --help      lro --version',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)}${c.synopsis}`),
    '',
    'Exit status: 0 done, 1 bad input or output file (one line on stderr naming the file and byte',
    'offset; no output file is left behind), 2 bad usage.',
  ];
  for (const name of Object.keys(COMMANDS)) {
    parts.push('', '─'.repeat(78), commandHelp(name));
  }
  return parts.join('\n');
}

/** Run one `lro` command; resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(err.message);
      return 2;
    }
    if (err instanceof FileError || err instanceof CaptureError) {
      io.err(err.message);
      return 1;
    }
    const e = err as Error;
    io.err(`lro: ${e && e.message ? e.message : String(err)}`);
    if (process.env.LRO_DEBUG && e && e.stack) io.err(e.stack);
    return 1;
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) {
    throw new UsageError(`usage: lro <command> [options]; commands: ${Object.keys(COMMANDS).join(', ')} (see lro --help)`);
  }
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    if (cmd === 'help' && rest[0] && COMMANDS[rest[0]]) io.out(commandHelp(rest[0]));
    else io.out(mainHelp());
    return 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === '-V') {
    io.out(version());
    return 0;
  }
  if (!COMMANDS[cmd]) {
    throw new UsageError(cmd.startsWith('-') ? `lro: unknown option ${cmd} (see lro --help)` : `lro: unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')}; see lro --help)`);
  }
  if (cmd === 'bench') {
    if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
      io.out(commandHelp('bench'));
      return 0;
    }
    return runBench(rest);
  }
  const parsed = parseArgs(cmd, rest, COMMANDS[cmd].flags);
  if (parsed.flags.get('help')) {
    io.out(commandHelp(cmd));
    return 0;
  }
  switch (cmd) {
    case 'coalesce':
      return coalesce(parsed, io);
    case 'generate':
      return generate(parsed, io);
    case 'inspect':
      return inspect(parsed, io);
    default:
      return demo(parsed, io);
  }
}

/** IN and OUT name one file (OUT may not exist yet). */
function sameFile(input: string, output: string): boolean {
  try {
    return realpathSync(input) === realpathSync(output);
  } catch {
    return false;
  }
}

async function coalesce(parsed: Parsed, io: CliIo): Promise<number> {
  const f = parsed.flags;
  if (parsed.positionals.length === 0) throw new UsageError('lro coalesce: missing input file (usage: lro coalesce IN -o OUT)');
  if (parsed.positionals.length > 1) throw new UsageError(`lro coalesce: one input file, got ${parsed.positionals.length} (usage: lro coalesce IN -o OUT)`);
  const output = f.get('output') as string | undefined;
  if (!output) throw new UsageError('lro coalesce: -o OUT is required (usage: lro coalesce IN -o OUT)');
  const input = parsed.positionals[0];
  if (input === '-' || output === '-') throw new UsageError('lro coalesce: standard input / output are not supported: name files (the output is written to a temporary file and renamed)');
  if (sameFile(input, output)) throw new UsageError(`lro coalesce: the output would replace the input ${input}: name another file`);
  const engine = engineOptionsFromFlags('coalesce', parsed);
  const json = f.get('json') === true;
  const quiet = f.get('quiet') === true;
  let size = 0;
  try {
    size = statSync(input).size;
  } catch {
    // openCapture reports it.
  }
  const progress = new Progress(f.get('no-progress') || quiet ? null : io.progress ?? null, size, 'coalesce');
  let skipped = 0;
  const t0 = performance.now();
  let result;
  try {
    result = await coalesceFile({
      input,
      output,
      engine,
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
  const elapsed = performance.now() - t0;
  if (result.fallbacks > 0) io.err(`lro coalesce: note: ${result.fallbacks} one-segment aggregates were written with their send time instead of their original record`);
  if (json) io.out(JSON.stringify(summaryJson(result, elapsed)));
  else if (!quiet) io.out(summaryText(result, elapsed));
  return 0;
}

async function generate(parsed: Parsed, io: CliIo): Promise<number> {
  const { gen, file, output } = generateOptionsFromFlags(parsed);
  const t0 = performance.now();
  const r = await writeGenerated(output, gen, file);
  const ms = performance.now() - t0;
  if (parsed.flags.get('json')) io.out(JSON.stringify({ ...r, elapsedMs: Math.round(ms * 1000) / 1000 }));
  else if (!parsed.flags.get('quiet')) io.out(`wrote ${int(r.packets)} packets (${bytes(r.bytes)}) to ${r.output} (${r.format}, link type ${r.linkType}) in ${(ms / 1000).toFixed(2)} s`);
  return 0;
}

function inspect(parsed: Parsed, io: CliIo): number {
  if (parsed.positionals.length !== 1) throw new UsageError(`lro inspect: ${parsed.positionals.length === 0 ? 'missing' : 'one'} capture file (usage: lro inspect FILE)`);
  const top = (parsed.flags.get('top') as number | undefined) ?? 20;
  if (!Number.isInteger(top) || top < 0) throw new UsageError(`lro inspect: --top must be an integer ≥ 0, got ${top}`);
  const r = inspectFile(parsed.positionals[0], parsed.flags.get('skip-bad') === true);
  if (parsed.flags.get('json')) io.out(JSON.stringify(r));
  else io.out(inspectText(r, top));
  return 0;
}

async function demo(parsed: Parsed, io: CliIo): Promise<number> {
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

/** True when this module is the process entry (tsx bindings/cli/main.ts …). */
function isEntry(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return fileURLToPath(import.meta.url) === entry || fileURLToPath(import.meta.url).replace(/\.ts$/, '') === entry;
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
