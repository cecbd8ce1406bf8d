// Ctrl-C, SIGTERM and SIGHUP while a command runs: remove every unfinished output (an output is only ever
// renamed into place whole, capture/output.ts), say so in one line, and end by that same signal, as gzip
// does: the shell reports 130 / 143 / 129, and a script's loop around lro stops too (a shell goes on
// after a child that caught SIGINT and exited). The process is ended by the signal, not by exit(): a
// read of a quiet pipe waiting on libuv's thread pool would hold exit() back until the pipe speaks.
// The CLI owns the process's signals; the file layer only knows which outputs are open.
import { writeSync } from 'node:fs';
import { abortOpenOutputs } from '../capture/output.js';

type Signal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

const SIGNALS: readonly Signal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function handler(signal: Signal): () => void {
  return () => {
    const removed = abortOpenOutputs();
    // Synchronous: the end follows at once.
    writeSync(2, `lro: interrupted by ${signal}${removed > 0 ? '; unfinished output removed' : ''}\n`);
    // Without a listener the signal's default action applies: it ends the process.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  };
}

/** Run `work` with the handlers installed; they are removed when it settles. */
export async function withInterruptCleanup<T>(work: () => Promise<T>): Promise<T> {
  const handlers = SIGNALS.map((signal) => [signal, handler(signal)] as const);
  for (const [signal, h] of handlers) process.on(signal, h);
  try {
    return await work();
  } finally {
    for (const [signal, h] of handlers) process.off(signal, h);
  }
}
