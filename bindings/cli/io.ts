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

export const processIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  progress: process.stderr,
};
