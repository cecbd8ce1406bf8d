import { sum16 as nw } from '../bindings/twin/checksum.js';
import { sum16 as old } from './scratch-old.js';
const big = new Uint8Array(200000);
let bad = 0;
for (let mode = 0; mode < 4; mode++) {
  for (let i = 0; i < big.length; i++) big[i] = mode === 0 ? (Math.random() * 256) | 0 : mode === 1 ? 0 : mode === 2 ? 255 : (Math.random() < 0.5 ? 0 : 255);
  for (let t = 0; t < 100000; t++) {
    const s = (Math.random() * 3000) | 0, e = s + ((Math.random() * (t % 10 === 0 ? 150000 : 3000)) | 0);
    const sub = big.subarray((Math.random() * 9) | 0);
    const ee = Math.min(e, sub.length);
    if (old(sub, s, ee) !== nw(sub, s, ee)) { bad++; if (bad < 5) console.log('diff', mode, s, ee, old(sub, s, ee), nw(sub, s, ee)); }
  }
}
// separate buffers alternate
for (let t = 0; t < 10000; t++) { const a = new Uint8Array(100 + (t % 50)); a.fill(t & 255); if (old(a, 1, a.length) !== nw(a, 1, a.length)) bad++; }
console.log('bad', bad);
