// Buffered output to a temporary file next to the destination, renamed into place on commit.
//
// Encoders `reserve(n)` bytes and write into `buf` through `view` at the returned position;
// the buffer goes to disk in large writeSync calls. Any failure deletes the temporary file
// and throws a CaptureError naming the destination, so a half-written output never remains.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { CaptureError, errnoText, fsError } from './errors.js';

export const DEFAULT_OUT_BUFFER = 4 << 20;

// Output files not yet committed or aborted. While there are any, Ctrl-C and SIGTERM delete
// their temporary files before the process exits (the output is only ever renamed into place
// whole); otherwise those signals keep their default effect. Long runs writing an output must
// yield to the event loop now and then (see yieldToSignals) for the handler to run.
const openOutputs = new Set<OutputFile>();

function interrupted(signal: string, code: number): () => void {
  return () => {
    for (const out of [...openOutputs]) out.abort();
    writeSync(2, `lro: interrupted by ${signal}; unfinished output removed\n`); // sync: exit follows
    process.exit(code);
  };
}

const onSigint = interrupted('SIGINT', 130);
const onSigterm = interrupted('SIGTERM', 143);

function track(out: OutputFile): void {
  if (openOutputs.size === 0) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
  }
  openOutputs.add(out);
}

function untrack(out: OutputFile): void {
  if (!openOutputs.delete(out) || openOutputs.size > 0) return;
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}

/** Let pending signals run (a long synchronous loop would hold Ctrl-C back until it ends). */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class OutputFile {
  buf: Uint8Array;
  view: DataView;
  /** Bytes used in `buf`. */
  used = 0;
  /** Bytes already written to the temporary file. */
  flushed = 0;
  readonly tempPath: string;
  private fd: number;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    readonly path: string,
    size = DEFAULT_OUT_BUFFER,
  ) {
    this.tempPath = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      this.fd = openSync(this.tempPath, 'wx', 0o644);
    } catch (err) {
      throw fsError(path, 'unwritable', 'write', err);
    }
    this.buf = new Uint8Array(Math.max(64, size));
    this.view = new DataView(this.buf.buffer);
    track(this);
  }

  /** Total bytes written so far (flushed + buffered). */
  get size(): number {
    return this.flushed + this.used;
  }

  /** Room for n bytes at the returned index of `buf`; `used` already counts them. */
  reserve(n: number): number {
    if (this.state !== 'open') throw new Error(`${this.path}: writer is already ${this.state}`);
    if (this.used + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) {
        this.buf = new Uint8Array(n);
        this.view = new DataView(this.buf.buffer);
      }
    }
    const at = this.used;
    this.used += n;
    return at;
  }

  /** Append raw bytes. */
  put(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.buf.set(bytes, at);
  }

  /** Flush, close and rename the temporary file to `path`. */
  commit(): void {
    this.flush();
    this.state = 'committed';
    untrack(this);
    this.closeFd();
    try {
      renameSync(this.tempPath, this.path);
    } catch (err) {
      this.removeTemp();
      throw fsError(this.path, 'unwritable', 'rename the output into place', err);
    }
  }

  /** Close and delete the temporary file. Safe to call more than once, and after a failure. */
  abort(): void {
    if (this.state === 'committed') return;
    this.state = 'aborted';
    untrack(this);
    this.closeFd();
    this.removeTemp();
  }

  private flush(): void {
    let done = 0;
    try {
      while (done < this.used) done += writeSync(this.fd, this.buf, done, this.used - done);
    } catch (err) {
      const at = this.flushed + done;
      this.abort();
      throw new CaptureError(this.path, at, 'unwritable', 'cannot write', errnoText(err));
    }
    this.flushed += this.used;
    this.used = 0;
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      closeSync(fd);
    } catch (err) {
      if (this.state === 'committed') {
        this.removeTemp();
        throw fsError(this.path, 'unwritable', 'close', err);
      }
    }
  }

  private removeTemp(): void {
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Already gone.
    }
  }
}
