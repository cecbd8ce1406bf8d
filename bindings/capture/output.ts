// Buffered output to a temporary file next to the destination, renamed into place on commit.
// Outputs that are not regular files — standard output ('-'), a device, a FIFO — are written
// directly (never replaced by a renamed file); a symlink's target is the file replaced; an
// existing output keeps its permissions.
//
// Encoders `reserve(n)` bytes and write into `buf` through `view` at the returned position;
// the buffer goes to disk in large writeSync calls. Any failure deletes the temporary file
// and throws a CaptureError naming the destination, so a half-written output never remains.

import {
  closeSync,
  constants,
  fchmodSync,
  lstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CaptureError, errnoText, fsError } from './errors.js';

/** 1 MiB: on these VMs, after a few idle seconds, 4 MiB writeSync calls are ~10× slower than 1 MiB ones. */
export const DEFAULT_OUT_BUFFER = 1 << 20;

// Output files not yet committed or aborted. The CLI (cli/interrupt.ts) removes their temporary
// files when Ctrl-C or SIGTERM ends the process: the output is only ever renamed into place whole.
const openOutputs = new Set<OutputFile>();

/**
 * Abort every output not yet committed; returns how many temporary files that deleted (an output
 * written directly, such as standard output or a FIFO, has none: what it got is gone already).
 */
export function abortOpenOutputs(): number {
  const open = [...openOutputs];
  for (const out of open) out.abort();
  return open.filter((out) => out.tempPath !== null).length;
}

/**
 * Let pending events run. A long synchronous loop writing an output would hold back the signal
 * handler that removes it (Ctrl-C): writers call this now and then.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * An output that is a FIFO: wait until a reader has it open, without blocking the event loop as
 * opening it for writing would (Ctrl-C could not end a run whose FIFO nobody reads). Resolves to
 * a function to call once the output is open: until then a descriptor keeps the FIFO open for
 * writing, so its reader never sees an end in between. Other outputs: at once, nothing held.
 */
export async function waitForFifoReader(path: string): Promise<() => void> {
  const nothing = () => {};
  if (path === STDOUT) return nothing;
  try {
    if (!statSync(path).isFIFO()) return nothing;
  } catch {
    return nothing;
  }
  for (;;) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      // ENXIO: no reader yet. Anything else is for OutputFile to report.
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') return nothing;
      await new Promise((ok) => setTimeout(ok, 10));
      continue;
    }
    return () => closeSync(fd);
  }
}

/** Something to Atomics.wait on: a synchronous pause while a pipe is full. */
let pauseCell: Int32Array | null = null;

/** Block for `ms` (made on first use: a page that is not cross-origin isolated has no SharedArrayBuffer). */
function pause(ms: number): void {
  pauseCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(pauseCell, 0, 0, ms);
}

/** The path that names standard output (as in `lro coalesce in.pcap -o -`). */
export const STDOUT = '-';

/**
 * How to write `path`: directly (standard output, an existing device, FIFO or socket), or through
 * a temporary file renamed onto `path` — a symlink's final target, keeping an existing file's mode.
 */
function whereTo(path: string): { direct: boolean; path: string; mode: number | null } {
  if (path === STDOUT) return { direct: true, path, mode: null };
  // What the path leads to, as the kernel follows it: /dev/stdout or a shell's /dev/fd/63 may be a
  // pipe, which realpath() cannot name (it reads 'pipe:[…]' as a file name).
  let st: ReturnType<typeof statSync> | null = null;
  try {
    st = statSync(path);
  } catch {
    // Does not exist (yet), or a dangling symlink: a new file.
  }
  if (st !== null && !st.isFile()) return { direct: true, path, mode: null };
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
  return { direct: false, path: target, mode: st !== null ? Number(st.mode) & 0o7777 : null };
}

/**
 * The temporary file next to `path`: its name plus a unique tail ('wx' refuses a name that exists;
 * no node:crypto: start-up cost). A name too long to take the tail (a file name holds 255 bytes)
 * gets a short one instead.
 */
function tempName(path: string): string {
  const tail = `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  if (new TextEncoder().encode(basename(path)).length + tail.length <= 255) return `${path}${tail}`;
  return join(dirname(path), `.lro${tail}`);
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
  /**
   * Overlapped writes (a temporary file only, see overlap()): full buffers go to the kernel on
   * libuv's thread pool while the caller fills the next one; `spare` holds written buffers for reuse.
   */
  private overlapped = false;
  private readonly inFlight: Promise<void>[] = [];
  private readonly spare: Uint8Array[] = [];
  private writeError: unknown = null;

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
      this.tempPath = tempName(target.path);
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

  /**
   * Write full buffers in the background (a temporary, regular file only): the caller then keeps
   * the writes in check with `settle()` and calls it with 0 before commit(). Returns whether on.
   */
  overlap(): boolean {
    this.overlapped = this.tempPath !== null;
    return this.overlapped;
  }

  /** Writes still in flight (overlapped mode). */
  get writesInFlight(): number {
    return this.inFlight.length;
  }

  /** Wait until at most `max` overlapped writes are in flight; throws a write's error. */
  async settle(max: number): Promise<void> {
    while (this.inFlight.length > max) await this.inFlight.shift();
    this.throwWriteError();
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

  /** Flush, close and rename the temporary file to `path` (overlapped: after settle(0)). */
  commit(): void {
    if (this.inFlight.length !== 0) throw new Error(`${this.path}: commit() with writes in flight (await settle(0) first)`);
    this.throwWriteError();
    this.overlapped = false; // the last buffer goes out here, synchronously
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
    if (this.overlapped) return this.flushInBackground();
    let done = 0;
    try {
      while (done < this.used) {
        try {
          // A temporary file is written at explicit offsets (background writes do not move its position).
          const position = this.tempPath === null ? null : this.flushed + done;
          done += writeSync(this.fd, this.buf, done, this.used - done, position);
        } catch (err) {
          // A non-blocking pipe (standard output) that is full: wait for its reader, then go on.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          pause(1);
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

  /** Hand the full buffer to the thread pool at its file offset and go on with a spare one. */
  private flushInBackground(): void {
    this.throwWriteError();
    const buf = this.buf;
    const n = this.used;
    const at = this.flushed;
    const fd = this.fd;
    this.inFlight.push(
      new Promise<void>((resolve) => {
        const step = (done: number) => {
          if (done === n) {
            this.spare.push(buf);
            return resolve();
          }
          write(fd, buf, done, n - done, at + done, (err, wrote) => {
            if (err) {
              this.writeError ??= new CaptureError(this.path, at + done, 'unwritable', 'cannot write', errnoText(err));
              return resolve();
            }
            step(done + wrote);
          });
        };
        step(0);
      }),
    );
    this.flushed += n;
    this.used = 0;
    this.buf = this.spare.pop() ?? new Uint8Array(buf.length);
    this.view = new DataView(this.buf.buffer);
  }

  private throwWriteError(): void {
    if (this.writeError === null) return;
    const err = this.writeError;
    this.abort();
    throw err;
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    if (fd === 1) return; // standard output stays open
    if (this.inFlight.length !== 0) {
      // Writes still use the descriptor (an abort mid-run): close it once they are done.
      void Promise.allSettled(this.inFlight).then(() => closeSync(fd));
      return;
    }
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
