// Hostile capture files through the CLI as a user runs it: valid captures (pcap µs and ns, both
// byte orders, pcapng with options, several interfaces) mutated at random — flipped bytes,
// length fields set to extreme values, truncations, spliced and deleted slices — then given to
// `lro coalesce` (with and without --skip-bad) and `lro inspect`. Whatever the bytes, the CLI
// ends with exit 0, or exit 1 and one line on stderr naming the file (never an internal error or
// a stack trace), and never leaves an output or temporary file behind on failure.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lro, mergeInterfaces, readRecords } from './helpers/cli.js';

let dir: string;
const p = (name: string) => join(dir, name);
const seeds: Uint8Array[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lro-hostile-'));
  const traffic = ['--packets', '120', '--flows', '3', '--noise', '0.1', '--ipv6', '0.3', '--ack-every', '3'];
  const variants: string[][] = [
    ['a.pcap'],
    ['b.pcap', '--resolution', 'ns', '--big-endian', '--vlan', '7'],
    ['c.pcapng', '--packet-comments'],
    ['d.pcapng', '--big-endian', '--link-type', '113', '--resolution', 'ns'],
  ];
  for (const [name, ...extra] of variants) {
    const r = await lro('generate', '-o', p(name), '-q', '--seed', String(seeds.length + 1), ...traffic, ...extra);
    expect(r.code, r.err).toBe(0);
    seeds.push(readFileSync(p(name)));
  }
  mergeInterfaces(p('multi.pcapng'), [p('c.pcapng'), p('d.pcapng')]);
  seeds.push(readFileSync(p('multi.pcapng')));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const INTERESTING = [0, 1, 3, 4, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'u32'; at: number; value: number; le: boolean }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'splice'; from: number; at: number; length: number };

// Offsets are fractions of the file, so one mutation fits any seed.
const frac = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1e6);
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: frac, bit: fc.integer({ min: 0, max: 7 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('u32' as const), at: frac, value: fc.constantFrom(...INTERESTING), le: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: frac }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: frac, length: fc.integer({ min: 1, max: 64 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('splice' as const), from: frac, at: frac, length: fc.integer({ min: 1, max: 200 }) }),
  },
);

function mutate(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of mutations) {
    const at = Math.floor(m.at * b.length);
    if (m.kind === 'flip') b[at] ^= 1 << m.bit;
    else if (m.kind === 'u32' && at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, m.value, m.le);
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'delete') b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + m.length)]);
    else if (m.kind === 'splice') {
      const from = Math.floor(m.from * b.length);
      b = new Uint8Array([...b.subarray(0, at), ...b.subarray(from, from + m.length), ...b.subarray(at)]);
    }
  }
  return b;
}

/** Exit 0, or exit 1 with one line on stderr that names `file` (a file error, not a crash). */
function expectCleanEnd(r: { code: number; err: string }, files: string[], what: string): void {
  expect([0, 1], `${what}: exit ${r.code}: ${r.err}`).toContain(r.code);
  if (r.code === 0) return;
  const lines = r.err.trim().split('\n');
  expect(lines, what).toHaveLength(1);
  expect(
    files.some((f) => lines[0].startsWith(`${f}:`)),
    `${what}: ${lines[0]}`,
  ).toBe(true);
}

describe('hostile capture files', () => {
  it('mutated pcap and pcapng files: a clean end, and no output left on failure', async () => {
    let runs = 0;
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 4 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (which, mutations, skipBad) => {
          const name = which >= 2 ? 'm.pcapng' : 'm.pcap';
          const input = p(name);
          const output = p(`out-${name}`);
          writeFileSync(input, mutate(seeds[which], mutations));
          const what = `seed ${which}, ${JSON.stringify(mutations)}${skipBad ? ', --skip-bad' : ''}`;
          const r = await lro('coalesce', input, '-o', output, '--json', ...(skipBad ? ['--skip-bad'] : []));
          expectCleanEnd(r, [input, output], what);
          runs++;
          if (r.code === 0) {
            // The output is a capture our own reader reads through: one record per packet sent.
            const stats = JSON.parse(r.out) as { packetsOut: number };
            expect(readRecords(output).records.length, what).toBe(stats.packetsOut);
            rmSync(output);
          } else {
            failures++;
            expect(existsSync(output), what).toBe(false);
          }
          expect(
            readdirSync(dir).filter((f) => f.includes('.tmp-')),
            what,
          ).toEqual([]);
          expectCleanEnd(await lro('inspect', input), [input], `inspect, ${what}`);
        },
      ),
      { seed: 20261125, numRuns: 250 },
    );
    // The mutations reach both outcomes: the property is not checking only one of them.
    expect(runs).toBe(250);
    expect(failures).toBeGreaterThan(10);
    expect(failures).toBeLessThan(240);
  }, 120_000);
});
