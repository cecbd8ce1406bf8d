// tshark (an independent implementation) judges `lro coalesce` output: no checksum error and no
// malformed packet except the generator's deliberate noise, and every connection's TCP byte
// stream (tshark's own reassembly, `-z follow,tcp,raw`) identical before and after.
//
// tshark must be installed (CI installs it: .ci/run; see README.md, Tests): without it these tests
// fail. LRO_SKIP_TSHARK=1 skips them explicitly (local runs only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINK_TYPES } from '../bindings/pipeline/link-types.js';
import { isNoiseFrame } from '../bindings/traffic/generate.js';
import { followDigest, lro, readRecords } from './helpers/cli.js';

const skip = process.env.LRO_SKIP_TSHARK === '1';
const TSHARK = process.env.TSHARK ?? 'tshark';

function tshark(args: string[]): string {
  return execFileSync(TSHARK, ['-n', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
}

/** Frame numbers (1-based) tshark flags with a bad IPv4 or TCP checksum. */
function badChecksums(file: string): number[] {
  const out = tshark([
    '-r',
    file,
    '-o',
    'ip.check_checksum:TRUE',
    '-o',
    'tcp.check_checksum:TRUE',
    '-Y',
    'ip.checksum.status==0 || tcp.checksum.status==0',
    '-T',
    'fields',
    '-e',
    'frame.number',
  ]);
  return out.split('\n').filter(Boolean).map(Number);
}

/** Frame numbers tshark calls malformed or marks with an error-level expert item. */
function malformed(file: string): number[] {
  const out = tshark(['-r', file, '-Y', '_ws.malformed || _ws.expert.severity >= error', '-T', 'fields', '-e', 'frame.number']);
  return out.split('\n').filter(Boolean).map(Number);
}

/**
 * Per connection ("node0 node1"), sha256 of each direction's byte stream as tshark's follow
 * reassembles it. `readFilter` (a two-pass read filter) drops frames before analysis.
 */
function streams(file: string, readFilter?: string): Map<string, string> {
  const rf = readFilter ? ['-2', '-R', readFilter] : [];
  const ids = [
    ...new Set(
      tshark(['-r', file, ...rf, '-T', 'fields', '-e', 'tcp.stream'])
        .split('\n')
        .filter(Boolean),
    ),
  ];
  const args = ['-r', file, ...rf, '-q'];
  for (const id of ids) args.push('-z', `follow,tcp,raw,${id}`);
  const text = tshark(args);
  const out = new Map<string, string>();
  for (const block of text.split(/^=+$/m)) {
    const n0 = /^Node 0: (.*)$/m.exec(block);
    const n1 = /^Node 1: (.*)$/m.exec(block);
    if (!n0 || !n1) continue;
    out.set(`${n0[1]} ⇄ ${n1[1]}`, followDigest(block));
  }
  return out;
}

/** 1-based numbers of the output frames that are the generator's deliberate noise. */
function noiseFrames(file: string): Set<number> {
  const { records } = readRecords(file);
  const noise = new Set<number>();
  records.forEach((r, i) => {
    if (isNoiseFrame(r.data, LINK_TYPES.get(r.linkType)!.engine)) noise.add(i + 1);
  });
  return noise;
}

function expectOnlyNoise(flagged: number[], noise: Set<number>, what: string): void {
  const real = flagged.filter((n) => !noise.has(n));
  expect(real, `${what} on frames that are not deliberate noise`).toEqual([]);
}

let present: boolean | null = null;

/** Fail (not skip) when tshark is missing. */
function needTshark(): void {
  if (present === null) {
    const probe = spawnSync(TSHARK, ['-v'], { encoding: 'utf8' });
    present = !probe.error && probe.status === 0;
  }
  if (!present) {
    throw new Error(
      'tshark is not installed: these oracle tests need it (apt-get install tshark; see ORACLE.md), or set LRO_SKIP_TSHARK=1 to skip them locally',
    );
  }
}

describe.skipIf(skip)('tshark oracle on lro coalesce output', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lro-oracle-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loss, reordering, duplicates, noise, IPv6, VLAN (pcapng, no ACKs): valid packets, same byte streams', async () => {
    needTshark();
    const input = join(dir, 'imp.pcapng');
    const output = join(dir, 'imp.out.pcapng');
    expect(
      (
        await lro(
          'generate',
          '-o',
          input,
          '-q',
          '--packets',
          '15000',
          '--ack-every',
          '0',
          '--loss',
          '0.01',
          '--reorder',
          '0.02',
          '--duplicate',
          '0.01',
          '--noise',
          '0.02',
          '--ipv6',
          '0.4',
          '--vlan',
          '12',
          '--psh-every',
          '13',
          '--seed',
          '11',
        )
      ).code,
    ).toBe(0);
    const r = await lro('coalesce', input, '-o', output, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.aggregates).toBeGreaterThan(500);
    expect(s.packetsOut * 3).toBeLessThan(s.packetsIn);

    // The filters do catch things: the input's noise has bad checksums and truncated frames.
    expect(badChecksums(input).length).toBeGreaterThan(20);
    expect(malformed(input).length).toBeGreaterThan(5);
    const noise = noiseFrames(output);
    expect(noise.size).toBeGreaterThan(100);
    expectOnlyNoise(badChecksums(output), noise, 'checksum errors');
    expectOnlyNoise(malformed(output), noise, 'malformed packets');

    const before = streams(input);
    const after = streams(output);
    expect(before.size).toBeGreaterThanOrEqual(8);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [k, v] of before) expect(after.get(k), k).toBe(v);
  }, 120_000);

  it("with the receiver's ACKs (pcap, SLL2, impairments): valid packets, same data byte streams", async () => {
    needTshark();
    // LRO holds data back while the reverse direction's ACKs pass through, so in the output an
    // ACK can come before the data it acknowledges (as after Linux GRO). tshark's follow then
    // calls that data a retransmission; its byte streams are compared without the pure ACKs.
    const input = join(dir, 'ack.pcap');
    const output = join(dir, 'ack.out.pcap');
    expect(
      (
        await lro(
          'generate',
          '-o',
          input,
          '-q',
          '--packets',
          '15000',
          '--link-type',
          '276',
          '--loss',
          '0.005',
          '--reorder',
          '0.01',
          '--duplicate',
          '0.005',
          '--noise',
          '0.02',
          '--ipv6',
          '0.5',
          '--seed',
          '12',
        )
      ).code,
    ).toBe(0);
    const r = await lro('coalesce', input, '-o', output, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).aggregates).toBeGreaterThan(300);
    const noise = noiseFrames(output);
    expectOnlyNoise(badChecksums(output), noise, 'checksum errors');
    expectOnlyNoise(malformed(output), noise, 'malformed packets');
    const dataOnly = 'tcp.len > 0 || tcp.flags.syn == 1 || tcp.flags.fin == 1 || tcp.flags.reset == 1';
    const before = streams(input, dataOnly);
    const after = streams(output, dataOnly);
    expect(before.size).toBeGreaterThanOrEqual(8);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [k, v] of before) expect(after.get(k), k).toBe(v);
  }, 120_000);

  it('100k-packet bulk capture: ≥ 20× fewer data packets, and tshark finds nothing wrong', async () => {
    needTshark();
    const input = join(dir, 'bulk.pcap');
    const output = join(dir, 'bulk.out.pcap');
    expect((await lro('generate', '-o', input, '-q', '--packets', '100000')).code).toBe(0);
    const r = await lro('coalesce', input, '-o', output, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    // Data direction: segments in per data packet out (the ACKs pass through unchanged).
    const dataIn = Number(
      tshark(['-r', input, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length,
    );
    const dataOut = Number(
      tshark(['-r', output, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length,
    );
    expect(dataIn / dataOut).toBeGreaterThanOrEqual(20);
    expect(s.packetsIn).toBe(100000);
    expect(badChecksums(output)).toEqual([]);
    expect(malformed(output)).toEqual([]);
  }, 120_000);
});
