// Public data shapes of the capture I/O module.

import type { CaptureError } from './errors.js';

export type CaptureFormat = 'pcap' | 'pcapng';
export type ByteOrder = 'le' | 'be';

/** One capture interface: the single pcap "interface", or a pcapng IDB. */
export interface InterfaceInfo {
  /** Global index across all sections (what `CaptureRecord.interfaceId` holds). */
  id: number;
  /** pcapng section (0-based) the IDB belongs to; 0 for pcap. */
  section: number;
  /** Interface id inside its section (what EPBs store). Equals `id` for one-section files. */
  localId: number;
  /** LINKTYPE_* value (1 Ethernet, 113 SLL, 276 SLL2, 101/228/229 raw IP, ...). Not validated. */
  linkType: number;
  /** Snap length from the header / IDB (0 = unlimited in pcapng). */
  snaplen: number;
  /** Raw if_tsresol byte: 6 = µs (default), 9 = ns; high bit set = power of 2. pcap: 6 or 9. */
  tsresol: number;
  /** Human form of tsresol: 'us', 'ns', '10^-N' or '2^-N'. */
  resolution: string;
  /** if_tsoffset in seconds, added to every timestamp (0 when absent, always 0 for pcap). */
  tsoffset: number;
  /** FCS bytes at the end of each frame (pcap FCS bits / if_fcslen), when the file says so. */
  fcsLen?: number;
  /** if_name, when present. */
  name?: string;
  /** Byte offset of the IDB (pcapng) or of the global header (pcap, 0), for diagnostics. */
  offset?: number;
}

/** What the CLI prints about an input. `interfaces` grows as pcapng IDBs are read. */
export interface CaptureInfo {
  file: string;
  format: CaptureFormat;
  /** Byte order of the file (pcapng: of the first section; later sections may differ). */
  byteOrder: ByteOrder;
  /** pcap: 'us' or 'ns' from the magic; pcapng: resolution of the first interface ('us' if none). */
  resolution: string;
  /** "2.4" for pcap, "1.0" for pcapng (first section). */
  version: string;
  /** Number of pcapng sections seen so far (1 for pcap). */
  sections: number;
  interfaces: InterfaceInfo[];
}

/** Block type of a record, i.e. how `writeOriginal` writes it back: 0 pcap record, 2 PB, 3 SPB, 6 EPB. */
export type RecordKind = 0 | 2 | 3 | 6;
export const KIND_PCAP = 0;
/** pcapng obsolete Packet Block. */
export const KIND_PB = 2;
/** pcapng Simple Packet Block. */
export const KIND_SPB = 3;
/** pcapng Enhanced Packet Block. */
export const KIND_EPB = 6;

/**
 * One captured packet. `data` and `tail` are views into the reader's buffer: their bytes are
 * valid only until the next record is requested. Use `copyRecord` to keep one.
 */
export interface CaptureRecord {
  /** Captured bytes (caplen = data.length). */
  data: Uint8Array;
  /** Capture time in µs since the epoch (plus if_tsoffset), floored. SPBs repeat the previous record's time. */
  timeUs: number;
  /** Global interface index (0 for pcap); see `InterfaceInfo.id`. */
  interfaceId: number;
  /** Link type of that interface. */
  linkType: number;
  /** Original length on the wire. */
  origLen: number;
  /** Byte offset of the record / block in the input file (diagnostics). */
  offset: number;

  // --- opaque: what writeOriginal needs to reproduce the record byte for byte ---
  /** RecordKind: 0 pcap, 6 EPB, 3 SPB, 2 PB. */
  kind: RecordKind;
  /** pcap: seconds; pcapng: high 32 bits of the 64-bit timestamp (0 for SPB). */
  tsHigh: number;
  /** pcap: µs or ns fraction; pcapng: low 32 bits (0 for SPB). */
  tsLow: number;
  /** pcapng: the block's bytes after the packet data (padding + options) as in the file; empty for pcap. */
  tail: Uint8Array;
  /** PB only: the 16-bit drops count. */
  drops: number;
  /** Where `data` and `tail` lie in `reader.buffer` (valid as long as the views are; see `views`). */
  dataAt: number;
  dataLength: number;
  tailAt: number;
  tailLength: number;
}

export interface ReadOptions {
  /** Skip corrupt records when the reader can resynchronise (see reader.ts). Default false. */
  skipBad?: boolean;
  /** Called for each record skipped by `skipBad`. */
  onSkip?: (err: CaptureError) => void;
  /** Read chunk size in bytes (default 4 MiB). Grows only for a single larger record. */
  chunkSize?: number;
  /**
   * Called (from inside `next()`) just before the read buffer is refilled, which moves or
   * overwrites its bytes: the `data` and `tail` views of every record returned since the
   * previous call stay valid until this call returns. Lets a caller batch records without
   * copying them (use them up here). Must not call `next()`.
   */
  beforeRefill?: () => void;
  /**
   * Make the `data` and `tail` views (default true). A caller that reads the bytes through
   * `reader.buffer` and the record's `dataAt` / `tailAt` offsets turns them off: then reading a
   * record allocates nothing (`data` and `tail` stay empty).
   */
  views?: boolean;
}

/** A non-packet part of the input, handed to the writer so it can be copied in place. */
export interface HeaderEvent {
  kind: 'pcap-header' | 'shb' | 'idb' | 'other';
  /** Raw bytes as in the file (a view: valid only during the callback, unless from the preamble). */
  bytes: Uint8Array;
  /** Byte offset in the input. */
  offset: number;
  /** pcapng section index (0 for pcap). */
  section: number;
  littleEndian: boolean;
  /** For 'idb' and 'pcap-header': the interface just defined. */
  iface?: InterfaceInfo;
}

export type HeaderSink = (ev: HeaderEvent) => void;
