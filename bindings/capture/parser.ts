// Base of the per-format parsers: shared state and the skip-or-throw policy.

import type { Chunk } from './chunk.js';
import { CaptureError, type CaptureErrorCode } from './errors.js';
import type { HeaderChannel } from './headers.js';
import type { CaptureInfo, CaptureRecord, ReadOptions } from './types.js';

export abstract class Parser {
  /** Records skipped because of `skipBad`. */
  skipped = 0;
  protected readonly skipBad: boolean;
  /** Make `data` / `tail` views (ReadOptions.views). */
  protected readonly views: boolean;
  private readonly onSkip?: (err: CaptureError) => void;

  constructor(
    protected readonly chunk: Chunk,
    protected readonly file: string,
    readonly info: CaptureInfo,
    protected readonly headers: HeaderChannel,
    opts: ReadOptions,
  ) {
    this.skipBad = opts.skipBad ?? false;
    this.views = opts.views ?? true;
    this.onSkip = opts.onSkip;
  }

  /** Parse what precedes the first packet (header, pcapng SHB/IDBs...). Called once by the reader. */
  abstract readPreamble(): void;

  /** Fill `rec` with the next packet; false at end of file. */
  abstract next(rec: CaptureRecord): boolean;

  /** Throws `err` unless skipBad is on; then counts it and returns so the caller moves on. */
  protected skipOrThrow(err: CaptureError): void {
    if (!this.skipBad) throw err;
    this.skipped++;
    this.onSkip?.(err);
  }

  /** A CaptureError about this input. */
  protected error(offset: number, code: CaptureErrorCode, what: string, detail?: string): CaptureError {
    return new CaptureError(this.file, offset, code, what, detail);
  }
}
