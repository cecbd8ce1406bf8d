// `lro`: the command-line entry. `main(argv, io)` runs one command and resolves to its exit
// status (0 done, 1 bad input or output file, 2 bad usage); it never ends the process (only
// the Ctrl-C handler of cli/interrupt.ts does), so tests run it in-process. Run through
// bin/lro.js, or directly (`tsx bindings/cli/main.ts demo`).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CaptureError, FileError } from '../capture/errors.js';
import { UsageError, formatFlags, parseArgs } from './args.js';
import { COMMANDS } from './commands.js';
import { withInterruptCleanup } from './interrupt.js';
import { processIo, type CliIo } from './io.js';

export type { CliIo } from './io.js';

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

/** `lro --help`: the commands and a few examples; `all`: every command's help as well. */
export function mainHelp(all = false): string {
  const parts = [
    `lro ${version()} — TCP Large Receive aggregator (large-receive)`,
    '',
    'usage: lro <command> [options]      lro <command> --help      lro help all      lro --version',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)}${c.synopsis}`),
    '',
    'examples:',
    '  lro coalesce in.pcap -o out.pcap            pcap or pcapng in, the same format out',
    '  tcpdump -i eth0 -w - | lro coalesce - -o out.pcapng',
    '  lro inspect out.pcap',
    '',
    'Exit status: 0 done, 1 bad input or output file (one line on stderr naming the file and byte',
    'offset; no output file is left behind), 2 bad usage.',
  ];
  if (all) for (const name of Object.keys(COMMANDS)) parts.push('', '─'.repeat(78), commandHelp(name));
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
    // The reader of our standard output went away (`lro … -o - | head`): end quietly.
    if (err instanceof CaptureError && err.code === 'closed-pipe') return 0;
    if (err instanceof FileError || err instanceof CaptureError) {
      io.err(err.message);
      return 1;
    }
    const e = err as Error;
    io.err(`lro: ${e?.message ? e.message : String(err)}`);
    if (process.env.LRO_DEBUG && e?.stack) io.err(e.stack);
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
    else io.out(mainHelp(cmd === 'help' && rest[0] === 'all'));
    return 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === '-V') {
    io.out(version());
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    throw new UsageError(
      cmd.startsWith('-')
        ? `lro: unknown option ${cmd} (see lro --help)`
        : `lro: unknown command '${cmd}' (commands: ${Object.keys(COMMANDS).join(', ')}; see lro --help)`,
    );
  }
  // `bench --suite` passes every other argument on to the suite unparsed.
  const parsed =
    cmd === 'bench' && rest.includes('--suite')
      ? { flags: new Map<string, string | number | boolean>([['suite', true]]), positionals: rest.filter((a) => a !== '--suite') }
      : parseArgs(cmd, rest, command.flags);
  if (parsed.flags.get('help')) {
    io.out(commandHelp(cmd));
    return 0;
  }
  const { run } = await command.load();
  return command.writesFiles ? await withInterruptCleanup(async () => run(parsed, io)) : run(parsed, io);
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
