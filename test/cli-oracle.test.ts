// tshark (an independent implementation) judges `lro coalesce` output: no checksum error and no
// malformed packet except the generator's deliberate noise, and every connection's TCP byte
// stream (tshark's own reassembly, `-z follow,tcp,raw`) identical before and after.
//
// tshark must be installed (CI installs it: .ci/run; see README.md, Tests): without it these tests
// fail. LRO_SKIP_TSHARK=1 skips them explicitly (local runs only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LINK_TYPES } from '../bindings/pipeline/link-types.js';
import { isNoiseFrame } from '../bindings/traffic/generate.js';
import { lro, readRecords } from './helpers/cli.js';
import { badChecksums, followDigest, malformedFrames, tshark, tsharkInstalled } from './helpers/tshark.js';

const skip = process.env.LRO_SKIP_TSHARK === '1';

/**
 * Per connection ("node0 node1"), sha256 of each direction's byte stream as tshark's follow
 * reassembles it. `readFilter` (a two-pass read filter) drops frames before analysis.
 */
async function streams(file: string, readFilter?: string): Promise<Map<string, string>> {
  const rf = readFilter ? ['-2', '-R', readFilter] : [];
  const ids = [...new Set((await tshark(['-r', file, ...rf, '-T', 'fields', '-e', 'tcp.stream'])).split('\n').filter(Boolean))];
  const args = ['-r', file, ...rf, '-q'];
  for (const id of ids) args.push('-z', `follow,tcp,raw,${id}`);
  const text = await tshark(args);
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

/** Fail (not skip) when tshark is missing. */
function needTshark(): void {
  if (!tsharkInstalled()) {
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
    expect((await badChecksums(input)).length).toBeGreaterThan(20);
    expect((await malformedFrames(input)).length).toBeGreaterThan(5);
    const noise = noiseFrames(output);
    expect(noise.size).toBeGreaterThan(100);
    expectOnlyNoise(await badChecksums(output), noise, 'checksum errors');
    expectOnlyNoise(await malformedFrames(output), noise, 'malformed packets');

    const before = await streams(input);
    const after = await streams(output);
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
    expectOnlyNoise(await badChecksums(output), noise, 'checksum errors');
    expectOnlyNoise(await malformedFrames(output), noise, 'malformed packets');
    const dataOnly = 'tcp.len > 0 || tcp.flags.syn == 1 || tcp.flags.fin == 1 || tcp.flags.reset == 1';
    const before = await streams(input, dataOnly);
    const after = await streams(output, dataOnly);
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
    const dataPackets = async (file: string) =>
      (await tshark(['-r', file, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'frame.number'])).split('\n').filter(Boolean).length;
    const dataIn = await dataPackets(input);
    const dataOut = await dataPackets(output);
    expect(dataIn / dataOut).toBeGreaterThanOrEqual(20);
    expect(s.packetsIn).toBe(100000);
    expect(await badChecksums(output)).toEqual([]);
    expect(await malformedFrames(output)).toEqual([]);
  }, 120_000);
});
