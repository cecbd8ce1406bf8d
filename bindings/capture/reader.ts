// Opening and iterating a capture file.
//
// Shape: synchronous. `openCapture` opens the file, detects the format and parses everything
// before the first packet (pcap header; pcapng SHB, IDBs...), so `reader.info` is ready for
// the CLI. Then `reader.next()` returns records until null, or use `for (const rec of reader)`.
// Reading is a plain fs.readSync loop over one large chunk (4 MiB by default), with no
// promise or generator hop per record, which keeps throughput in the millions of records/s.
//
// Ownership: each record is a new small object (its numbers stay valid), but its `data` and
// `tail` are views into the chunk: their bytes are valid only until the next record is
// requested. Copy what you keep (`copyRecord`, or `rec.data.slice()`). A caller that batches
// records can instead pass `beforeRefill`: views stay intact until that hook is called.
//
// skipBad: pcapng blocks with consistent lengths but bad content are skipped and counted in
// `reader.skipped`; a truncated last record or block is skipped too (the read ends there).
// Anything else (bad pcap caplen, bad pcapng block length) still throws: there is no way to
// find the next record.

import { closeSync, fstatSync, open as openAsync, openSync } from 'node:fs';
import { Chunk, DEFAULT_CHUNK, NEED_INPUT } from './chunk.js';
import { sniff } from './detect.js';
import { CaptureError, errnoText, fsError } from './errors.js';
import { HeaderChannel } from './headers.js';
import type { Parser } from './parser.js';
import { PcapParser } from './pcap.js';
import { PcapngParser } from './pcapng.js';
import { blankRecord } from './record.js';
import type { CaptureInfo, CaptureRecord, HeaderSink, ReadOptions } from './types.js';

/** The path that names standard input (as in `lro coalesce - -o out.pcap`). */
export const STDIN = '-';

export class CaptureReader implements Iterable<CaptureRecord> {
  /** Format, byte order and interfaces; pcapng interfaces are appended as IDBs are read. */
  readonly info: CaptureInfo;
  private chunk: Chunk;
  private readonly parser: Parser;
  private readonly headers = new HeaderChannel();
  private done = false;

  /** Use `openCapture` (or `openCaptureAsync`, which passes the chunk it opened). */
  constructor(
    readonly path: string,
    opts: ReadOptions = {},
    chunk?: Chunk,
  ) {
    const name = path === STDIN ? 'standard input' : path;
    this.chunk = chunk ?? openChunk(path, opts);
    try {
      this.chunk.ensure(8);
      if (this.chunk.left >= 2 && this.chunk.buf[this.chunk.pos] === 0x1f && this.chunk.buf[this.chunk.pos + 1] === 0x8b) {
        this.chunk = gunzipped(this.chunk, name);
      }
      if (opts.beforeRefill) this.chunk.beforeRefill = opts.beforeRefill;
      const c = this.chunk;
      c.ensure(8);
      if (c.left === 0) throw new CaptureError(name, 0, 'empty', 'empty file', undefined, false);
      const s = sniff(c.buf.subarray(c.pos, c.end));
      if (!s) {
        const magic = Array.from(c.buf.subarray(0, Math.min(4, c.left)), (b) => b.toString(16).padStart(2, '0')).join('');
        throw new CaptureError(name, 0, 'bad-magic', 'not a pcap or pcapng file', `unknown magic 0x${magic}`);
      }
      this.info = {
        file: path,
        format: s.format,
        byteOrder: s.littleEndian ? 'le' : 'be',
        resolution: 'us',
        version: '',
        sections: 0,
        interfaces: [],
      };
      const P = s.format === 'pcap' ? PcapParser : PcapngParser;
      this.parser = new P(c, name, this.info, this.headers, opts);
      this.parser.readPreamble();
      this.headers.endPreamble();
    } catch (err) {
      if (err !== NEED_INPUT) this.chunk.close();
      throw err;
    }
  }

  /** The next record (its data valid until the following call, see above), or null at the end. */
  next(): CaptureRecord | null {
    const rec = blankRecord();
    return this.read(rec) ? rec : null;
  }

  /** Fill `rec` (a record of the caller's, reused: nothing allocated) with the next record; false at the end. */
  read(rec: CaptureRecord): boolean {
    if (this.done) return false;
    let ok: boolean;
    try {
      ok = this.parser.next(rec);
    } catch (err) {
      if (err !== NEED_INPUT) this.close();
      throw err;
    }
    if (!ok) this.close();
    return ok;
  }

  /**
   * A reader from `openCaptureAsync` on a pipe throws NEED_INPUT from `read()` / `next()` when it
   * has to wait for more input: await this, then ask again (nothing was consumed).
   */
  waitForInput(): Promise<void> {
    return this.chunk.refill();
  }

  /** The read buffer the records' `dataAt` / `tailAt` offsets point into (replaced when it grows). */
  get buffer(): Uint8Array {
    return this.chunk.buf;
  }

