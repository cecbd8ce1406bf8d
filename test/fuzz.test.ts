// The fuzzer in `npm test`: fixed seeds, bounded size, ≥ 200 000 frames per run through
// both engines and every CONTRACT §6 invariant (test/fuzz/oracle.ts). Longer sessions with fresh seeds:
// `npm run fuzz -- --time 10m`. A failure prints its seed, path, shrunk case and replay command.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CAUSE_NO_PAYLOAD, CAUSE_TABLE_FULL, FRAME_UNLIMITED } from '../bindings/abi.js';
import { Aggregates } from '../bindings/twin/aggregate.js';
import { TwinCore } from '../bindings/twin/engine.js';
import { bytesCaseArb, fuzzCaseArb, type FuzzCase } from './fuzz/arbitraries.js';
import { checkCase, coverage, describeCase, tally } from './fuzz/oracle.js';

/** Seeds and sizes of the CI run: 283 500 frames, measured 18–30 s on the 2-core box (alone or within npm test). */
const MAIN = { seed: 0x4c524f31, numRuns: 1150 };
const BYTES = { seed: 0x4c524f32, numRuns: 500 };
const MIN_FRAMES = 200_000;

async function fuzz(name: 'main' | 'bytes', arb: fc.Arbitrary<FuzzCase>, params: { seed: number; numRuns: number }) {
  const r = await fc.check(
    fc.asyncProperty(arb, async (c) => {
      await checkCase(c);
    }),
    params,
  );
  if (r.failed) {
    const error = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
    throw new Error(
      `fuzz (${name}) failed: seed ${r.seed} path ${r.counterexamplePath} (${r.numShrinks} shrinks)\n${error}\n` +
        `shrunk case: ${r.counterexample ? describeCase(r.counterexample[0]) : '(none)'}\n` +
        `replay: npm run fuzz -- --replay ${r.seed}:${r.counterexamplePath} --arb ${name}`,
    );
  }
}

describe('fuzz: both engines, every invariant', () => {
  const started = performance.now();

  it('valid flows, mutated: options, link types, clocks, batch splits, sinks, views', async () => {
    await fuzz('main', fuzzCaseArb(), MAIN);
  }, 300_000);

  it('random bytes on every link type', async () => {
    await fuzz('bytes', bytesCaseArb(), BYTES);
  }, 120_000);

  it(`tried at least ${MIN_FRAMES} frames`, () => {
    expect(tally.frames).toBeGreaterThanOrEqual(MIN_FRAMES);
  });

  afterAll(() => {
    const s = (performance.now() - started) / 1000;
    console.log(
      `fuzz: ${tally.frames} frames in ${tally.cases} cases, ${s.toFixed(1)} s; ` +
        `aggregates of ≥ 2 segments ${coverage.aggregatesOf2Plus}, tableFull ${coverage.tableFull}, clockClamped ${coverage.clockClamped}; ` +
        `reasons ${JSON.stringify(coverage.reasons)}; pass-through causes ${JSON.stringify(coverage.passThroughCauses)}`,
    );
  });
});

