import { createEngine } from '../../bindings/index.js';
import { tcpFrame } from '../../bindings/frames.js';
let t0 = performance.now();
for (let i = 0; i < 200; i++) { const e = await createEngine({ engine: 'wasm', maxFlows: 4 }); e.close(); }
console.log('wasm create ms', (performance.now() - t0) / 200);
t0 = performance.now();
for (let i = 0; i < 200; i++) { const e = await createEngine({ engine: 'ts', maxFlows: 4 }); e.close(); }
console.log('ts create ms', (performance.now() - t0) / 200);
const frames = Array.from({ length: 1000 }, (_, i) => tcpFrame({ seq: 1000 + i * 1448, payload: i % 7 === 0 ? 1448 : 500 }));
for (const kind of ['wasm', 'ts'] as const) {
  const e = await createEngine({ engine: kind, maxFlows: 4 });
  t0 = performance.now();
  for (let r = 0; r < 20; r++) { for (let i = 0; i < frames.length; i++) e.push(frames[i], r * 1e6 + i); e.drain(); }
  console.log(kind, 'us/frame', (performance.now() - t0) * 1000 / 20000);
}
