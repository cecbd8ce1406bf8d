// `lro compare WIRE OURS [LINUX]`: generated traffic coalesced with two option sets, the report's
// numbers checked against counts made here from the files (packets and data packets per
// connection, segments of gro aggregates from their lengths, stream hashes from the payloads in
// file order and — when tshark is there — from tshark's Follow TCP Stream), a connection with a
// dropped packet reported as differing, --rerun's reasons against `lro coalesce --json`, the
// --json shape and the text layout.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flowKey, parseFrame } from '../bindings/packet/index.js';
import { concat, epb, idb, lro, readRecords, shb } from './helpers/cli.js';
import { tshark, tsharkSkipped } from './helpers/tshark.js';

let dir = '';
const p = (name: string) => join(dir, name);
const BUCKETS = ['1', '2-4', '5-16', '17-32', '33-45', '46+'];
const MSS = 1448;
const MSS6 = MSS - 20;

interface Side {
  packets: number;
  dataPackets: number;
  payloadBytes: number;
  segments: number;
  meanSegments: number;
  maxSegments: number;
  histogram: number[];
  maxPayload: number;
  estimated: number;
  stream: { bytes: number; sha256: string; start: number; gaps: number; missingBytes: number; firstGapAt: number | null };
  identical: boolean | null;
  firstDifference: number | null;
}
interface Connection {
  flow: string;
  key: string;
  ipVersion: number;
  sport: number;
  dport: number;
  mss: number | null;
  wire: Side | null;
  ours: Side | null;
  linux?: Side | null;
  rerun?: { packets: number; dataPackets: number; reasons: Record<string, number> };
}
interface Report {
  files: Record<string, { path: string; format: string; records: number; otherPackets: number; skipped: number }>;
  histogramBuckets: string[];
  connections: Connection[];
  totals: Record<string, Side & { identicalStreams: number; comparedStreams: number }>;
  rerun?: {
    options: Record<string, unknown>;
    packets: number;
    reasons: Record<string, number>;
    matchesFirst: boolean;
    mismatches: string[];
  };
}

