// The `lro` command line: coalesce (formats, link types, interfaces, sections, fidelity, errors),
// generate, inspect, demo, help. Most runs are in-process (main()); a few spawn bin/lro.js to
// check what a user sees: exit status, one-line errors without stack traces, stdout JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture } from '../bindings/capture/index.js';
import { coalesceFile } from '../bindings/pipeline/coalesce.js';
import { writeGenerated } from '../bindings/traffic/write.js';
import { ACK, FIN, SYN, parseFrame, tcpFrame } from '../bindings/packet/index.js';
import { PASS_THROUGH_CAUSES, REASONS } from '../bindings/engine/types.js';
import { crc32, gzipSync } from 'node:zlib';
import { BIN, checkAgainstEngine, concat, epb, idb, lro, lroProcess, mergeInterfaces, readRecords, shb, spb } from './helpers/cli.js';

let dir: string;
const p = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lro-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Nothing but `keep` in the test directory's files named like `prefix*` (no temp files left). */
function leftovers(prefix: string): string[] {
  return readdirSync(dir).filter((f) => f.startsWith(prefix));
}

async function gen(name: string, ...args: string[]): Promise<string> {
  const r = await lro('generate', '-o', p(name), '-q', ...args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return p(name);
}

/** A little-endian Ethernet pcap with each frame's FCS appended (the header's FCS bits say 4 bytes). */
function withFcs(pcap: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from(pcap.subarray(0, 24))];
  parts[0].writeUInt32LE(0x04000000 | (2 << 28) | 1, 20); // 2 × 16 bits of FCS, Ethernet
  for (let at = 24; at < pcap.length; ) {
    const cap = pcap.readUInt32LE(at + 8);
    const head = Buffer.from(pcap.subarray(at, at + 16));
    const data = pcap.subarray(at + 16, at + 16 + cap);
    const fcs = Buffer.alloc(4);
    fcs.writeUInt32LE(crc32(data) >>> 0);
    head.writeUInt32LE(cap + 4, 8);
    head.writeUInt32LE(pcap.readUInt32LE(at + 12) + 4, 12);
    parts.push(head, data, fcs);
    at += 16 + cap;
  }
  return Buffer.concat(parts);
}

