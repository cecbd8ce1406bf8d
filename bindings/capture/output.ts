// Buffered output to a temporary file next to the destination, renamed into place on commit.
//
// Encoders `reserve(n)` bytes and write into `buf` through `view` at the returned position;
// the buffer goes to disk in large writeSync calls. Any failure deletes the temporary file
// and throws a CaptureError naming the destination, so a half-written output never remains.

import { randomBytes } from 'node:crypto';
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { CaptureError, errnoText, fsError } from './errors.js';

/** 1 MiB: on these VMs, after a few idle seconds, 4 MiB writeSync calls are ~10× slower than 1 MiB ones. */
export const DEFAULT_OUT_BUFFER = 1 << 20;

// Output files not yet committed or aborted. The CLI (cli/interrupt.ts) removes their temporary
// files when Ctrl-C or SIGTERM ends the process: the output is only ever renamed into place whole.
const openOutputs = new Set<OutputFile>();

/** Abort every output not yet committed (their temporary files are deleted); returns how many. */
export function abortOpenOutputs(): number {
  const open = [...openOutputs];
  for (const out of open) out.abort();
  return open.length;
}

/**
 * Let pending events run. A long synchronous loop writing an output would hold back the signal
 * handler that removes it (Ctrl-C): writers call this now and then.
 */
export function yieldToEventLoop(): Promise<void> {
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
    openOutputs.add(this);
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
    openOutputs.delete(this);
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
    openOutputs.delete(this);
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
