// CaptureError: every problem with a capture file (input or output) surfaces as one of these,
// so the CLI can print `err.message` as a single line and exit non-zero.

/** Machine-readable cause; `message` is the human one. */
export type CaptureErrorCode =
  | 'unreadable' // missing file, permission denied, I/O error
  | 'empty' // zero-byte file
  | 'bad-magic' // not pcap / pcapng
  | 'truncated-header' // pcap global header or pcapng SHB cut short
  | 'truncated-record' // record / block cut short at end of file
  | 'too-large' // caplen or block length absurdly large
  | 'bad-block-length' // pcapng: length not a multiple of 4, < 12, or trailer mismatch
  | 'bad-block' // pcapng: lengths consistent but content is not (skippable)
  | 'unknown-interface' // packet names an interface the section does not have (skippable)
  | 'no-interface' // packet before any IDB (skippable)
  | 'unconvertible' // the input holds what the output format cannot (pcap: packets of two link types)
  | 'unwritable' // output could not be created, written or renamed
  | 'closed-pipe'; // the output is a pipe whose reader went away (EPIPE)

export class CaptureError extends Error {
  override name = 'CaptureError';

  /**
   * @param file   path as given by the caller (input or output)
   * @param offset byte offset of the bad header/record (0 for file-level problems)
   * @param what   short description, e.g. `truncated record`
   * @param detail optional parenthesised detail, e.g. `header says 1514 bytes, 200 left`
   * @param atByte whether the message should say `at byte <offset>`
   */
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly code: CaptureErrorCode,
    what: string,
    detail?: string,
    atByte = true,
  ) {
    super(`${file}: ${what}${atByte ? ` at byte ${offset}` : ''}${detail ? ` (${detail})` : ''}`);
  }
}

/** Wrap a Node fs error (ENOENT, EACCES, EISDIR...) as a one-line CaptureError. */
export function fsError(file: string, code: 'unreadable' | 'unwritable', verb: string, err: unknown, offset = 0): CaptureError {
  return new CaptureError(file, offset, code, `cannot ${verb}`, errnoText(err), false);
}

/** "ENOENT: no such file or directory" from a Node fs error (without the path Node appends). */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code) return String(err);
  const m = /^[A-Z0-9_]+: ([^,]+)/.exec(e.message);
  return `${e.code}: ${m ? m[1] : e.message}`;
}

/** A problem with an input or output file that is not at a byte of a capture (exit status 1 in the CLI). */
export class FileError extends Error {
  override name = 'FileError';
}