describe("lro coalesce: output = the engine's packets, records kept where bytes are unchanged", () => {
  it('pcap µs little-endian, with every impairment', async () => {
    const input = await gen(
      'imp.pcap',
      '--packets',
      '6000',
      '--loss',
      '0.01',
      '--reorder',
      '0.02',
      '--duplicate',
      '0.01',
      '--noise',
      '0.03',
      '--ipv6',
      '0.3',
      '--psh-every',
      '11',
      '--seed',
      '7',
    );
    const r = await lro('coalesce', input, '-o', p('imp.out.pcap'), '--hash-seed', '1', '-q');
    expect(r).toEqual({ code: 0, out: '', err: '' });
    const m = await checkAgainstEngine(input, p('imp.out.pcap'));
    expect(m.aggregates).toBeGreaterThan(100);
    expect(m.passThroughOrSingle).toBeGreaterThan(100);
  });

  it('pcap ns big-endian with VLAN; pcapng ns big-endian with per-packet options', async () => {
    const a = await gen(
      'ns.pcap',
      '--packets',
      '4000',
      '--resolution',
      'ns',
      '--big-endian',
      '--vlan',
      '42',
      '--reorder',
      '0.02',
      '--noise',
      '0.02',
    );
    expect((await lro('coalesce', a, '-o', p('ns.out.pcap'), '-q')).code).toBe(0);
    await checkAgainstEngine(a, p('ns.out.pcap'));
    const b = await gen(
      'ns.pcapng',
      '--packets',
      '4000',
      '--resolution',
      'ns',
      '--big-endian',
      '--packet-comments',
      '--loss',
      '0.01',
      '--noise',
      '0.02',
      '--ipv6',
      '0.5',
    );
    expect((await lro('coalesce', b, '-o', p('ns.out.pcapng'), '-q')).code).toBe(0);
    const m = await checkAgainstEngine(b, p('ns.out.pcapng'));
    expect(m.aggregates).toBeGreaterThan(50);
    const out = readRecords(p('ns.out.pcapng'));
    expect(out.info).toMatchObject({ format: 'pcapng', byteOrder: 'be', resolution: 'ns' });
    // Every pass-through keeps its comment; aggregates carry none.
    const withComment = out.records.filter((r) => r.tail.length > 4).length;
    expect(withComment).toBe(m.passThroughOrSingle);
  });

  it('the TS engine writes the same file as the WASM engine', async () => {
    const input = await gen('eng.pcap', '--packets', '3000', '--reorder', '0.03', '--noise', '0.02');
    expect((await lro('coalesce', input, '-o', p('eng.wasm.pcap'), '--engine', 'wasm', '-q')).code).toBe(0);
    expect((await lro('coalesce', input, '-o', p('eng.ts.pcap'), '--engine', 'ts', '-q')).code).toBe(0);
    expect(readFileSync(p('eng.ts.pcap')).equals(readFileSync(p('eng.wasm.pcap')))).toBe(true);
  });

  for (const [link, extra] of [
    ['1', []],
    ['113', ['--ipv6', '0.5']],
    ['276', ['--ipv6', '0.5']],
    ['101', ['--ipv6', '0.5']],
    ['228', []],
    ['229', ['--ipv6', '1']],
    ['12', ['--ipv6', '0.5']],
  ] as [string, string[]][]) {
    it(`link type ${link}`, async () => {
      const input = await gen(
        `lt${link}.pcap`,
        '--packets',
        '3000',
        '--link-type',
        link,
        '--ack-every',
        '0',
        '--noise',
        '0.02',
        '--reorder',
        '0.01',
        ...extra,
      );
      expect(readRecords(input).info.interfaces[0].linkType).toBe(Number(link));
      const r = await lro('coalesce', input, '-o', p(`lt${link}.out.pcap`), '--json');
      expect(r.code).toBe(0);
      const s = JSON.parse(r.out);
      expect(s.packetsOut * 10).toBeLessThan(s.packetsIn);
      await checkAgainstEngine(input, p(`lt${link}.out.pcap`));
    });
  }

  it('pcapng with several interfaces (Ethernet, raw IP ns, SLL2): one engine each', async () => {
    const a = await gen('if-a.pcapng', '--packets', '3000', '--seed', '1', '--reorder', '0.02');
    const b = await gen(
      'if-b.pcapng',
      '--packets',
      '3000',
      '--seed',
      '2',
      '--link-type',
      '101',
      '--resolution',
      'ns',
      '--ipv6',
      '0.5',
      '--packet-comments',
    );
    const c = await gen('if-c.pcapng', '--packets', '2000', '--seed', '3', '--link-type', '276', '--noise', '0.05');
    mergeInterfaces(p('if.pcapng'), [a, b, c]);
    const r = await lro('coalesce', p('if.pcapng'), '-o', p('if.out.pcapng'), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.interfaces).toBe(3);
    expect(s.packetsIn).toBe(8000);
    expect(s.flowsCreated).toBe(24);
    await checkAgainstEngine(p('if.pcapng'), p('if.out.pcapng'));
  });

  it('pcapng with 40 interfaces whose records alternate: one engine each, every packet where its first segment was', async () => {
    // Many engines at once: the pipeline keeps each interface's frontier between calls into its
    // engine (a packet is written once no interface can still send one from an earlier position).
    const input = p('if40.pcapng');
    await writeGenerated(
      input,
      { packets: 8000, flows: 80, ackEvery: 4, handshake: true, noise: 0.02, seed: 9 },
      { format: 'pcapng', linkType: 1, ns: false, bigEndian: false, snaplen: 262144, packetComments: false, interfaces: 40 },
    );
    const r = await lro('coalesce', input, '-o', p('if40.out.pcapng'), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    // A connection stays on one interface: the interfaces its 80 connections fell on.
    const used = new Set(readRecords(input).records.map((x) => x.interfaceId)).size;
    expect(used).toBeGreaterThan(20);
    expect(s.interfaces).toBe(used);
    expect(s.aggregates).toBeGreaterThan(0);
    expect(s.packetsOut * 2).toBeLessThan(s.packetsIn);
    await checkAgainstEngine(input, p('if40.out.pcapng'));
  });

  it("pcapng with several sections: each section's engines are closed before the next", async () => {
    const a = await gen('sec-a.pcapng', '--packets', '2000', '--seed', '4');
    const b = await gen('sec-b.pcapng', '--packets', '2000', '--seed', '5', '--big-endian', '--link-type', '113');
    writeFileSync(p('sec.pcapng'), concat([readFileSync(a), readFileSync(b)]));
    const r = await lro('coalesce', p('sec.pcapng'), '-o', p('sec.out.pcapng'), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.interfaces).toBe(2);
    expect(s.reasons.close).toBe(0); // every flow ended with FIN inside its section
    await checkAgainstEngine(p('sec.pcapng'), p('sec.out.pcapng'));
    const out = readRecords(p('sec.out.pcapng'));
    expect(out.info.sections).toBe(2);
    // Every packet is written inside its own section.
    const firstB = out.records.findIndex((x) => x.interfaceId === 1);
    expect(out.records.slice(firstB).every((x) => x.interfaceId === 1)).toBe(true);
  });

  it('simple packet blocks on an interface with if_tsoffset, before any EPB: coalesced, aggregates stay SPBs', async () => {
    const src = readRecords(await gen('spb-off-src.pcap', '--packets', '1000', '--ack-every', '0')).records;
    // An IDB with if_tsoffset (option 14, 8 bytes: seconds) = 1e9.
    const off = new Uint8Array(32);
    const v = new DataView(off.buffer);
    v.setUint32(0, 1, true);
    v.setUint32(4, 32, true);
    v.setUint16(8, 1, true);
    v.setUint32(12, 262144, true);
    v.setUint16(16, 14, true);
    v.setUint16(18, 8, true);
    v.setBigUint64(20, 1_000_000_000n, true);
    v.setUint32(28, 32, true);
    writeFileSync(p('spb-off.pcapng'), concat([shb(), off, ...src.map(spb)]));
    const r = await lro('coalesce', p('spb-off.pcapng'), '-o', p('spb-off.out.pcapng'), '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).aggregates).toBeGreaterThan(0);
    const out = readRecords(p('spb-off.out.pcapng')).records;
    expect(out.every((x) => x.kind === 3)).toBe(true);
  });

  it('a pcapng timestamp the engine clock cannot take is a corrupt block (one line naming file and offset; --skip-bad skips it)', async () => {
    const src = readRecords(await gen('far-src.pcap', '--packets', '300')).records;
    const far = { ...src[100], tsHigh: 0xffffffff, tsLow: 0 };
    const rows = src.map((x) => ({ ...x, tsHigh: Math.floor(x.timeUs / 2 ** 32), tsLow: x.timeUs % 2 ** 32 }));
    writeFileSync(
      p('far.pcapng'),
      concat([shb(), idb(1), ...rows.slice(0, 100).map((x) => epb(0, x)), epb(0, far), ...rows.slice(100).map((x) => epb(0, x))]),
    );
    const r = await lro('coalesce', p('far.pcapng'), '-o', p('far.out.pcapng'));
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(/far\.pcapng: timestamp out of range at byte \d+/);
    const skip = await lro('coalesce', p('far.pcapng'), '-o', p('far.out.pcapng'), '--skip-bad', '--json');
    expect(skip.code).toBe(0);
    expect(JSON.parse(skip.out)).toMatchObject({ packetsIn: 300, skippedRecords: 1, clockClamped: 0 });
  });

  it('simple packet blocks (after an EPB that sets the clock) are written back as SPBs', async () => {
    const src = readRecords(await gen('spb-src.pcap', '--packets', '2000', '--reorder', '0.02', '--noise', '0.02')).records;
    const first = { ...src[0], tsHigh: Math.floor(src[0].timeUs / 2 ** 32), tsLow: src[0].timeUs % 2 ** 32 };
    writeFileSync(p('spb.pcapng'), concat([shb(), idb(1), epb(0, first), ...src.slice(1).map(spb)]));
    const r = await lro('coalesce', p('spb.pcapng'), '-o', p('spb.out.pcapng'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).aggregates).toBeGreaterThan(20);
    await checkAgainstEngine(p('spb.pcapng'), p('spb.out.pcapng'));
    const kinds = readRecords(p('spb.out.pcapng')).records.map((x) => x.kind);
    expect(kinds.filter((k) => k === 3).length).toBeGreaterThan(500); // pass-through SPBs stay SPBs
  });

  it('frames with an Ethernet FCS (pcap FCS bits): aggregates get a correct new FCS', async () => {
    writeFileSync(p('fcs.pcap'), withFcs(readFileSync(await gen('fcs-src.pcap', '--packets', '2000'))));
    const r = await lro('coalesce', p('fcs.pcap'), '-o', p('fcs.out.pcap'), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.packetsOut * 2).toBeLessThan(s.packetsIn);
    const out = readRecords(p('fcs.out.pcap')).records;
    expect(out).toHaveLength(s.packetsOut);
    for (const x of out) {
      const body = x.data.subarray(0, x.data.length - 4);
      expect(Buffer.from(x.data.subarray(-4)).readUInt32LE()).toBe(crc32(body) >>> 0);
    }
  });

  it('a section cut short: pending aggregates go out (reason close) before the next section', async () => {
    const a = await gen('cut-a.pcapng', '--packets', '500', '--seed', '6', '--no-handshake');
    const b = await gen('cut-b.pcapng', '--packets', '500', '--seed', '7', '--no-handshake');
    writeFileSync(p('cut.pcapng'), concat([readFileSync(a), readFileSync(b)]));
    const r = await lro('coalesce', p('cut.pcapng'), '-o', p('cut.out.pcapng'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).reasons.close).toBe(16);
    await checkAgainstEngine(p('cut.pcapng'), p('cut.out.pcapng'));
  });

  it("a section whose clock starts before the previous section's ended: its engines keep their own time", async () => {
    // `cat later.pcapng earlier.pcapng`: the second section has two interfaces (so engines fire
    // each other's timers) and starts an hour before the first section's last packet.
    const a = await gen('clk-a.pcapng', '--packets', '1500', '--seed', '8', '--start-time-us', '1700003600000000');
    const b1 = await gen('clk-b1.pcapng', '--packets', '2000', '--seed', '9', '--reorder', '0.02');
    const b2 = await gen('clk-b2.pcapng', '--packets', '2000', '--seed', '10', '--link-type', '101', '--resolution', 'ns');
    mergeInterfaces(p('clk-b.pcapng'), [b1, b2]);
    writeFileSync(p('clk.pcapng'), concat([readFileSync(a), readFileSync(p('clk-b.pcapng'))]));
    const r = await lro('coalesce', p('clk.pcapng'), '-o', p('clk.out.pcapng'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ packetsIn: 5500, clockClamped: 0 });
    await checkAgainstEngine(p('clk.pcapng'), p('clk.out.pcapng'));
    // The second section's output is what that section alone gives.
    expect((await lro('coalesce', p('clk-b.pcapng'), '-o', p('clk-b.out.pcapng'), '-q')).code).toBe(0);
    const alone = readFileSync(p('clk-b.out.pcapng'));
    expect(readFileSync(p('clk.out.pcapng')).subarray(-alone.length).equals(alone)).toBe(true);
  });
});

describe('capture reader beforeRefill (what lets coalesce batch without copying)', () => {
  it('every view handed out since the last call is intact when the hook runs', async () => {
    const input = await gen('refill.pcapng', '--packets', '3000', '--noise', '0.05', '--packet-comments');
    let held: { data: Uint8Array; tail: Uint8Array; copy: string }[] = [];
    let calls = 0;
    const reader = openCapture(input, {
      chunkSize: 8192,
      beforeRefill: () => {
        calls++;
        for (const h of held) expect(Buffer.from(h.data).toString('hex') + Buffer.from(h.tail).toString('hex')).toBe(h.copy);
        held = [];
      },
    });
    let n = 0;
    for (let r = reader.next(); r !== null; r = reader.next()) {
      held.push({ data: r.data, tail: r.tail, copy: Buffer.from(r.data).toString('hex') + Buffer.from(r.tail).toString('hex') });
      n++;
    }
    expect(n).toBe(3000);
    expect(calls).toBeGreaterThan(300);
  });

  it('coalesce with tiny read chunks and odd batch sizes writes the same file', async () => {
    const input = await gen(
      'tiny.pcapng',
      '--packets',
      '4000',
      '--reorder',
      '0.02',
      '--noise',
      '0.03',
      '--packet-comments',
      '--ipv6',
      '0.3',
    );
    await coalesceFile({ input, output: p('tiny.ref.pcapng'), engine: { engine: 'ts' } });
    for (const [chunkSize, batchSize] of [
      [2048, 256],
      [4096, 7],
      [70000, 1],
      [1 << 20, 1000],
    ]) {
      await coalesceFile({ input, output: p('tiny.out.pcapng'), engine: { engine: 'ts' }, chunkSize, batchSize });
      expect(readFileSync(p('tiny.out.pcapng')).equals(readFileSync(p('tiny.ref.pcapng'))), `${chunkSize}/${batchSize}`).toBe(true);
    }
    await checkAgainstEngine(input, p('tiny.ref.pcapng'));
  });
});

describe('lro coalesce: a record larger than the staging area', () => {
  it("goes through as a batch of its own, between aggregates: the output is the engine's packets", async () => {
    const input = await gen('big-src.pcapng', '--packets', '600', '--flows', '2');
    const { records } = readRecords(input);
    // A 1.5 MiB record (bytes no engine takes: it passes through) amid bulk segments, on an
    // interface with no snap length limit.
    const big = { ...records[300], data: new Uint8Array(3 << 19).fill(0x5a), tail: new Uint8Array(0), origLen: 3 << 19 };
    const ifaceUnlimited = idb(1);
    new DataView(ifaceUnlimited.buffer).setUint32(12, 0, true);
    const parts = [
      shb(),
      ifaceUnlimited,
      ...records.slice(0, 300).map((r) => epb(0, r)),
      epb(0, big),
      ...records.slice(300).map((r) => epb(0, r)),
    ];
    writeFileSync(p('big.pcapng'), concat(parts));
    for (const engine of ['wasm', 'ts']) {
      const out = p(`big.${engine}.out.pcapng`);
      const r = await lro('coalesce', p('big.pcapng'), '-o', out, '--engine', engine, '-q');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const report = await checkAgainstEngine(p('big.pcapng'), out);
      expect(report.aggregates).toBeGreaterThan(0);
      expect(readRecords(out).records.some((x) => x.data.length === 3 << 19)).toBe(true);
    }
  });
});

describe('lro coalesce: round trips byte for byte when nothing can be joined', () => {
  const cases: [string, string[]][] = [
    ['rt-us-le.pcap', []],
    ['rt-ns-be.pcap', ['--resolution', 'ns', '--big-endian', '--vlan', '9']],
    ['rt-ns-be.pcapng', ['--resolution', 'ns', '--big-endian', '--packet-comments', '--ipv6', '0.5']],
    ['rt-sll2.pcapng', ['--link-type', '276', '--packet-comments']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: --threshold 0 (every segment its own aggregate) and all-noise input`, async () => {
      const input = await gen(name, '--packets', '3000', '--noise', '0.05', '--reorder', '0.02', ...args);
      const out = p(`${name}.out`);
      expect((await lro('coalesce', input, '-o', out, '--threshold', '0', '-q')).code).toBe(0);
      expect(readFileSync(out).equals(readFileSync(input))).toBe(true);
      const noise = await gen(`noise-${name}`, '--packets', '500', '--noise', '1', ...args);
      expect((await lro('coalesce', noise, '-o', out, '-q')).code).toBe(0);
      expect(readFileSync(out).equals(readFileSync(noise))).toBe(true);
    });
  }

  it('multi-interface, multi-section pcapng with --threshold 0', async () => {
    const a = await gen('rtm-a.pcapng', '--packets', '1000', '--seed', '8', '--packet-comments');
    const b = await gen('rtm-b.pcapng', '--packets', '1000', '--seed', '9', '--link-type', '229', '--ipv6', '1', '--resolution', 'ns');
    mergeInterfaces(p('rtm-1.pcapng'), [a, b]);
    writeFileSync(p('rtm.pcapng'), concat([readFileSync(p('rtm-1.pcapng')), readFileSync(a)]));
    expect((await lro('coalesce', p('rtm.pcapng'), '-o', p('rtm.out.pcapng'), '--threshold', '0', '-q')).code).toBe(0);
    expect(readFileSync(p('rtm.out.pcapng')).equals(readFileSync(p('rtm.pcapng')))).toBe(true);
  });
});

describe('lro coalesce: packet reduction', () => {
  it('100k generated packets, 8 bulk flows: data direction cut ≥ 20× (with ACKs), whole file ≥ 20× (no ACKs)', async () => {
    // With the receiver's ACKs (one per 2 data segments), the ACKs pass through: count the data
    // direction (segments with payload in, packets with payload out).
    const input = await gen('bulk.pcap', '--packets', '100000');
    const r = await lro('coalesce', input, '-o', p('bulk.out.pcap'), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    const dataPackets = (path: string) => {
      let n = 0;
      const reader = openCapture(path);
      for (let rec = reader.next(); rec !== null; rec = reader.next()) if ((parseFrame(rec.data)?.tcp?.payload.length ?? 0) > 0) n++;
      return n;
    };
    const dataIn = dataPackets(input);
    const dataOut = dataPackets(p('bulk.out.pcap'));
    expect(dataIn).toBeGreaterThan(60000);
    expect(dataIn / dataOut).toBeGreaterThanOrEqual(20);
    expect(s.packetsIn).toBe(100000);

    const noAcks = await gen('bulk-noack.pcap', '--packets', '100000', '--ack-every', '0');
    const r2 = await lro('coalesce', noAcks, '-o', p('bulk-noack.out.pcap'), '--json');
    const s2 = JSON.parse(r2.out);
    expect(s2.packetsIn / s2.packetsOut).toBeGreaterThanOrEqual(20);
  }, 60_000);
});

describe('lro coalesce: output', () => {
  it('--json: exactly one object with the CONTRACT §7 names, elapsedMs, input and output', async () => {
    const input = await gen('json.pcap', '--packets', '2000', '--noise', '0.01');
    const r = await lro('coalesce', input, '-o', p('json.out.pcap'), '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out.trim().split('\n')).toHaveLength(1);
    const s = JSON.parse(r.out);
    for (const k of [
      'packetsIn',
      'packetsOut',
      'aggregates',
      'segmentsAggregated',
      'passedThrough',
      'bytesIn',
      'bytesOut',
      'flowsCreated',
      'flowsDeleted',
      'flowsActive',
      'tableFull',
      'clockClamped',
      'elapsedMs',
    ]) {
      expect(typeof s[k], k).toBe('number');
    }
    expect(Object.keys(s.reasons).sort()).toEqual([...REASONS].sort());
    expect(Object.keys(s.passThroughCauses).sort()).toEqual([...PASS_THROUGH_CAUSES].sort());
    expect(Object.values(s.passThroughCauses as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(s.reasons['pass-through']);
    expect(s.input).toBe(input);
    expect(s.output).toBe(p('json.out.pcap'));
    expect(s.packetsIn).toBe(2000);
    expect(s.packetsOut).toBe(readRecords(p('json.out.pcap')).records.length);
    expect(s.bytesOut).toBe(readRecords(p('json.out.pcap')).records.reduce((n, x) => n + x.data.length, 0));
    expect(Object.values(s.reasons as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(s.packetsOut);
  });

  it('human summary: packets in → out, ratio, aggregates, reasons, flows, throughput', async () => {
    const input = await gen('human.pcap', '--packets', '3000');
    const r = await lro('coalesce', input, '-o', p('human.out.pcap'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/3,000 in → [\d,]+ out +\([\d.]+× fewer/);
    expect(r.out).toMatch(/aggregates +[\d,]+ holding [\d,]+ segments \(mean [\d.]+ segments per aggregate\)/);
    expect(r.out).toMatch(/pass-through +[\d,]+ frames/);
    expect(r.out).toMatch(/sent because .*threshold/);
    expect(r.out).toMatch(/flows +8 created, 8 deleted/);
    expect(r.out).toMatch(/packets\/s, [\d.]+ Gbit\/s/);
  });

  it('every engine option is a flag; bad values exit 2 naming the flag', async () => {
    const input = await gen('flags.pcap', '--packets', '2000');
    const ok = await lro(
      'coalesce',
      input,
      '-o',
      p('flags.out.pcap'),
      '--json',
      '--preset',
      'seed',
      '--max-flows',
      '16',
      '--max-pending',
      '3',
      '--ring-bytes',
      '1048576',
      '--max-aggregate',
      '30000',
      '--mtu',
      '1500',
      '--threshold',
      '20000',
      '--aggregate-timeout-us',
      '500',
      '--idle-timeout-ms',
      '100',
      '--no-verify-checksums',
      '--no-fix-checksums',
      '--engine',
      'ts',
      '--hash-seed',
      '0x1234',
    );
    expect(ok.code).toBe(0);
    await checkAgainstEngine(input, p('flags.out.pcap'), {
      preset: 'seed',
      maxFlows: 16,
      maxPending: 3,
      ringBytes: 1048576,
      maxAggregate: 30000,
      threshold: 20000,
      aggregateTimeoutUs: 500,
      idleTimeoutMs: 100,
      verifyChecksums: false,
      fixChecksums: false,
    });
    const bad: [string[], RegExp][] = [
      [['--max-flows', '0'], /--max-flows must be an integer in \[1, 16777216\], got 0/],
      [['--max-flows', '16', '--max-pending', '17'], /--max-pending must be an integer in \[1, 16\], got 17/],
      [['--ring-bytes', '100'], /--ring-bytes must be an integer in \[1048576, 2147483648\], got 100/],
      [['--max-aggregate', '1000'], /--max-aggregate must be an integer in \[1500, 65535\]/],
      [['--mtu', 'big'], /--mtu must be a number, got 'big'/],
      [['--threshold', '-1'], /--threshold must be/],
      [['--aggregate-timeout-us', '0'], /--aggregate-timeout-us must be/],
      [['--idle-timeout-ms', '1.5'], /--idle-timeout-ms must be/],
      [['--preset', 'linux'], /--preset must be one of gro, seed, throughput, got linux/],
      [['--engine', 'c'], /--engine must be one of wasm, ts/],
      [['--hash-seed', '-3'], /--hash-seed must be/],
      [['--frobnicate'], /unknown option --frobnicate/],
      [['--mtu'], /--mtu needs a value/],
      [['--json=yes'], /--json takes no value/],
    ];
    for (const [args, msg] of bad) {
      const r = await lro('coalesce', input, '-o', p('flags.bad.pcap'), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).toMatch(msg);
      expect(existsSync(p('flags.bad.pcap'))).toBe(false);
    }
    expect((await lro('coalesce', input)).code).toBe(2);
    expect((await lro('coalesce', '-o', p('x.pcap'))).code).toBe(2);
    expect((await lro('coalesce', input, input, '-o', p('x.pcap'))).code).toBe(2);
  });
});

describe('lro coalesce: errors are one line naming the file and offset, exit 1, no output left', () => {
  let good: string;
  beforeAll(async () => {
    good = await gen('err-good.pcap', '--packets', '400');
  });

  async function fails(input: string, out: string, pattern: RegExp, ...args: string[]): Promise<void> {
    const r = await lro('coalesce', input, '-o', out, ...args);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    const lines = r.err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
    if (existsSync(join(out, '..'))) expect(readdirSync(join(out, '..')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  }

  it('missing input', async () => {
    await fails(p('nope.pcap'), p('e1.pcap'), /nope\.pcap: cannot open \(ENOENT/);
  });

  it('truncated capture (mid-record): stops; --skip-bad reports it and keeps what came before', async () => {
    const bytes = readFileSync(good);
    writeFileSync(p('trunc.pcap'), bytes.subarray(0, bytes.length - 10));
    await fails(p('trunc.pcap'), p('e2.pcap'), /trunc\.pcap: truncated record at byte \d+ \(header says \d+ bytes, \d+ left\)/);
    const r = await lro('coalesce', p('trunc.pcap'), '-o', p('e2.pcap'), '--skip-bad', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/skipped corrupt record: .*trunc\.pcap: truncated record at byte/);
    expect(JSON.parse(r.out)).toMatchObject({ packetsIn: 399, skippedRecords: 1 });
  });

  it('truncated and corrupt headers', async () => {
    writeFileSync(p('short.pcap'), readFileSync(good).subarray(0, 10));
    await fails(p('short.pcap'), p('e3.pcap'), /short\.pcap: truncated pcap header at byte 0/);
    writeFileSync(p('magic.pcap'), Buffer.from('this is not a capture file at all'));
    await fails(p('magic.pcap'), p('e3.pcap'), /magic\.pcap: not a pcap or pcapng file at byte 0/);
    writeFileSync(p('empty.pcap'), '');
    await fails(p('empty.pcap'), p('e3.pcap'), /empty\.pcap: empty file/);
    const bad = Buffer.from(readFileSync(good));
    bad.writeUInt32LE(0x7fffffff, 24 + 8); // first record's caplen
    writeFileSync(p('caplen.pcap'), bad);
    await fails(p('caplen.pcap'), p('e3.pcap'), /caplen\.pcap: record too large at byte 24/, '--skip-bad');
  });

  it('corrupt pcapng block in the middle: stops at it; --skip-bad skips it (counted, reported)', async () => {
    const src = await gen('mid.pcapng', '--packets', '300');
    const recs = readRecords(src).records;
    const bytes = Buffer.from(readFileSync(src));
    bytes.writeUInt32LE(7, recs[150].offset + 8); // interface 7 does not exist
    writeFileSync(p('mid-bad.pcapng'), bytes);
    await fails(
      p('mid-bad.pcapng'),
      p('e4.pcapng'),
      new RegExp(`mid-bad\\.pcapng: packet references unknown interface 7 at byte ${recs[150].offset}`),
    );
    const r = await lro('coalesce', p('mid-bad.pcapng'), '-o', p('e4.pcapng'), '--skip-bad', '--json');
    expect(r.code).toBe(0);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.out)).toMatchObject({ packetsIn: 299, skippedRecords: 1 });
  });

  it('a link type no engine takes: its records pass through unchanged, in place, counted (pcap and one pcapng interface)', async () => {
    const bad = Buffer.from(readFileSync(good));
    bad.writeUInt32LE(147, 20);
    writeFileSync(p('lt147.pcap'), bad);
    const r = await lro('coalesce', p('lt147.pcap'), '-o', p('e5.pcap'), '--json');
    expect(r.code).toBe(0);
    const n = readRecords(good).records.length;
    expect(JSON.parse(r.out)).toMatchObject({ packetsIn: 0, unsupportedRecords: n });
    expect(readFileSync(p('e5.pcap')).subarray(24)).toEqual(bad.subarray(24));
    // pcap timestamp words (seconds, µs) as a pcapng interface's 64-bit µs count.
    const records = readRecords(good)
      .records.slice(0, 400)
      .map((x) => ({ ...x, tsHigh: Math.floor(x.timeUs / 2 ** 32), tsLow: x.timeUs % 2 ** 32 }));
    const parts = [shb(), idb(1), idb(147)];
    for (const r0 of records) parts.push(epb(0, r0), epb(1, r0));
    writeFileSync(p('lt147.pcapng'), concat(parts));
    const ng = await lro('coalesce', p('lt147.pcapng'), '-o', p('e5.pcapng'), '--json');
    expect(ng.code).toBe(0);
    expect(JSON.parse(ng.out)).toMatchObject({ packetsIn: 400, unsupportedRecords: 400 });
    const out = readRecords(p('e5.pcapng')).records;
    const passed = out.filter((x) => x.interfaceId === 1);
    expect(passed.map((x) => Buffer.from(x.data).toString('hex'))).toEqual(records.map((x) => Buffer.from(x.data).toString('hex')));
    expect(out.filter((x) => x.interfaceId === 0).length).toBeLessThan(400);
    for (let i = 1; i < out.length; i++) expect(out[i].timeUs).toBeGreaterThanOrEqual(out[i - 1].timeUs);
  });

  it('the summary names a link type no engine takes (its records are not "no packets")', async () => {
    const bad = Buffer.from(readFileSync(good));
    bad.writeUInt32LE(147, 20);
    writeFileSync(p('lt147s.pcap'), bad);
    const r = await lro('coalesce', p('lt147s.pcap'), '-o', p('e5s.pcap'));
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/\(pcap, link type 147, wasm engine\)$/);
  });

  it('habits of tcpdump and editcap: gzip-compressed input, -r and -w', async () => {
    const input = await gen('gz.pcapng', '--packets', '2000', '--format', 'pcapng');
    writeFileSync(p('gz.pcapng.gz'), gzipSync(readFileSync(input)));
    expect((await lro('coalesce', input, '-o', p('gz.ref.pcapng'), '-q')).code).toBe(0);
    expect((await lro('coalesce', '-r', p('gz.pcapng.gz'), '-w', p('gz.out.pcapng'), '-q')).code).toBe(0);
    expect(readFileSync(p('gz.out.pcapng')).equals(readFileSync(p('gz.ref.pcapng')))).toBe(true);
    expect((await lro('inspect', p('gz.pcapng.gz'), '--json')).code).toBe(0);
    writeFileSync(p('cut.gz'), gzipSync(readFileSync(input)).subarray(0, 500));
    const cut = await lro('coalesce', p('cut.gz'), '-o', p('cut.out.pcapng'));
    expect(cut.code).toBe(1);
    expect(cut.err.trim()).toMatch(/cut\.gz: gzip data that does not decompress/);
    const both = await lro('coalesce', input, '-o', p('x.pcapng'), '-w', p('y.pcapng'));
    expect(both.code).toBe(2);
  });

  it('pcapng blocks stay in their place among the packets; custom blocks marked "do not copy" are dropped', async () => {
    const records = readRecords(good).records.map((x) => ({ ...x, tsHigh: Math.floor(x.timeUs / 2 ** 32), tsLow: x.timeUs % 2 ** 32 }));
    const custom = (type: number, text: string) => {
      const body = new TextEncoder().encode(text.padEnd(Math.ceil(text.length / 4) * 4, ' '));
      const b = new Uint8Array(12 + 4 + body.length);
      const v = new DataView(b.buffer);
      v.setUint32(0, type, true);
      v.setUint32(4, b.length, true);
      v.setUint32(8, 32473, true); // private enterprise number
      b.set(body, 12);
      v.setUint32(b.length - 4, b.length, true);
      return b;
    };
    const copy = custom(0x00000bad, 'keep me here');
    const noCopy = custom(0x40000bad, 'drop me');
    const cut = 200;
    const parts = [shb(), idb(1)];
    for (const [i, r0] of records.entries()) {
      if (i === cut) parts.push(copy, noCopy);
      parts.push(epb(0, r0));
    }
    writeFileSync(p('blocks.pcapng'), concat(parts));
    expect((await lro('coalesce', p('blocks.pcapng'), '-o', p('blocks.out.pcapng'), '-q')).code).toBe(0);
    const bytes = readFileSync(p('blocks.out.pcapng'));
    const at = bytes.indexOf(Buffer.from(copy));
    expect(at).toBeGreaterThan(0);
    expect(bytes.indexOf(Buffer.from(noCopy))).toBe(-1);
    const out = readRecords(p('blocks.out.pcapng')).records;
    const before = out.filter((r) => r.offset < at);
    const after = out.filter((r) => r.offset > at);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    for (const r of before) expect(r.timeUs).toBeLessThanOrEqual(records[cut - 1].timeUs);
    for (const r of after) expect(r.timeUs).toBeGreaterThanOrEqual(records[cut].timeUs);
  });

  it('BSD loopback (link types 0 and 108): the 4-byte family header is kept, what follows aggregates like raw IP', async () => {
    const raw = await gen('raw.pcap', '--packets', '3000', '--link-type', '101', '--ack-every', '0');
    const { records } = readRecords(raw);
    for (const [linkType, family] of [
      [0, Uint8Array.of(2, 0, 0, 0)],
      [108, Uint8Array.of(0, 0, 0, 2)],
    ] as const) {
      const parts = [shb(), idb(linkType)];
      for (const r0 of records) {
        const data = concat([family, r0.data]);
        parts.push(epb(0, { ...r0, data, origLen: data.length, tsHigh: Math.floor(r0.timeUs / 2 ** 32), tsLow: r0.timeUs % 2 ** 32 }));
      }
      const input = p(`loop${linkType}.pcapng`);
      writeFileSync(input, concat(parts));
      const r = await lro('coalesce', input, '-o', p(`loop${linkType}.out.pcapng`), '--json');
      expect(r.code).toBe(0);
      const s = JSON.parse(r.out);
      expect(s.unsupportedRecords).toBe(0);
      expect(s.packetsOut).toBeLessThan(s.packetsIn / 10);
      const out = readRecords(p(`loop${linkType}.out.pcapng`)).records;
      for (const o of out) expect(Buffer.from(o.data.subarray(0, 4))).toEqual(Buffer.from(family));
      // Without the family header, the output is what the engine makes of the raw IP capture.
      const rawOut = readRecords((await lro('coalesce', raw, '-o', p('raw.out.pcap'), '-q')).code === 0 ? p('raw.out.pcap') : '').records;
      expect(out.map((o) => Buffer.from(o.data.subarray(4)).toString('hex'))).toEqual(
        rawOut.map((o) => Buffer.from(o.data).toString('hex')),
      );
    }
  });

  it('unwritable output: missing directory, a directory as output', async () => {
    await fails(good, join(dir, 'no-such-dir', 'out.pcap'), /no-such-dir\/out\.pcap: cannot write \(ENOENT/);
    const r = await lro('coalesce', good, '-o', dir);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(dir);
    expect(readdirSync(join(dir, '..')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('an output name as long as a file name may be (255 bytes): written, and no temporary file left', async () => {
    const sub = p('long-name');
    mkdirSync(sub);
    const name = `${'é'.repeat(100)}${'a'.repeat(50)}.pcap`; // 255 bytes in UTF-8
    expect(Buffer.byteLength(name)).toBe(255);
    const r = await lro('coalesce', good, '-o', join(sub, name), '-q');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(sub)).toEqual([name]);
    expect(readRecords(join(sub, name)).records.length).toBeGreaterThan(0);
  });

  it('an existing output is replaced only when the run succeeds', async () => {
    writeFileSync(p('keep.pcap'), 'old');
    const bytes = readFileSync(good);
    writeFileSync(p('keep-in.pcap'), bytes.subarray(0, bytes.length - 10));
    expect((await lro('coalesce', p('keep-in.pcap'), '-o', p('keep.pcap'))).code).toBe(1);
    expect(readFileSync(p('keep.pcap'), 'utf8')).toBe('old');
    expect(leftovers('keep.pcap.tmp')).toEqual([]);
  });
});

describe('lro generate and inspect', () => {
  it('generate --snaplen N keeps at most N bytes of each frame (the wire length stays), in pcap and pcapng; coalesce passes them through', async () => {
    for (const format of ['pcap', 'pcapng']) {
      const comments = format === 'pcapng' ? ['--packet-comments'] : [];
      const file = await gen(`snap.${format}`, '--packets', '300', '--format', format, '--snaplen', '100', ...comments);
      const { info, records } = readRecords(file);
      expect(info.interfaces[0].snaplen).toBe(100);
      expect(records.every((r) => r.data.length <= 100)).toBe(true);
      expect(records.filter((r) => r.origLen > 100).length).toBeGreaterThan(100);
      const r = await lro('coalesce', file, '-o', p(`snap.out.${format}`), '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ aggregates: 0, passedThrough: 300 });
    }
  });

  it('generate is deterministic, honours the format flags and validates its options', async () => {
    await gen('g1.pcapng', '--packets', '500', '--seed', '3');
    await gen('g2.pcapng', '--packets', '500', '--seed', '3');
    expect(readFileSync(p('g1.pcapng')).equals(readFileSync(p('g2.pcapng')))).toBe(true);
    const info = readRecords(p('g1.pcapng')).info;
    expect(info).toMatchObject({ format: 'pcapng', byteOrder: 'le', resolution: 'us' });
    const { info: i2, records } = readRecords(
      await gen('g3.cap', '--packets', '10', '--format', 'pcap', '--resolution', 'ns', '--big-endian', '--link-type', '113'),
    );
    expect(i2).toMatchObject({ format: 'pcap', byteOrder: 'be', resolution: 'ns' });
    expect(i2.interfaces[0].linkType).toBe(113);
    expect(records).toHaveLength(10);
    const j = await lro('generate', '-o', p('g4.pcap'), '--packets', '100', '--json');
    expect(JSON.parse(j.out)).toMatchObject({ packets: 100, format: 'pcap', linkType: 1 });
    for (const [args, msg] of [
      [['--loss', '1'], /--loss must be in \[0, 1\)/],
      [['--flows', '0'], /--flows must be an integer/],
      [['--small-segments', 'x'], /--small-segments must be A-B/],
      [['--link-type', '147'], /--link-type must be one of/],
      [['--link-type', '101', '--vlan', '3'], /--vlan needs an Ethernet --link-type/],
      [['--link-type', '229'], /--link-type 229 \(raw IPv6\) needs --ipv6 1/],
      [['--format', 'erf'], /--format must be pcap or pcapng/],
    ] as [string[], RegExp][]) {
      const r = await lro('generate', '-o', p('gbad.pcap'), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
      expect(existsSync(p('gbad.pcap'))).toBe(false);
    }
    expect((await lro('generate')).code).toBe(2);
  });

  it('inspect: per-flow table sorted by packets, totals, --json', async () => {
    const input = await gen('insp.pcap', '--packets', '3000', '--flows', '4', '--noise', '0.02', '--small-segments', '100-1000');
    const j = await lro('inspect', input, '--json');
    expect(j.code).toBe(0);
    const r = JSON.parse(j.out);
    expect(r.packets).toBe(3000);
    expect(r.rows.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < r.rows.length; i++) expect(r.rows[i - 1].packets).toBeGreaterThanOrEqual(r.rows[i].packets);
    const byBytes = JSON.parse((await lro('inspect', input, '--json', '--sort', 'bytes')).out);
    for (let i = 1; i < byBytes.rows.length; i++) expect(byBytes.rows[i - 1].bytes).toBeGreaterThanOrEqual(byBytes.rows[i].bytes);
    expect((await lro('inspect', input, '--sort', 'time')).code).toBe(2);
    const data = r.rows.filter((x: { segments: number; dport: number }) => x.segments > 0 && x.dport === 5201);
    expect(data.length).toBeGreaterThanOrEqual(4);
    for (const x of data) {
      expect(x.segmentMin).toBeGreaterThanOrEqual(100);
      expect(x.segmentMax).toBeLessThanOrEqual(1000);
      expect(x.segmentMean).toBeGreaterThan(x.segmentMin);
    }
    expect(r.tcpPackets + r.otherPackets).toBe(3000);
    const t = await lro('inspect', input, '--top', '3');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/3,000 packets/);
    expect(t.out).toMatch(/flow +packets +bytes +payload +segments +min +mean +max/);
    expect(t.out).toMatch(/more \(--top 0 shows all\)/);
    // After coalescing, segments are joined (random sizes end aggregates early in gro: short / mismatch-mss).
    await lro('coalesce', input, '-o', p('insp.out.pcap'), '-q');
    const after = JSON.parse((await lro('inspect', p('insp.out.pcap'), '--json')).out);
    expect(Math.max(...after.rows.map((x: { segmentMax: number }) => x.segmentMax))).toBeGreaterThan(1000);
    expect((await lro('inspect', p('nope.pcap'))).code).toBe(1);
    expect((await lro('inspect')).code).toBe(2);
  });
});

describe('the lro executable', () => {
  it('--help is short; help all documents every command and flag; --version; per-command help', () => {
    const short = lroProcess('--help');
    expect(short.code).toBe(0);
    expect(short.out.split('\n').length).toBeLessThan(30);
    for (const word of ['coalesce', 'generate', 'inspect', 'bench', 'demo', 'Exit status', 'lro help all'])
      expect(short.out).toContain(word);
    const h = lroProcess('help', 'all');
    expect(h.code).toBe(0);
    for (const word of [
      'coalesce',
      'generate',
      'inspect',
      'bench',
      'demo',
      '--preset',
      '--max-flows',
      '--max-aggregate',
      '--mtu',
      '--threshold',
      '--aggregate-timeout-us',
      '--idle-timeout-ms',
      '--no-verify-checksums',
      '--no-fix-checksums',
      '--engine',
      '--hash-seed',
      '--json',
      '--skip-bad',
      '--output',
      '--quiet',
      '--packets',
      '--loss',
      '--reorder',
      '--ipv6',
      '--vlan',
      '--noise',
      '--small-segments',
      '--format',
      '--link-type',
      '--top',
      'Exit status',
    ]) {
      expect(h.out, word).toContain(word);
    }
    expect(lroProcess('--version').out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const c = lroProcess('coalesce', '--help');
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/^usage: lro coalesce IN -o OUT/);
    const typo = lroProcess('coalesce', 'x.pcap', '-o', 'y.pcap', '--max-flow', '8');
    expect(typo.code).toBe(2);
    expect(typo.err.trim()).toBe('lro coalesce: unknown option --max-flow (did you mean --max-flows? see lro coalesce --help)');
  });

  it('exit status and stderr as a user sees them; --json on stdout only', async () => {
    const input = await gen('exe.pcap', '--packets', '1000');
    const ok = lroProcess('coalesce', input, '-o', p('exe.out.pcap'), '--json');
    expect(ok.code).toBe(0);
    expect(ok.err).toBe('');
    expect(JSON.parse(ok.out).packetsIn).toBe(1000);
    const missing = lroProcess('coalesce', p('missing.pcap'), '-o', p('exe2.pcap'));
    expect(missing.code).toBe(1);
    expect(missing.err.trim().split('\n')).toEqual([`${p('missing.pcap')}: cannot open (ENOENT: no such file or directory)`]);
    const usage = lroProcess('coalesce', input, '-o', p('exe2.pcap'), '--max-flows', 'lots');
    expect(usage.code).toBe(2);
    expect(usage.err.trim().split('\n')).toHaveLength(1);
    expect(lroProcess('nonsense').code).toBe(2);
    expect(existsSync(p('exe2.pcap'))).toBe(false);
  }, 30_000);

  it('usage mistakes a new user makes: no command, output = input, an unwritable demo directory, an empty capture', async () => {
    const none = lroProcess();
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^usage: lro <command>/);
    const input = await gen('same.pcap', '--packets', '100');
    const before = readFileSync(input);
    const same = await lro('coalesce', input, '-o', input);
    expect(same.code).toBe(2);
    expect(same.err).toContain('would replace the input');
    expect(readFileSync(input)).toEqual(before);
    const demo = await lro('demo', '--packets', '100', '--dir', '/sys/no-such-dir');
    expect(demo.code).toBe(1);
    expect(demo.err.trim().split('\n')).toHaveLength(1);
    expect(demo.err.trim()).toMatch(/^\/sys\/no-such-dir: cannot create the directory \(E[A-Z]+: [^)]+\)$/);
    const empty = await gen('empty.pcap', '--packets', '0');
    const r = await lro('coalesce', empty, '-o', p('empty.out.pcap'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/packets +0 in → 0 out\n/);
  });

  it('Ctrl-C, SIGTERM or SIGHUP mid-run: ended by that signal (the shell says 130 / 143 / 129), one line on stderr, no output and no temporary file left', async () => {
    const input = await gen('sigint.pcap', '--packets', '200000');
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const outDir = p(`sig-${signal}`);
      mkdirSync(outDir);
      const child = spawn(process.execPath, [BIN, 'coalesce', input, '-o', join(outDir, 'out.pcap'), '--engine', 'ts'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      // Interrupt as soon as the temporary output exists: the run is well under way, far from done.
      while (readdirSync(outDir).length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      child.kill(signal);
      // As gzip does: the parent sees the signal, so a shell script's loop around lro stops too.
      expect(await exited).toEqual({ code: null, signal });
      expect(err.trim().split('\n')).toEqual([`lro: interrupted by ${signal}; unfinished output removed`]);
      expect(readdirSync(outDir)).toEqual([]);
    }
  }, 90_000);

  it('demo (npm start) prints a real summary', async () => {
    const r = await lro('demo', '--packets', '20000', '--dir', p('demo'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/20,000 in → [\d,]+ out/);
    expect(r.out).toContain(join(p('demo'), 'sample.coalesced.pcap'));
    expect(existsSync(join(p('demo'), 'sample.coalesced.pcap'))).toBe(true);
  });

  it('bench reports clearly when the suite is not there, or runs it', async () => {
    const r = await lro('bench', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/usage: lro bench/);
  });

  it('bench (built in, no clone needed) times both engines on the same frames', async () => {
    const r = await lro('bench', '--packets', '5000', '--seconds', '0.2', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ packets: 5000, flows: 1, batch: 256 });
    for (const delivery of ['sink', 'drain']) {
      for (const engine of ['wasm', 'ts']) {
        expect(j[delivery][engine].mpps).toBeGreaterThan(0);
        expect(j[delivery][engine].nsPerFrame).toBeGreaterThan(0);
        expect(j[delivery][engine].passes).toBeGreaterThan(0);
      }
      expect(j[delivery].wasmOverTs).toBeGreaterThan(0);
    }
    // Bulk 1448-byte segments: ~45 per aggregate, the same output from every runner.
    expect(j.packetsOut).toBeGreaterThan(0);
    expect(j.segmentsPerPacket).toBeGreaterThan(40);
  }, 60_000);

  it('bench prints its table from bin/lro.js; stray arguments are a usage error', async () => {
    const r = lroProcess('bench', '--packets', '2000', '--seconds', '0.1', '--batch', '0');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/2,000 frames per pass .*push\(\) per frame/);
    expect(r.out).toMatch(/^sink \(setSink\) +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+×$/m);
    expect(r.out).toMatch(/^drain\(\) +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+×$/m);
    const stray = await lro('bench', '--quick');
    expect(stray.code).toBe(2);
    expect(stray.err).toMatch(/lro bench: unknown option --quick/);
    const positional = await lro('bench', 'quick');
    expect(positional.code).toBe(2);
    expect(positional.err).toMatch(/after --suite/);
  }, 60_000);
});

/** A pcapng file of Ethernet frames at the given capture times (µs). */
function pcapngOf(frames: Uint8Array[], timesUs: number[]): Uint8Array {
  const records = frames.map((data, i) => {
    const ts = timesUs[i];
    return { data, tsHigh: Math.floor(ts / 2 ** 32), tsLow: ts % 2 ** 32, origLen: data.length, tail: new Uint8Array(0) };
  });
  return concat([shb(), idb(1), ...records.map((r) => epb(0, r as never))]);
}

describe('lro coalesce: why nothing merged', () => {
  // A capture taken on the sender with checksum offload: its data segments carry the partial
  // checksum (bad on the wire), the receiver's pure ACKs are fine. One timestamp goes backwards.
  const MSS = 1448;
  const frames: Uint8Array[] = [
    tcpFrame({ flags: SYN, seq: 999 }),
    tcpFrame({ src: '10.0.0.2', dst: '10.0.0.1', sport: 5201, dport: 40000, flags: SYN | ACK, ack: 1000 }),
  ];
  for (let i = 0; i < 120; i++) {
    frames.push(tcpFrame({ seq: 1000 + i * MSS, payload: MSS, badTcpChecksum: true }));
    if (i % 2 === 1)
      frames.push(tcpFrame({ src: '10.0.0.2', dst: '10.0.0.1', sport: 5201, dport: 40000, seq: 1, ack: 1000 + (i + 1) * MSS }));
  }
  frames.push(tcpFrame({ seq: 1000 + 120 * MSS, flags: ACK | FIN }));
  const times = frames.map((_, i) => 1_700_000_000_000_000 + i * 10);
  times[50] = times[49] - 5; // backwards

  it('the summary lists the pass-through causes, largest first, hints at checksum offload and warns about the clock', async () => {
    writeFileSync(p('offload.pcapng'), pcapngOf(frames, times));
    const r = await lro('coalesce', p('offload.pcapng'), '-o', p('offload.out.pcapng'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pass-through +183 frames unchanged: bad-tcp-checksum 120 · no-payload 63\n/);
    expect(r.out).toMatch(
      /^ {2}hint: captures taken on a host with checksum offload carry bad checksums in one direction — rerun with --no-verify-checksums$/m,
    );
    expect(r.out).toMatch(
      /^ {2}warning: 1 timestamp went backwards \(each treated as the one before it: the capture is out of time order\)$/m,
    );
    expect(r.out.match(/hint:/g)).toHaveLength(1);

    const j = JSON.parse((await lro('coalesce', p('offload.pcapng'), '-o', p('offload.out.pcapng'), '--json')).out);
    expect(j.passThroughCauses).toMatchObject({ 'bad-tcp-checksum': 120, 'no-payload': 63, 'not-tcp': 0 });
    expect(j.reasons['pass-through']).toBe(183);
    expect(j.clockClamped).toBe(1);
  });

  it('with --no-verify-checksums the segments aggregate and there is no hint', async () => {
    const r = await lro('coalesce', p('offload.pcapng'), '-o', p('offload-nv.out.pcapng'), '--no-verify-checksums');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pass-through +63 frames unchanged: no-payload 63\n/);
    expect(r.out).not.toMatch(/hint:/);
    expect(r.out).toMatch(/aggregates +\d+ holding 120 segments/);
  });

  it('a clean capture: no hint, no warning; causes shown all the same', async () => {
    const input = await gen('clean.pcap', '--packets', '3000');
    const r = await lro('coalesce', input, '-o', p('clean.out.pcap'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pass-through +[\d,]+ frames unchanged: no-payload [\d,]+/);
    expect(r.out).not.toMatch(/hint:|warning:/);
  });
});

describe('lro coalesce --max-frame', () => {
  it('no output record is larger; the byte streams are the same as without it', async () => {
    const input = await gen('mf.pcap', '--packets', '4000', '--ipv6', '0.3', '--vlan', '7');
    for (const [flag, limit] of [
      ['9014', 9014],
      ['1528', 1528],
      ['65535', 65535],
    ] as const) {
      const r = await lro('coalesce', input, '-o', p(`mf-${flag}.out.pcap`), '--max-frame', flag, '--json');
      expect(r.code).toBe(0);
      const s = JSON.parse(r.out);
      expect(s.aggregates).toBeGreaterThan(0);
      const records = readRecords(p(`mf-${flag}.out.pcap`)).records;
      expect(Math.max(...records.map((x) => x.data.length)), `--max-frame ${flag}`).toBeLessThanOrEqual(limit);
      await checkAgainstEngine(input, p(`mf-${flag}.out.pcap`), { maxFrame: limit });
    }
  });

  it('the limit is the record written: a BSD loopback family header and a computed FCS count', async () => {
    // Raw IP with TCP timestamps: an aggregate of two full segments is 20 + 32 + 2 × 1448 = 2948 bytes.
    const raw = readRecords(await gen('mf-raw.pcap', '--packets', '3000', '--link-type', '101')).records;
    const family = Uint8Array.of(2, 0, 0, 0);
    const loop = raw.map((r) => {
      const data = concat([family, r.data]);
      return epb(0, { ...r, data, origLen: data.length, tsHigh: Math.floor(r.timeUs / 2 ** 32), tsLow: r.timeUs % 2 ** 32 });
    });
    writeFileSync(p('mf-loop.pcapng'), concat([shb(), idb(0), ...loop]));
    // Ethernet frames with their FCS (pcap FCS bits): two full segments make 14 + 2948 + 4 bytes.
    writeFileSync(p('mf-fcs.pcap'), withFcs(readFileSync(await gen('mf-eth.pcap', '--packets', '3000'))));
    for (const [input, limits] of [
      [p('mf-loop.pcapng'), [2948, 2952, 65535]],
      [p('mf-fcs.pcap'), [2962, 2966, 65535]],
    ] as const) {
      for (const limit of limits) {
        const out = `${input}.${limit}.out`;
        const r = await lro('coalesce', input, '-o', out, '--max-frame', String(limit), '--json');
        expect(r.code).toBe(0);
        expect(JSON.parse(r.out).aggregates).toBeGreaterThan(0);
        const longest = Math.max(...readRecords(out).records.map((x) => x.data.length));
        expect(longest, `${input} --max-frame ${limit}`).toBeLessThanOrEqual(limit);
      }
    }
    await checkAgainstEngine(p('mf-loop.pcapng'), `${p('mf-loop.pcapng')}.2952.out`, { maxFrame: 2948 });
  });

  it('a value below --mtu exits 2 naming --max-frame', async () => {
    const input = await gen('mf-bad.pcap', '--packets', '100');
    const r = await lro('coalesce', input, '-o', p('mf-bad.out.pcap'), '--max-frame', '1000');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--max-frame must be 0 \(no limit\) or an integer in \[1500, 4294967295\], got 1000/);
  });
});
