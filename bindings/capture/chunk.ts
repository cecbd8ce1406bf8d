// Chunked synchronous file input: one large buffer refilled with fs.readSync.
//
// Parsers look at `buf` between `pos` and `end` through `view`. `ensure(n)` makes n bytes
// available at `pos`, moving the unread tail to the front of the buffer and refilling it;
// that move is why record views are only valid until the next record is requested. The
// buffer grows only when a single record is larger than it, so memory stays at about one
// chunk however big the file is.

import { closeSync, read, readSync } from 'node:fs';
import { fsError } from './errors.js';

/**
 * Thrown by `ensure()` when the chunk waits for input asynchronously (`waitForInput`) and has
 * less than was asked: nothing was consumed; call `refill()`, then parse again from `pos`.
 */
export const NEED_INPUT: unique symbol = Symbol('lro: need input');

export const DEFAULT_CHUNK = 4 << 20;

/** Something to Atomics.wait on: a synchronous pause while a pipe is empty. */
let pauseCell: Int32Array | null = null;

/** Block for `ms` (made on first use: a page that is not cross-origin isolated has no SharedArrayBuffer). */
function pause(ms: number): void {
  pauseCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(pauseCell, 0, 0, ms);
}

export class Chunk {
  buf: Uint8Array;
  view: DataView;
  /** Next unread byte in `buf`. */
  pos = 0;
  /** End of valid data in `buf`. */
  end = 0;
  /** File offset of buf[0]. */
  base = 0;
  /** No more bytes in the file. */
  eof = false;
  /**
   * Called right before buffered bytes are moved or overwritten (ReadOptions.beforeRefill):
   * until then, every view handed out since the previous call is still intact.
   */
  beforeRefill: (() => void) | null = null;
  /**
   * A pipe, FIFO or terminal whose writer may go quiet for a long time: `ensure()` never blocks
   * in a read (which would hold back every signal handler: Ctrl-C could not stop the run) but
   * throws NEED_INPUT; the caller awaits `refill()`, a read on libuv's thread pool.
   */
  waitForInput = false;
  /** Keep every byte from offset 0 in the buffer (while a preamble may be parsed again from the start). */
  keep = false;
  private fd: number;

  /**
   * @param seekable a regular file: read at explicit offsets. A pipe, FIFO or terminal (standard
   *   input) is read in order instead.
   */
  constructor(
    fd: number,
    readonly file: string,
    size = DEFAULT_CHUNK,
    readonly seekable = true,
    /** Close the descriptor at the end (not standard input's). */
    private readonly owned = true,
  ) {
    this.fd = fd;
    this.buf = new Uint8Array(Math.max(64, size));
    this.view = new DataView(this.buf.buffer);
  }

  /** A chunk over bytes already in memory (a decompressed capture): nothing more to read. */
  static inMemory(bytes: Uint8Array, file: string): Chunk {
    const c = new Chunk(-1, file, 64);
    c.buf = bytes;
    c.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    c.end = bytes.length;
    c.eof = true;
    return c;
  }

  /** Read the rest of the input into the buffer (it grows as needed); returns the unread bytes. */
  readAll(): Uint8Array {
    // 1 MiB more each time: the buffer doubles when that does not fit (and only then: a read that
    // waits for input asks again, and must not double it each time).
    while (!this.eof) this.ensure(this.end - this.pos + (1 << 20));
    return this.buf.subarray(this.pos, this.end);
  }

  /** File offset of `pos`. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes available at `pos` without reading. */
  get left(): number {
    return this.end - this.pos;
  }

  /**
   * Make at least n bytes available at `pos`. False when the file ends first; then everything
   * up to the end of the file is in the buffer and `left` is exactly what remains.
   */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.eof) return false;
    if (this.beforeRefill !== null) this.beforeRefill();
    this.compact(n);
    while (this.end - this.pos < n && !this.eof) this.fill();
    return this.end - this.pos >= n;
  }

  close(): void {
    if (this.fd >= 0) {
      try {
        if (this.owned) closeSync(this.fd);
      } catch {
        // Closing a read-only fd cannot lose data; nothing useful to report.
      }
      this.fd = -1;
    }
  }

  /** Read more input without blocking the event loop (see `waitForInput`); at the end, sets `eof`. */
  async refill(): Promise<void> {
    if (this.eof) return;
    if (this.end === this.buf.length) {
      // (ensure() made room before it threw; a caller that did not gets room here.)
      this.beforeRefill?.();
      this.compact(this.end - this.pos + 1);
    }
    for (;;) {
      try {
        const got = await new Promise<number>((ok, fail) =>
          read(this.fd, this.buf, this.end, this.buf.length - this.end, null, (err, n) => (err ? fail(err) : ok(n))),
        );
        if (got === 0) this.eof = true;
        this.end += got;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw fsError(this.file, 'unreadable', 'read', err, this.base + this.end);
        await new Promise((ok) => setTimeout(ok, 2));
      }
    }
  }

  /** Move unread bytes to the front; grow the buffer when n does not fit. */
  private compact(n: number): void {
    if (this.keep) {
      // Nothing moves: the bytes before `pos` may be parsed again.
      if (this.pos + n > this.buf.length) this.grow(Math.max(this.pos + n, this.buf.length * 2), 0);
      return;
    }
    const keep = this.end - this.pos;
    if (n > this.buf.length) {
      this.grow(Math.max(n, this.buf.length * 2), this.pos);
    } else if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = keep;
  }

  /** A buffer of `size` bytes holding the bytes from `from` on. */
  private grow(size: number, from: number): void {
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(from, this.end));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }

  private fill(): void {
    if (this.waitForInput) throw NEED_INPUT;
    let got: number;
    for (;;) {
      try {
        got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, this.seekable ? this.base + this.end : null);
        break;
      } catch (err) {
        // A non-blocking pipe with nothing in it yet: wait a moment and read again.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          pause(2);
          continue;
        }
        throw fsError(this.file, 'unreadable', 'read', err, this.base + this.end);
      }
    }
    if (got === 0) this.eof = true;
    this.end += got;
  }
}
