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

/** Ones-complement sum of big-endian 16-bit words of bytes[start, end), folded. */
export function sum16(b: Uint8Array, start: number, end: number): number {
  const even = end - ((end - start) & 1);
  let total = 0;
  let i = start;
  while (i < even) {
    // 16 Ki words per chunk keep the accumulator below 2^31 (a small integer for V8).
    const chunkEnd = Math.min(even, i + 32768);
    let s = 0;
    for (; i + 8 <= chunkEnd; i += 8) {
      s += ((b[i] << 8) | b[i + 1]) + ((b[i + 2] << 8) | b[i + 3]) +
        ((b[i + 4] << 8) | b[i + 5]) + ((b[i + 6] << 8) | b[i + 7]);
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
