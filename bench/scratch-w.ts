import * as W from './workloads.js';
let t = performance.now();
const ws = W.comparisonWorkloads('full');
console.log('gen ms', performance.now() - t);
for (const w of ws) console.log(w.name, w.frames.length, w.bytes, w.spanUs, w.nonCandidates.toFixed(3), w.maxFlows);
t = performance.now();
const keys = W.collidingKeys(W.KNOWN_SEED, 1000, 1024);
console.log('craft ms', performance.now() - t, W.checkKeyLayout(keys[0]), W.checkKeyLayout(keys[5]));
console.log(W.probeStats(keys, W.KNOWN_SEED, 1024), W.probeStats(keys, 12345, 1024), W.probeStats(W.randomKeys(1000), 12345, 1024));
