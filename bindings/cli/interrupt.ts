// Ctrl-C, SIGTERM and SIGHUP while a command runs: remove every unfinished output (an output is only ever
// renamed into place whole, capture/output.ts), say so in one line, exit 130 / 143 / 129. The CLI owns
// the process's signals; the file layer only knows which outputs are open.
import { writeSync } from 'node:fs';
import { abortOpenOutputs } from '../capture/output.js';

function handler(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', code: number): () => void {
  return () => {
    const removed = abortOpenOutputs();
    // Synchronous: exit follows at once.
    writeSync(2, `lro: interrupted by ${signal}${removed > 0 ? '; unfinished output removed' : ''}\n`);
    process.exit(code);
  };
}

/** Run `work` with the handlers installed; they are removed when it settles. */
export async function withInterruptCleanup<T>(work: () => Promise<T>): Promise<T> {
  const onSigint = handler('SIGINT', 130);
  const onSigterm = handler('SIGTERM', 143);
  const onSighup = handler('SIGHUP', 129);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
  }
}
