import fc from 'fast-check';
import { fuzzCaseArb, bytesCaseArb } from './arbitraries.js';
import { checkCase, tally, describeCase } from './oracle.js';
const seed = Number(process.argv[2] ?? 1);
const runs = Number(process.argv[3] ?? 100);
const which = process.argv[4] ?? 'main';
const t0 = performance.now();
const arb = which === 'bytes' ? bytesCaseArb() : fuzzCaseArb();
const r = await fc.check(fc.asyncProperty(arb, async (c) => { await checkCase(c); }), { seed, numRuns: runs, endOnFailure: process.argv[5] === 'noshrink' });
console.log('time', ((performance.now() - t0) / 1000).toFixed(1), 's; cases', tally.cases, 'frames', tally.frames);
if (r.failed) {
  console.log('FAILED seed', r.seed, 'path', r.counterexamplePath, 'shrinks', r.numShrinks);
  console.log(String((r.errorInstance as Error)?.message ?? r.error).slice(0, 3000));
  console.log(describeCase(r.counterexample![0] as any).slice(0, 6000));
}
const { coverage } = await import('./oracle.js');
console.log(JSON.stringify(coverage));