async function compareJson(...args: string[]): Promise<Report> {
  const r = await lro('compare', ...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as Report;
}

/** Counted here, per connection key: packets, data packets, payload in file order, data lengths. */
function count(path: string) {
  const flows = new Map<string, { packets: number; dataPackets: number; payload: Buffer[]; lengths: number[] }>();
  for (const rec of readRecords(path).records) {
    const f = parseFrame(rec.data);
    if (!f?.tcp) continue;
    const key = flowKey(f);
    let e = flows.get(key);
    if (!e) {
      e = { packets: 0, dataPackets: 0, payload: [], lengths: [] };
      flows.set(key, e);
    }
    e.packets++;
    if (f.tcp.payload.length > 0) {
      e.dataPackets++;
      e.payload.push(Buffer.from(f.tcp.payload));
      e.lengths.push(f.tcp.payload.length);
    }
  }
  return flows;
}

const sha256 = (parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lro-compare-'));
  // In-order bulk flows (no loss, so every stream is whole and a gro aggregate's segments are
  // ceil(length / MSS)); IPv6 flows; PSH now and then; 8 flows of different lengths.
  for (const args of [
    ['generate', '-o', p('wire.pcap'), '--packets', '24000', '--flows', '8', '--ipv6', '0.3', '--psh-every', '37', '--seed', '3'],
    ['coalesce', p('wire.pcap'), '-o', p('gro.pcap')],
    ['coalesce', p('wire.pcap'), '-o', p('small.pcap'), '--max-aggregate', '16000', '--aggregate-timeout-us', '150'],
  ]) {
    const r = await lro(...args, '-q');
    expect(r).toEqual({ code: 0, out: '', err: '' });
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('lro compare WIRE OURS LINUX', () => {
  it('counts packets and data packets per connection as the files hold them; streams identical', async () => {
    const r = await compareJson(p('wire.pcap'), p('gro.pcap'), p('small.pcap'));
    const counted = { wire: count(p('wire.pcap')), ours: count(p('gro.pcap')), linux: count(p('small.pcap')) };
    expect(r.connections.map((c) => c.key).sort()).toEqual([...counted.wire.keys()].sort());
    expect(r.connections.length).toBe(16); // 8 flows, both directions
    for (const c of r.connections) {
      const wireStream = sha256(counted.wire.get(c.key)!.payload);
      for (const side of ['wire', 'ours', 'linux'] as const) {
        const s = c[side]!;
        const n = counted[side].get(c.key)!;
        expect([s.packets, s.dataPackets], `${side} ${c.flow}`).toEqual([n.packets, n.dataPackets]);
        expect(s.payloadBytes).toBe(n.lengths.reduce((a, b) => a + b, 0));
        // No loss, no reordering: the stream is the payload in file order, in every file.
        expect(s.stream.sha256, `${side} ${c.flow}`).toBe(wireStream);
        expect(sha256(n.payload)).toBe(wireStream);
        expect(s.stream.gaps).toBe(0);
        expect(s.identical).toBe(side === 'wire' ? null : true);
        expect(s.estimated).toBe(0);
      }
    }
    for (const side of ['wire', 'ours', 'linux'] as const) {
      const records = readRecords(p(`${{ wire: 'wire', ours: 'gro', linux: 'small' }[side]}.pcap`)).records.length;
      expect(r.files[side].records).toBe(records);
      expect(r.totals[side].packets).toBe(records);
      const data = r.connections.filter((c) => c[side]!.dataPackets > 0);
      expect(r.totals[side].identicalStreams).toBe(side === 'wire' ? data.length : 8);
      expect(r.totals[side].comparedStreams).toBe(8);
    }
  });

  it('segments per aggregate: every WIRE segment counted once; for gro, ceil(length / MSS) per packet', async () => {
    const r = await compareJson(p('wire.pcap'), p('gro.pcap'), p('small.pcap'));
    const groLengths = count(p('gro.pcap'));
    for (const c of r.connections) {
      const wire = c.wire!;
      expect(wire.segments).toBe(wire.dataPackets);
      expect(wire.histogram).toEqual([wire.dataPackets, 0, 0, 0, 0, 0]);
      for (const s of [c.ours!, c.linux!]) {
        expect(s.segments).toBe(wire.dataPackets);
        expect(s.histogram.reduce((a, b) => a + b, 0)).toBe(s.dataPackets);
        expect(s.meanSegments).toBeCloseTo(s.dataPackets ? s.segments / s.dataPackets : 0, 2);
      }
      if (wire.dataPackets === 0) continue;
      const mss = c.ipVersion === 6 ? MSS6 : MSS;
      expect(c.mss).toBe(mss);
      // gro: every segment of an aggregate is the first one's size but the last: ceil(length / MSS).
      const expected = [0, 0, 0, 0, 0, 0];
      let max = 0;
      for (const len of groLengths.get(c.key)!.lengths) {
        const n = Math.ceil(len / mss);
        max = Math.max(max, n);
        expected[[1, 4, 16, 32, 45, Infinity].findIndex((top) => n <= top)]++;
      }
      expect(c.ours!.histogram, c.flow).toEqual(expected);
      expect(c.ours!.maxSegments).toBe(max);
      expect(max).toBeGreaterThan(1);
      expect(max).toBeLessThanOrEqual(45);
      // --max-aggregate 16000: at most 11 segments (16000 − 52 header bytes over 1448).
      expect(c.linux!.maxSegments).toBeLessThanOrEqual(11);
      expect(c.linux!.maxPayload).toBeLessThanOrEqual(16000);
      expect(c.ours!.dataPackets).toBeLessThan(c.linux!.dataPackets);
    }
  });

  it.skipIf(tsharkSkipped())("stream hashes = tshark's Follow TCP Stream of the same file", async () => {
    const r = await compareJson(p('wire.pcap'), p('gro.pcap'));
    const streams = await tshark(['-r', p('gro.pcap'), '-T', 'fields', '-e', 'tcp.stream', '-Y', 'tcp.len > 0']);
    const ids = [...new Set(streams.split('\n').filter(Boolean))];
    expect(ids.length).toBe(8);
    const fromTshark = new Set<string>();
    for (const id of ids) {
      const out = await tshark(['-r', p('gro.pcap'), '-q', '-z', `follow,tcp,raw,${id}`]);
      // Node 0 sent the first data; its bytes are the unindented hex lines.
      const hex = out
        .split('\n')
        .filter((l) => /^[0-9a-f]+$/.test(l))
        .join('');
      fromTshark.add(createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex'));
    }
    const ours = new Set(r.connections.filter((c) => c.ours!.dataPackets > 0).map((c) => c.ours!.stream.sha256));
    expect(ours).toEqual(fromTshark);
  });

  it('a packet dropped from one file: that connection is reported as not identical, where and how much', async () => {
    const { info, records } = readRecords(p('gro.pcap'));
    const r0 = await compareJson(p('wire.pcap'), p('gro.pcap'));
    const victim = r0.connections[0]; // the largest
    // Drop the victim's tenth data packet.
    let seen = 0;
    let dropped = -1;
    let droppedLength = 0;
    let droppedSeq = 0;
    let firstSeq: number | null = null;
    records.forEach((rec, i) => {
      const f = parseFrame(rec.data);
      if (!f?.tcp || flowKey(f) !== victim.key) return;
      firstSeq ??= f.tcp.seq;
      if (f.tcp.payload.length > 0 && ++seen === 10) {
        dropped = i;
        droppedLength = f.tcp.payload.length;
        droppedSeq = f.tcp.seq;
      }
    });
    expect(dropped).toBeGreaterThan(0);
    const kept = records.filter((_, i) => i !== dropped);
    writeFileSync(p('dropped.pcapng'), concat([shb(), idb(info.interfaces[0].linkType), ...kept.map((rec) => epb(0, rec))]));

    const r = await compareJson(p('wire.pcap'), p('gro.pcap'), p('dropped.pcapng'));
    for (const c of r.connections) {
      expect(c.ours!.identical).toBe(true);
      expect(c.linux!.identical, c.flow).toBe(c.key !== victim.key);
    }
    const c = r.connections.find((x) => x.key === victim.key)!;
    const s = c.linux!;
    expect(s.dataPackets).toBe(c.ours!.dataPackets - 1);
    expect(s.stream.bytes).toBe(c.wire!.stream.bytes - droppedLength);
    expect(s.stream.gaps).toBe(1);
    expect(s.stream.missingBytes).toBe(droppedLength);
    // The SYN's sequence number is relative 0 (the connection's first on WIRE): data starts at 1.
    expect(s.stream.firstGapAt).toBe((droppedSeq - firstSeq! + 2 ** 32) % 2 ** 32);
    expect(s.firstDifference).toBe(Math.floor((s.stream.firstGapAt! - s.stream.start) / 65536) * 65536);
    expect(r.totals.linux.identicalStreams).toBe(7);
    expect(r.totals.linux.comparedStreams).toBe(8);

    // Cut off there instead: the stream is a prefix of WIRE's, with no hole; it differs where it ends.
    writeFileSync(
      p('cut.pcapng'),
      concat([shb(), idb(info.interfaces[0].linkType), ...records.slice(0, dropped).map((rec) => epb(0, rec))]),
    );
    const cut = (await compareJson(p('wire.pcap'), p('cut.pcapng'))).connections.find((x) => x.key === victim.key)!.ours!;
    expect(cut.identical).toBe(false);
    expect(cut.stream.gaps).toBe(0);
    expect(cut.stream.bytes).toBe(s.stream.firstGapAt! - s.stream.start);
    expect(cut.firstDifference).toBe(Math.floor(cut.stream.bytes / 65536) * 65536);

    const text = await lro('compare', p('wire.pcap'), p('gro.pcap'), p('dropped.pcapng'), '--top', '1');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/same stream as WIRE\s+yes\s+NO/);
    expect(text.out).toContain(`LINUX: stream differs from WIRE's: `);
    expect(text.out).toContain(`${droppedLength.toLocaleString('en-US')} bytes missing in 1 hole`);
    expect(text.out).toMatch(/same streams as WIRE\s+8 of 8\s+7 of 8/);
  });

  it("--rerun: the reasons per connection are the engine's, and they add up to lro coalesce --json", async () => {
    const stats = await lro('coalesce', p('wire.pcap'), '-o', p('again.pcap'), '--json');
    const reasons = JSON.parse(stats.out).reasons as Record<string, number>;
    const r = await compareJson(p('wire.pcap'), p('gro.pcap'), '--rerun');
    expect(r.rerun!.matchesFirst).toBe(true);
    expect(r.rerun!.mismatches).toEqual([]);
    const sum: Record<string, number> = {};
    for (const c of r.connections) {
      expect(c.rerun!.packets).toBe(c.ours!.packets);
      expect(c.rerun!.dataPackets).toBe(c.ours!.dataPackets);
      for (const [k, n] of Object.entries(c.rerun!.reasons)) sum[k] = (sum[k] ?? 0) + n;
    }
    expect(sum).toEqual(Object.fromEntries(Object.entries(reasons).filter(([, n]) => n > 0)));
    expect(r.rerun!.reasons).toEqual(sum);
    expect(sum.psh).toBeGreaterThan(0);

    // OURS made with other options: the re-run with defaults says it does not describe it …
    const other = await compareJson(p('wire.pcap'), p('small.pcap'), '--rerun');
    expect(other.rerun!.matchesFirst).toBe(false);
    expect(other.rerun!.mismatches.length).toBeGreaterThan(0);
    const text = await lro('compare', p('wire.pcap'), p('small.pcap'), '--rerun');
    expect(text.out).toContain('does NOT give OURS');
    expect(text.out).toContain('re-run sent because (--rerun)');
    // … and with the same options it does.
    const same = await compareJson(p('wire.pcap'), p('small.pcap'), '--rerun', '--max-aggregate', '16000', '--aggregate-timeout-us', '150');
    expect(same.rerun!.matchesFirst).toBe(true);
    expect(same.rerun!.options).toEqual({ maxAggregate: 16000, aggregateTimeoutUs: 150 });
    expect(same.rerun!.reasons.threshold).toBeGreaterThan(r.rerun!.reasons.threshold ?? 0);
  });

  it('--json: one object, the sides keyed wire / ours (/ linux), every connection listed', async () => {
    const two = await compareJson(p('wire.pcap'), p('gro.pcap'), '--top', '1');
    expect(Object.keys(two).sort()).toEqual(['connections', 'files', 'histogramBuckets', 'totals']);
    expect(Object.keys(two.files)).toEqual(['wire', 'ours']);
    expect(Object.keys(two.totals)).toEqual(['wire', 'ours']);
    expect(two.histogramBuckets).toEqual(BUCKETS);
    expect(two.connections.length).toBe(16);
    const c = two.connections[0];
    expect(Object.keys(c).sort()).toEqual(['dport', 'dst', 'flow', 'ipVersion', 'key', 'mss', 'ours', 'sport', 'src', 'vlan', 'wire']);
    expect(Object.keys(c.ours!).sort()).toEqual(
      [
        'dataPackets',
        'estimated',
        'firstDifference',
        'histogram',
        'identical',
        'maxPayload',
        'maxSegments',
        'meanPayload',
        'meanSegments',
        'packets',
        'payloadBytes',
        'segments',
        'stream',
      ].sort(),
    );
    expect(Object.keys(c.ours!.stream).sort()).toEqual(['bytes', 'firstGapAt', 'gaps', 'missingBytes', 'repeatedBytes', 'sha256', 'start']);
    expect(c.ours!.histogram.length).toBe(6);
    // Ordered by WIRE payload bytes, largest first.
    const bytes = two.connections.map((x) => x.wire!.payloadBytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => b - a));
    const three = await compareJson(p('wire.pcap'), p('gro.pcap'), p('small.pcap'));
    expect(Object.keys(three.files)).toEqual(['wire', 'ours', 'linux']);
    expect(Object.keys(three.connections[0]).filter((k) => ['wire', 'ours', 'linux'].includes(k))).toEqual(['wire', 'ours', 'linux']);
  });

  it('text: one table per connection with the columns side by side, largest first, --top N of them, then totals', async () => {
    const json = await compareJson(p('wire.pcap'), p('gro.pcap'), p('small.pcap'));
    const r = await lro('compare', p('wire.pcap'), p('gro.pcap'), p('small.pcap'), '--top', '3');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const titles = lines.filter((l) => /^\d+\. /.test(l));
    expect(titles.map((l) => l.replace(/^\d+\. (\S+ → \S+).*/, '$1'))).toEqual(json.connections.slice(0, 3).map((c) => c.flow));
    expect(lines.filter((l) => /^\s+WIRE\s+OURS\s+LINUX$/.test(l)).length).toBe(4); // 3 connections + totals
    expect(r.out).toContain('… 5 more with payload (--top 0 shows all)');
    expect(r.out).toContain('8 directions without payload');
    const total = json.totals;
    const totals = lines.slice(lines.findIndex((l) => l.startsWith('totals (')));
    const row = (name: string) => totals.find((l) => l.startsWith(`  ${name} `))!;
    expect(
      row('data packets')
        .trim()
        .split(/\s{2,}/),
    ).toEqual(
      (['data packets', total.wire.dataPackets, total.ours.dataPackets, total.linux.dataPackets] as (string | number)[]).map((x) =>
        x.toLocaleString('en-US'),
      ),
    );
    expect(lines.some((l) => /^\s+segments\/aggregate\s+1\.00\s+\d+\.\d\d\s+\d+\.\d\d$/.test(l))).toBe(true);
    for (const b of ['1', '2–4', '5–16', '17–32', '33–45', '46+']) expect(lines.some((l) => l.startsWith(`    ${b} `))).toBe(true);
    const all = await lro('compare', p('wire.pcap'), p('gro.pcap'), '--top', '0');
    expect(all.out.split('\n').filter((l) => /^\d+\. /.test(l)).length).toBe(8);
  });

  it('usage: two or three files; engine flags only with --rerun', async () => {
    expect((await lro('compare', p('wire.pcap'))).code).toBe(2);
    expect((await lro('compare', p('wire.pcap'), p('gro.pcap'), p('gro.pcap'), p('gro.pcap'))).code).toBe(2);
    const flag = await lro('compare', p('wire.pcap'), p('gro.pcap'), '--preset', 'seed');
    expect(flag.code).toBe(2);
    expect(flag.err).toContain('--preset is for --rerun');
    const twice = await lro('compare', '-', '-');
    expect(twice).toEqual({ code: 2, out: '', err: "lro compare: standard input ('-') can be only one of the files\n" });
    const missing = await lro('compare', p('wire.pcap'), p('nothing.pcap'));
    expect(missing.code).toBe(1);
    expect(missing.err.trim().split('\n').length).toBe(1);
  });
});
