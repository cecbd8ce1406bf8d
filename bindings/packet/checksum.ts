// RFC 1071 checksums for the frame kit, written plainly (an independent judge of the engine's).

/**
 * RFC 1071 Internet checksum sum over bytes[start, end): big-endian 16-bit words, an odd last byte
 * is padded with a zero on the right, carries folded back in. Returns the folded 16-bit
 * ones-complement SUM (not inverted). `initial` is added first (e.g. a pseudo-header sum).
 * The checksum field value is `~sum & 0xffff`; data that includes a correct checksum sums to 0xffff.
 */
export function internetChecksum(bytes: Uint8Array, start: number = 0, end: number = bytes.length, initial: number = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return sum;
}

/** A checksum field value that certainly fails verification, given the correct one. */
export function spoilChecksum(correct: number): number {
  // Inverting gives the other ones-complement zero when correct is 0x0000 / 0xffff, which still verifies.
  if (correct === 0 || correct === 0xffff) return correct ^ 1;
  return correct ^ 0xffff;
}

/** Sum of the TCP/UDP pseudo-header (RFC 793 / RFC 8200 §8.1), not inverted. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, l4Length: number): number {
  if (src.length === 4) {
    const ph = new Uint8Array(12);
    ph.set(src, 0);
    ph.set(dst, 4);
    ph[8] = 0;
    ph[9] = protocol;
    ph[10] = (l4Length >>> 8) & 0xff;
    ph[11] = l4Length & 0xff;
    return internetChecksum(ph, 0, 12);
  }
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  ph[32] = (l4Length >>> 24) & 0xff;
  ph[33] = (l4Length >>> 16) & 0xff;
  ph[34] = (l4Length >>> 8) & 0xff;
  ph[35] = l4Length & 0xff;
  ph[39] = protocol;
  return internetChecksum(ph, 0, 40);
}
