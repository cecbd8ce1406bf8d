// RFC 1071 ones-complement arithmetic (twin of assembly/checksum.ts).
// Sums are kept folded to 16 bits between steps; only their value mod 0xffff (and that they are
// non-zero) matters, so the WASM core and this twin produce the same checksum bytes.

/** Fold a sum < 2^32 to 16 bits with end-around carry. */
export function fold(x: number): number {
  x = (x & 0xffff) + (x >>> 16);
  return (x & 0xffff) + (x >>> 16);
}

/** Byte-swap a folded sum: the sum of the same bytes placed at an odd offset. */
export function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/** Below this many bytes the byte loop wins (no view lookup, no alignment head). */
const WORD_PATH_MIN = 64;
/** Words summed as doubles between reductions: 2^20 × (2^32 − 1) < 2^53 stays exact. */
const WORDS_PER_CHUNK = 1 << 20;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// One cached Uint32Array over the last ArrayBuffer seen: frames read from a capture chunk (and
// the ring) share a buffer, so the view is made once, not per call.
let viewBuffer: ArrayBufferLike | null = null;
let view32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function words(buffer: ArrayBufferLike, lastWord: number): Uint32Array<ArrayBufferLike> {
  if (buffer !== viewBuffer || lastWord > view32.length) {
    viewBuffer = buffer;
    view32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
  }
  return view32;
}

/**
 * Ones-complement sum of big-endian 16-bit words of bytes[start, end), folded.
 *
 * Long ranges are read as aligned little-endian u32 words and summed whole, as doubles (exact):
 * 2^16 ≡ 1 mod 0xffff, so a word counts as its two 16-bit halves, each byte-swapped. Mod 0xffff
 * a byte weighs 256 at an even and 1 at an odd position of the range; the word sum weighs bytes
 * by their *absolute* address instead (byte 0 + 256 × byte 1 …), so it is swapped once for an
 * even absolute start and not at all for an odd one (256 × 256 ≡ 1).
 */
export function sum16(b: Uint8Array, start: number, end: number): number {
  if (end - start < WORD_PATH_MIN || !LITTLE_ENDIAN) return sum16Bytes(b, start, end);
  const base = b.byteOffset;
  // Head: bytes up to a 4-byte aligned address, weighted by absolute parity (even → high byte).
  let i = start;
  let acc = 0;
  for (; ((base + i) & 3) !== 0; i++) acc += ((base + i) & 1) === 0 ? b[i] << 8 : b[i];
  const first = (base + i) >>> 2;
  const last = first + ((end - i) >>> 2);
  const u = words(b.buffer, last);
  let total = 0;
  for (let k = first; k < last; ) {
    const chunkEnd = Math.min(last, k + WORDS_PER_CHUNK);
    let s0 = 0;
    let s1 = 0;
    for (; k + 8 <= chunkEnd; k += 8) {
      s0 += u[k] + u[k + 1] + u[k + 2] + u[k + 3];
      s1 += u[k + 4] + u[k + 5] + u[k + 6] + u[k + 7];
    }
    for (; k < chunkEnd; k++) s0 += u[k];
    const s = s0 + s1;
    const r = s % 0xffff; // a non-zero sum ≡ 0 stays non-zero (0xffff), as the byte loop's does
    total = fold(total + (r === 0 && s !== 0 ? 0xffff : r));
  }
  i += (last - first) << 2;
  acc = fold(acc) + swap16(total);
  // Tail: the last 0–3 bytes, weighted like the head.
  for (; i < end; i++) acc += ((base + i) & 1) === 0 ? b[i] << 8 : b[i];
  acc = fold(acc);
  return ((base + start) & 1) === 0 ? acc : swap16(acc);
}

/** The plain byte loop: short ranges (headers) and big-endian hosts. */
function sum16Bytes(b: Uint8Array, start: number, end: number): number {
  const even = end - ((end - start) & 1);
  let total = 0;
  let i = start;
  while (i < even) {
    // 16 Ki words per chunk keep the accumulator below 2^31 (a small integer for V8).
    const chunkEnd = Math.min(even, i + 32768);
    let s = 0;
    for (; i + 8 <= chunkEnd; i += 8) {
      s += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]) + ((b[i + 4] << 8) | b[i + 5]) + ((b[i + 6] << 8) | b[i + 7]);
    }
    for (; i < chunkEnd; i += 2) s += (b[i] << 8) | b[i + 1];
    total = fold(total + fold(s));
  }
  if (i < end) total = fold(total + (b[i] << 8));
  return total;
}

/** The 16-bit value to store in a checksum field so that the covered bytes sum to 0xffff. */
export function checksumField(sum: number): number {
  return 0xffff - fold(sum);
}
