import { sum16 as cur } from '../bindings/twin/checksum.js';
function fold(x: number) { x = (x & 0xffff) + (x >>> 16); return (x & 0xffff) + (x >>> 16); }
function swap16(x: number) { return ((x & 0xff) << 8) | (x >>> 8); }
let cb: ArrayBufferLike | null = null; let cu = new Uint32Array(0);
function u32(buf: ArrayBufferLike) { if (buf !== cb) { cb = buf; cu = new Uint32Array(buf, 0, buf.byteLength >>> 2); } return cu; }
function vA(b: Uint8Array, start: number, end: number): number {
  const off = b.byteOffset;
  let i = start; let acc = 0; // weights by absolute parity: even abs -> <<8
  while (((off + i) & 3) !== 0 && i < end) { acc += ((off + i) & 1) ? b[i] : b[i] << 8; i++; }
  const w0 = (off + i) >> 2; const nw = (end - i) >> 2; const w1 = w0 + nw;
  const u = u32(b.buffer);
  let s = 0; let k = w0;
  let total = 0;
  while (k < w1) {
    const ce = Math.min(w1, k + 8192);
    let s0 = 0, s1 = 0;
    for (; k + 4 <= ce; k += 4) {
      const a = u[k], c = u[k+1], d = u[k+2], e = u[k+3];
      s0 += (a & 0xffff) + (a >>> 16) + (c & 0xffff) + (c >>> 16);
      s1 += (d & 0xffff) + (d >>> 16) + (e & 0xffff) + (e >>> 16);
    }
    for (; k < ce; k++) { const a = u[k]; s0 += (a & 0xffff) + (a >>> 16); }
    total = fold(total + fold(s0) + fold(s1));
  }
  i += nw << 2;
  // LE halves sum = swapped absolute-even-weighted sum
  acc = fold(acc) + swap16(fold(total));
  for (; i < end; i++) acc += ((off + i) & 1) ? b[i] : b[i] << 8;
  acc = fold(acc);
  return ((off + start) & 1) ? swap16(acc) : acc;
}
function vB(b: Uint8Array, start: number, end: number): number {
  // mask trick: sum even/odd bytes in 16-bit lanes
  const off = b.byteOffset;
  let i = start; let acc = 0;
  while (((off + i) & 3) !== 0 && i < end) { acc += ((off + i) & 1) ? b[i] : b[i] << 8; i++; }
  const w0 = (off + i) >> 2; const nw = (end - i) >> 2; const w1 = w0 + nw;
  const u = u32(b.buffer);
  let k = w0; let total = 0;
  while (k < w1) {
    const ce = Math.min(w1, k + 128); // lanes: 255*2*128 < 65536
    let lo = 0, hi = 0;
    for (; k + 2 <= ce; k += 2) { const a = u[k], c = u[k+1]; lo += (a & 0x00ff00ff) + (c & 0x00ff00ff); hi += ((a >>> 8) & 0x00ff00ff) + ((c >>> 8) & 0x00ff00ff); }
    for (; k < ce; k++) { const a = u[k]; lo += a & 0x00ff00ff; hi += (a >>> 8) & 0x00ff00ff; }
    // lo lanes: bytes at abs 4q and 4q+2 (even) ; hi lanes: odd bytes
    total += ((lo & 0xffff) + (lo >>> 16)) * 256 + (hi & 0xffff) + (hi >>> 16);
    if (total > 0x3fffffff) total = fold(total);
  }
  i += nw << 2;
  acc = fold(acc) + fold(fold(total));
  for (; i < end; i++) acc += ((off + i) & 1) ? b[i] : b[i] << 8;
  acc = fold(acc);
  return ((off + start) & 1) ? swap16(acc) : acc;
}
const big = new Uint8Array(1 << 20); for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761 >>> 13) & 255;
// correctness
for (let t = 0; t < 200000; t++) {
  const s = (Math.random() * 5000) | 0, e = s + ((Math.random() * 3000) | 0);
  const sub = (t & 1) ? big.subarray((Math.random()*7)|0) : big;
  const r = cur(sub, s, e) % 0xffff, a = vA(sub, s, e) % 0xffff, bb = vB(sub, s, e) % 0xffff;
  if (r !== a || r !== bb) { console.log('MISMATCH', s, e, r, a, bb); process.exit(1); }
}
const fns: Record<string, (b: Uint8Array, s: number, e: number) => number> = { cur, vA, vB };
for (let rep = 0; rep < 3; rep++) for (const [n, f] of Object.entries(fns)) {
  const N = 200000; let x = 0; const t0 = process.hrtime.bigint();
  for (let j = 0; j < N; j++) { const s = 66 + ((j & 255) * 1514); x += f(big, s, s + 1448); }
  const ns = Number(process.hrtime.bigint() - t0) / N; console.log(n, ns.toFixed(1), x);
}
