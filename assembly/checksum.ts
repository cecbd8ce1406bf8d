// RFC 1071 ones-complement arithmetic (twin: bindings/twin/checksum.ts). Sums stay folded to
// 16 bits between steps; only their value mod 0xffff (and non-zero-ness) matters, so the twin's
// scalar code and this SIMD kernel write the same checksum bytes.

/** Fold a sum < 2^32 to 16 bits with end-around carry. */
@inline export function fold(x: u32): u32 {
  x = (x & 0xffff) + (x >> 16);
  return (x & 0xffff) + (x >> 16);
}

/** Byte-swap a folded sum: the sum of the same bytes placed at an odd offset. */
@inline export function swap16(x: u32): u32 {
  return ((x & 0xff) << 8) | (x >> 8);
}

/** The value for a checksum field so that the covered bytes sum to 0xffff. */
@inline export function checksumField(sum: u32): u32 {
  return 0xffff - fold(sum);
}

/**
 * Ones-complement sum of big-endian 16-bit words of [ptr, ptr+len), folded. Little-endian v128
 * loads sum byte-swapped words; widening pairwise adds into four i32x4 accumulators cannot
 * overflow for len < 2^20, and one swap at the end restores network order.
 */
export function sum16(ptr: usize, len: i32): u32 {
  return sumRange(ptr, 0, len, false);
}

/**
 * sum16 of [src, src+len) while copying it to dst (no overlap): one pass over the payload both
 * verifies it (714) and places it in the output area (745).
 */
export function sum16Copy(src: usize, dst: usize, len: i32): u32 {
  return sumRange(src, dst, len, true);
}

/** The loop behind both (inlined with a constant `copy`, so each keeps only its own stores). */
@inline function sumRange(src: usize, dst: usize, len: i32, copy: bool): u32 {
  let p = src;
  let q = dst;
  const end = src + <usize>len;
  let a0 = i32x4.splat(0);
  let a1 = i32x4.splat(0);
  let a2 = i32x4.splat(0);
  let a3 = i32x4.splat(0);
  while (p + 64 <= end) {
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    if (copy) {
      v128.store(q, v0);
      v128.store(q, v1, 16);
      v128.store(q, v2, 32);
      v128.store(q, v3, 48);
    }
    a0 = i32x4.add(a0, i32x4.extadd_pairwise_i16x8_u(v0));
    a1 = i32x4.add(a1, i32x4.extadd_pairwise_i16x8_u(v1));
    a2 = i32x4.add(a2, i32x4.extadd_pairwise_i16x8_u(v2));
    a3 = i32x4.add(a3, i32x4.extadd_pairwise_i16x8_u(v3));
    p += 64;
    q += 64;
  }
  while (p + 16 <= end) {
    const v = v128.load(p);
    if (copy) v128.store(q, v);
    a0 = i32x4.add(a0, i32x4.extadd_pairwise_i16x8_u(v));
    p += 16;
    q += 16;
  }
  a0 = i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3));
  let s: u64 = <u64><u32>i32x4.extract_lane(a0, 0) + <u64><u32>i32x4.extract_lane(a0, 1) +
    <u64><u32>i32x4.extract_lane(a0, 2) + <u64><u32>i32x4.extract_lane(a0, 3);
  while (p + 4 <= end) {
    const w = load<u32>(p);
    if (copy) store<u32>(q, w);
    s += <u64>w;
    p += 4;
    q += 4;
  }
  if (p + 2 <= end) {
    const w = load<u16>(p);
    if (copy) store<u16>(q, w);
    s += <u64>w;
    p += 2;
    q += 2;
  }
  if (p < end) { // a lone last byte is the high byte of its network word
    const w = load<u8>(p);
    if (copy) store<u8>(q, w);
    s += <u64>w;
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return swap16(<u32>s);
}

/**
 * sum16 for short ranges whose length is a multiple of 4 (IP and TCP headers, addresses): plain
 * u32 loads, cheaper than the SIMD set-up for 8 to 60 bytes. Same result as sum16.
 */
export function sumWords(ptr: usize, len: i32): u32 {
  let s: u64 = 0;
  for (let i: usize = 0; i < <usize>len; i += 4) s += <u64>load<u32>(ptr + i);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return swap16(<u32>s);
}
