// Format detection from the first four bytes.

import { closeSync, openSync, readSync } from 'node:fs';
import { fsError } from './errors.js';
import type { CaptureFormat } from './types.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAPNG_SHB = 0x0a0d0d0a;

export interface Sniffed {
  format: CaptureFormat;
  /** pcap only: byte order and resolution come from the magic. pcapng: from the SHB. */
  littleEndian: boolean;
  nanoseconds: boolean;
}

/** Classify the first bytes of a file; null when they are not a known magic. */
export function sniff(bytes: Uint8Array): Sniffed | null {
  if (bytes.length < 4) return null;
  const be = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const le = ((bytes[3] << 24) | (bytes[2] << 16) | (bytes[1] << 8) | bytes[0]) >>> 0;
  if (be === PCAPNG_SHB) return { format: 'pcapng', littleEndian: true, nanoseconds: false };
  if (be === PCAP_MAGIC_US) return { format: 'pcap', littleEndian: false, nanoseconds: false };
  if (le === PCAP_MAGIC_US) return { format: 'pcap', littleEndian: true, nanoseconds: false };
  if (be === PCAP_MAGIC_NS) return { format: 'pcap', littleEndian: false, nanoseconds: true };
  if (le === PCAP_MAGIC_NS) return { format: 'pcap', littleEndian: true, nanoseconds: true };
  return null;
}

/**
 * 'pcap', 'pcapng', or null for anything else (including files shorter than 4 bytes).
 * A path that cannot be read throws a CaptureError.
 */
export function detectFormat(pathOrBytes: string | Uint8Array): CaptureFormat | null {
  if (typeof pathOrBytes !== 'string') return sniff(pathOrBytes)?.format ?? null;
  const head = new Uint8Array(4);
  let fd: number;
  try {
    fd = openSync(pathOrBytes, 'r');
  } catch (err) {
    throw fsError(pathOrBytes, 'unreadable', 'open', err);
  }
  try {
    const n = readSync(fd, head, 0, 4, 0);
    return sniff(head.subarray(0, n))?.format ?? null;
  } catch (err) {
    throw fsError(pathOrBytes, 'unreadable', 'read', err);
  } finally {
    closeSync(fd);
  }
}