  [Symbol.iterator](): Iterator<CaptureRecord> {
    // One result object, reused: for-of and spread read `value` at once.
    const result: IteratorYieldResult<CaptureRecord> = { value: blankRecord(), done: false };
    const end: IteratorReturnResult<undefined> = { value: undefined, done: true };
    return {
      next: () => {
        const rec = this.next();
        if (rec === null) return end;
        result.value = rec;
        return result;
      },
      return: (): IteratorResult<CaptureRecord> => {
        this.close();
        return end;
      },
    };
  }

  /** Records skipped because of `skipBad`. */
  get skipped(): number {
    return this.parser.skipped;
  }

  /** Current read buffer size (stays at the chunk size unless a single record is larger). */
  get bufferSize(): number {
    return this.chunk.buf.length;
  }

  /**
   * Receive the non-packet parts (pcap header, SHB, IDB, other blocks) as they are read.
   * Parts read while opening are delivered at once. Used by the writer; attach before reading.
   */
  onHeaders(sink: HeaderSink): void {
    this.headers.attach(sink);
  }

  /** Release the file. Called automatically at the end, on an error, and on `break` out of a for-of. */
  close(): void {
    this.done = true;
    this.chunk.close();
  }
}

/**
 * A gzip-compressed capture (as many public test captures are), decompressed in memory: zlib has
 * no synchronous streaming inflate, so memory is the capture's size here, not one chunk.
 */
function gunzipped(chunk: Chunk, name: string): Chunk {
  // node:zlib is loaded only here, so start-up does not pay for it; a page has none.
  const zlib = globalThis.process?.getBuiltinModule?.('node:zlib');
  if (!zlib) throw new CaptureError(name, 0, 'bad-magic', 'gzip-compressed capture', 'decompress it first: zlib is not available here');
  const packed = chunk.readAll();
  chunk.close();
  try {
    return Chunk.inMemory(zlib.gunzipSync(packed), name);
  } catch (err) {
    throw new CaptureError(name, 0, 'bad-magic', 'gzip data that does not decompress', errnoText(err).replace(/^Error: /, ''));
  }
}

/** The input's descriptor (standard input's for '-') as a chunk to read. */
function openChunk(path: string, opts: ReadOptions, fd?: number): Chunk {
  const stdin = path === STDIN;
  const name = stdin ? 'standard input' : path;
  let seekable: boolean;
  try {
    fd ??= stdin ? 0 : openSync(path, 'r');
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' });
    seekable = stat.isFile();
  } catch (err) {
    if (fd !== undefined && !stdin) closeSync(fd);
    throw fsError(name, 'unreadable', 'open', err);
  }
  return new Chunk(fd, name, opts.chunkSize ?? DEFAULT_CHUNK, seekable, !stdin);
}

/** Open a capture for reading (throws CaptureError). */
export function openCapture(path: string, opts?: ReadOptions): CaptureReader {
  return new CaptureReader(path, opts);
}

/**
 * Open a capture without ever blocking the event loop on a pipe, a FIFO or a terminal (so a signal
 * handler such as Ctrl-C's runs while the writer is quiet): the FIFO is opened and its preamble
 * read on libuv's thread pool; then `read()` / `next()` throw NEED_INPUT when they have to wait,
 * and the caller awaits `reader.waitForInput()` and asks again. A regular file is read as
 * `openCapture` reads it.
 */
export async function openCaptureAsync(path: string, opts: ReadOptions = {}): Promise<CaptureReader> {
  let fd: number | undefined;
  if (path !== STDIN) {
    fd = await new Promise<number>((ok, fail) =>
      openAsync(path, 'r', (err, n) => (err ? fail(fsError(path, 'unreadable', 'open', err)) : ok(n))),
    );
  }
  const chunk = openChunk(path, opts, fd);
  if (chunk.seekable) return new CaptureReader(path, opts, chunk);
  chunk.waitForInput = true;
  // The preamble is parsed again from the first byte until it is all there.
  chunk.keep = true;
  for (;;) {
    try {
      const reader = new CaptureReader(path, opts, chunk);
      chunk.keep = false;
      return reader;
    } catch (err) {
      if (err !== NEED_INPUT) throw err;
      chunk.pos = 0;
      await chunk.refill();
    }
  }
}

/** Iterate a capture's records (same ownership rules as `CaptureReader.next`). */
export function* readCapture(path: string, opts?: ReadOptions): Generator<CaptureRecord, void, undefined> {
  const reader = openCapture(path, opts);
  try {
    for (let rec = reader.next(); rec !== null; rec = reader.next()) yield rec;
  } finally {
    reader.close();
  }
}

/** Format, byte order and the interfaces defined before the first packet. */
export function probeCapture(path: string): CaptureInfo {
  const reader = openCapture(path);
  reader.close();
  return reader.info;
}