// The oracle is not vacuous: plant a bug in the TS twin (at run time, restored afterwards), run
// both sides of the oracle on the twin, so only the invariants and the output model can see it.
describe('oracle self-test: planted bugs are caught', () => {
  type Proto = Record<string, (...args: any[]) => any>;
  const A = Aggregates.prototype as unknown as Proto;
  const T = TwinCore.prototype as unknown as Proto;
  const plants: Record<string, [Proto, string, (orig: (...args: any[]) => any) => (...args: any[]) => any]> = {
    // Forget to byte-swap the sum of a payload placed at an odd offset.
    'odd-offset checksum': [
      A,
      'append',
      (orig) =>
        function (this: any, f: number, p: unknown, b: unknown) {
          const odd = this.payloadLen[f] & 1;
          this.payloadLen[f] -= odd;
          const joined = orig.call(this, f, p, b);
          this.payloadLen[f] += odd;
          return joined;
        },
    ],
    // Stamp an AgTimer send 1 µs after its deadline.
    'late ag-timer': [
      T,
      'send',
      (orig) =>
        function (this: unknown, f: number, reason: number, t: number) {
          return orig.call(this, f, reason, reason === 3 ? t + 1 : t);
        },
    ],
    // Lose a three-segment aggregate sent for THRESHOLD.
    'lost aggregate': [
      T,
      'send',
      (orig) =>
        function (this: any, f: number, reason: number, t: number) {
          if (this.agg.segments[f] === 3 && reason === 1) {
            this.agg.segments[f] = 0;
            this.agTimer.stop(f);
            return;
          }
          return orig.call(this, f, reason, t);
        },
    ],
    // Write a wrong window into multi-segment aggregates.
    'wrong window': [
      A,
      'finish',
      (orig) =>
        function (this: any, f: number) {
          this.lastWindow[f] ^= 1;
          return orig.call(this, f);
        },
    ],
    // seed preset: let a segment join whose flags differ in PSH.
    'seed ignores PSH': [
      A,
      'mismatch',
      (orig) =>
        function (this: any, f: number, p: any, b: unknown) {
          const saved = p.flags;
          if (!this.gro) p.flags = (p.flags & ~8) | (this.frameBytes(f)[this.firstFrame(f) + p.l4 + 13] & 8);
          const r = orig.call(this, f, p, b);
          p.flags = saved;
          return r;
        },
    ],
    // Aggregate segments with TTL 0.
    'TTL 0 aggregated': [
      A,
      'ownFieldsForbid',
      (orig) =>
        function (this: unknown, p: any, b: Uint8Array) {
          const at = p.ipVersion === 4 ? p.l3 + 8 : p.l3 + 7;
          if (b[at] !== 0) return orig.call(this, p, b);
          b[at] = 1;
          const r = orig.call(this, p, b);
          b[at] = 0;
          return r;
        },
    ],
    // A pass-through for a full table counted under another cause (CONTRACT §2 causes).
    'table full counted as no payload': [
      T,
      'passInput',
      (orig) =>
        function (this: unknown, length: number, mss: number, cause: number) {
          return orig.call(this, length, mss, cause === CAUSE_TABLE_FULL ? CAUSE_NO_PAYLOAD : cause);
        },
    ],
    // maxFrame forgotten when an aggregate starts (its size limit): it grows past maxFrame.
    'maxFrame ignored by the size limit': [
      A,
      'start',
      (orig) =>
        function (this: any, f: number, p: unknown, b: unknown) {
          const saved = this.maxFrame;
          this.maxFrame = FRAME_UNLIMITED;
          const r = orig.call(this, f, p, b);
          this.maxFrame = saved;
          return r;
        },
    ],
    // What a packet says about itself (CONTRACT §5): an aggregate names the frame after its first.
    'inputIndex one late': [
      T,
      'send',
      (orig) =>
        function (this: any, f: number, reason: number, t: number) {
          if (this.agg.segments[f] >= 2) this.pool.firstIndex[this.pool.bufferStart(f)] += 1;
          return orig.call(this, f, reason, t);
        },
    ],
    // fixedIpId stays set when a later segment's IPv4 ID differs.
    'fixedIpId never cleared': [
      A,
      'append',
      (orig) =>
        function (this: any, f: number, p: unknown, b: unknown) {
          const fixed = this.fixedId[f];
          const joined = orig.call(this, f, p, b);
          this.fixedId[f] = fixed;
          return joined;
        },
    ],
    // A pass-through claims its checksum was verified.
    'verified pass-through': [
      T,
      'describe',
      (orig) =>
        function (this: unknown, ...args: number[]) {
          if (args[5] === 0) args[9] |= 2; // reason pass-through: OUT_VERIFIED
          return orig.apply(this, args);
        },
    ],
    // firstPendingIndex() forgets the pending aggregates: an in-order writer would write too early.
    'firstPendingIndex ignores pending': [
      T,
      'firstPendingIndex',
      () =>
        function (this: any) {
          return this.frameIndex;
        },
    ],
    // gro: an IPv4 ID off the mode the second segment set joins anyway (the ID rule of CONTRACT §4).
    'IPv4 ID ignored': [
      A,
      'sameIpFields',
      (orig) =>
        function (this: any, f: number, a: Uint8Array, l3: number, b: unknown, p: any) {
          if (p.ipVersion !== 4) return orig.call(this, f, a, l3, b, p);
          const saved = p.ipId;
          p.ipId = (((a[l3 + 4] << 8) | a[l3 + 5]) + (this.fixedId[f] ? 0 : this.segments[f])) & 0xffff;
          const same = orig.call(this, f, a, l3, b, p);
          p.ipId = saved;
          return same;
        },
    ],
    // throughput: an ACK behind the last joined one joins anyway.
    'throughput takes an ACK going back': [
      A,
      'mismatch',
      (orig) =>
        function (this: any, f: number, p: any, b: unknown) {
          if (!this.throughput) return orig.call(this, f, p, b);
          const at = this.pool.bufferPtr(f) + this.l4[f] + 8;
          const h = this.buffers;
          const ack = ((h[at] << 24) | (h[at + 1] << 16) | (h[at + 2] << 8) | h[at + 3]) >>> 0;
          const saved = p.ack;
          if (((p.ack - ack) | 0) < 0) p.ack = ack;
          const r = orig.call(this, f, p, b);
          p.ack = saved;
          return r;
        },
    ],
    // throughput: the aggregate keeps an earlier TSval / TSecr instead of the last segment's.
    'throughput forgets the last timestamps': [
      A,
      'append',
      (orig) =>
        function (this: any, f: number, p: unknown, b: unknown) {
          const at = this.pool.bufferPtr(f) + this.l4[f] + 20;
          const options = this.buffers.slice(at, at + this.tcpHdrLen[f] - 20);
          const joined = orig.call(this, f, p, b);
          if (joined) this.buffers.set(options, at);
          return joined;
        },
    ],
  };

  for (const [name, [proto, method, plant]] of Object.entries(plants)) {
    it(name, async () => {
      const orig = proto[method];
      proto[method] = plant(orig);
      try {
        const r = await fc.check(
          fc.asyncProperty(fuzzCaseArb(), async (c) => {
            await checkCase({ ...c, batched: 'ts' }, { single: 'ts' });
          }),
          { seed: 4, numRuns: 500, endOnFailure: true },
        );
        expect(r.failed, `planted bug "${name}" went unnoticed`).toBe(true);
      } finally {
        proto[method] = orig;
      }
    }, 60_000);
  }
});
