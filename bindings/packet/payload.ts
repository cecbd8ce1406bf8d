// The stream payload pattern: the byte a test stream carries at each TCP sequence number.

/** Period of the payload pattern; divides 2^32 so the pattern is consistent across sequence wrap. */
export const PAYLOAD_PATTERN_PERIOD = 65536;

/** Pattern byte for k in [0, 65536): a murmur3-style mix of k + 1, low byte. */
function patternByte(k: number): number {
  let x = Math.imul(k + 1, 0x9e3779b1);
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return x & 0xff;
}

// Two periods back to back, so any run of up to 65536 bytes is one contiguous slice.
const PATTERN = new Uint8Array(2 * PAYLOAD_PATTERN_PERIOD);
for (let k = 0; k < PAYLOAD_PATTERN_PERIOD; k++) {
  PATTERN[k] = patternByte(k);
  PATTERN[k + PAYLOAD_PATTERN_PERIOD] = PATTERN[k];
}

/** The byte a stream carries at sequence number `seq` (any integer; taken mod 2^32). */
export function payloadByte(seq: number): number {
  return PATTERN[(seq >>> 0) & 0xffff];
}

/** Write the pattern for sequence numbers [seq, seq + length) into dst at `at`. */
export function fillPayload(dst: Uint8Array, at: number, seq: number, length: number): void {
  let s = seq >>> 0;
  let left = length;
  while (left > 0) {
    const n = Math.min(left, PAYLOAD_PATTERN_PERIOD);
    const k = s & 0xffff;
    dst.set(PATTERN.subarray(k, k + n), at);
    at += n;
    left -= n;
    s = (s + n) >>> 0;
  }
}

/** A new array holding the pattern for [seq, seq + length). */
export function expectedPayload(seq: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  fillPayload(out, 0, seq, length);
  return out;
}

/** Index of the first byte of `payload` that differs from the pattern starting at `seq`, or -1. */
export function payloadMismatch(payload: Uint8Array, seq: number): number {
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] !== payloadByte(seq + i)) return i;
  }
  return -1;
}

/** True if `payload` is exactly the pattern starting at sequence number `seq`. */
export function payloadMatches(payload: Uint8Array, seq: number): boolean {
  return payloadMismatch(payload, seq) === -1;
}
