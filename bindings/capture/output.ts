// Buffered output to a temporary file next to the destination, renamed into place on commit.
// Outputs that are not regular files — standard output ('-'), a device, a FIFO — are written
// directly (never replaced by a renamed file); a symlink's target is the file replaced; an
// existing output keeps its permissions.
//
// Encoders `reserve(n)` bytes and write into `buf` through `view` at the returned position;
// the buffer goes to disk in large writeSync calls. Any failure deletes the temporary file
// and throws a CaptureError naming the destination, so a half-written output never remains.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  lstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
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

/** Something to Atomics.wait on: a synchronous pause while a pipe is full. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** The path that names standard output (as in `lro coalesce in.pcap -o -`). */
export const STDOUT = '-';

/**
 * How to write `path`: directly (standard output, an existing device, FIFO or socket), or through
 * a temporary file renamed onto `path` — a symlink's final target, keeping an existing file's mode.
 */
function whereTo(path: string): { direct: boolean; path: string; mode: number | null } {
  if (path === STDOUT) return { direct: true, path, mode: null };
  let target = path;
  try {
    if (lstatSync(path).isSymbolicLink()) {
      try {
        target = realpathSync(path);
      } catch {
        target = resolve(dirname(path), readlinkSync(path)); // dangling: create its target
      }
    }
  } catch {
    return { direct: false, path, mode: null }; // does not exist yet
  }
  try {
    const st = statSync(target);
    if (!st.isFile()) return { direct: true, path, mode: null };
    return { direct: false, path: target, mode: st.mode & 0o7777 };
  } catch {
    return { direct: false, path: target, mode: null };
  }
}

export class OutputFile {
  buf: Uint8Array;
  view: DataView;
  /** Bytes used in `buf`. */
  used = 0;
  /** Bytes already written to the temporary file. */
  flushed = 0;
  /** The temporary file (renamed to the destination by commit), or null when written directly. */
  readonly tempPath: string | null;
  private fd: number;
  private state: 'open' | 'committed' | 'aborted' = 'open';
  /** Where the temporary file is renamed to: `path`, or a symlink's target. */
  private readonly destination: string;

  constructor(
    readonly path: string,
    size = DEFAULT_OUT_BUFFER,
  ) {
    const target = whereTo(path);
    this.destination = target.path;
    if (target.direct) {
      this.tempPath = null;
      try {
        this.fd = path === STDOUT ? 1 : openSync(path, 'w');
      } catch (err) {
        throw fsError(path, 'unwritable', 'write', err);
      }
    } else {
      this.tempPath = `${target.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        this.fd = openSync(this.tempPath, 'wx', 0o644);
        if (target.mode !== null) fchmodSync(this.fd, target.mode);
      } catch (err) {
        this.closeFd();
        this.removeTemp();
        throw fsError(path, 'unwritable', 'write', err);
      }
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
    if (this.tempPath === null) return;
    try {
      renameSync(this.tempPath, this.destination);
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
      while (done < this.used) {
        try {
          done += writeSync(this.fd, this.buf, done, this.used - done);
        } catch (err) {
          // A non-blocking pipe (standard output) that is full: wait for its reader, then go on.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          Atomics.wait(PAUSE, 0, 0, 1);
        }
      }
    } catch (err) {
      const at = this.flushed + done;
      this.abort();
      const code = (err as NodeJS.ErrnoException).code === 'EPIPE' ? 'closed-pipe' : 'unwritable';
      throw new CaptureError(this.path === STDOUT ? 'standard output' : this.path, at, code, 'cannot write', errnoText(err));
    }
    this.flushed += this.used;
    this.used = 0;
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    if (fd === 1) return; // standard output stays open
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
    if (this.tempPath === null) return;
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Already gone.
    }
  }
}
