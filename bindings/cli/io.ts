// Where a command's text goes: the process's streams, or a test's buffers.
import type { ProgressTarget } from './progress.js';

export interface CliIo {
  /** Standard output (JSON, summaries, tables). */
  out(text: string): void;
  /** Standard error (errors, warnings). */
  err(text: string): void;
  /** Where a progress bar may be drawn (drawn only if it is a TTY). */
  progress?: ProgressTarget | null;
}

let stdoutBroken = false;
let listening = false;

/**
 * Standard output failing under us: a closed pipe (`lro inspect … | head -1`) ends the output
 * quietly; anything else (`--json > /dev/full`) is one line on standard error and exit status 1.
 * Never a stack trace.
 */
function onStdoutError(err: NodeJS.ErrnoException): void {
  if (stdoutBroken) return;
  stdoutBroken = true;
  if (err.code === 'EPIPE') return;
  process.stderr.write(
    `lro: cannot write to standard output (${err.code ?? ''}${err.code ? ': ' : ''}${err.message.replace(/^[A-Z]+: /, '')})\n`,
  );
  process.exitCode = 1;
}

export const processIo: CliIo = {
  out: (t) => {
    if (stdoutBroken) return;
    if (!listening) {
      listening = true;
      process.stdout.on('error', onStdoutError);
    }
    try {
      process.stdout.write(`${t}\n`);
    } catch (err) {
      onStdoutError(err as NodeJS.ErrnoException);
    }
  },
  err: (t) => process.stderr.write(`${t}\n`),
  // A getter: standard error's stream is made on first use (a quiet run never needs it).
  get progress() {
    return process.stderr;
  },
};
