// Record helpers: the reusable record object readers fill, and copying one to keep it.

import type { CaptureRecord } from './types.js';

export const EMPTY = new Uint8Array(0);

/** A fresh record with every field set, so all records share one hidden class. */
export function blankRecord(): CaptureRecord {
  return {
    data: EMPTY,
    timeUs: 0,
    interfaceId: 0,
    linkType: 0,
    origLen: 0,
    offset: 0,
    kind: 0,
    tsHigh: 0,
    tsLow: 0,
    tail: EMPTY,
    drops: 0,
    dataAt: 0,
    dataLength: 0,
    tailAt: 0,
    tailLength: 0,
  };
}

/** Copy a record (data and tail into one new buffer) so it outlives the reader's next step. */
export function copyRecord(rec: CaptureRecord): CaptureRecord {
  const n = rec.data.length;
  const buf = new Uint8Array(n + rec.tail.length);
  buf.set(rec.data, 0);
  buf.set(rec.tail, n);
  return { ...rec, data: buf.subarray(0, n), tail: rec.tail.length ? buf.subarray(n) : EMPTY };
}
