// `lro coalesce -F pcap|pcapng`: writing the other capture format (capture/convert.ts).
//
// Real captures (test/captures/, SOURCES.md) both ways: with `--threshold 0` (nothing aggregated)
// the converted file holds the input's packets — same bytes, lengths and instants, judged by this
// reader for every capture and by tshark (time to the ns, lengths, hex dump) for a set of them;
// coalesced normally it holds exactly the packets of a same-format run, on both engines alike,
// and tshark follows the same byte streams. pcap → pcapng → pcap gives the bytes of coalescing
// straight to pcap; ns resolution is kept; a pcapng file with packets on two link types is
// refused with one line and leaves nothing behind; what pcap cannot hold is counted.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapStamp, pcapHeader, pcapToTicks, hasOptions } from '../bindings/capture/convert.js';
import { type CaptureRecord, createCaptureWriter, type InterfaceInfo, openCapture, probeCapture } from '../bindings/capture/index.js';
import { concat, epb, idb, lro, readRecords, shb } from './helpers/cli.js';
import { followStreams, tshark, tsharkSkipped } from './helpers/tshark.js';

const DIR = fileURLToPath(new URL('./captures/', import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => /\.(pcap|pcapng|cap)(\.gz)?$/.test(f))
  .sort();
const skipTshark = tsharkSkipped();
if (skipTshark) console.warn(`format.test.ts: tshark checks skipped (${skipTshark})`);

const tmp = mkdtempSync(join(tmpdir(), 'lro-format-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let serial = 0;
/** A fresh directory (so "nothing left behind" can be checked by listing it). */
function dir(): string {
  const d = join(tmp, `d${serial++}`);
  mkdirSync(d);
  return d;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const other = (file: string) => (probeCapture(join(DIR, file)).format === 'pcapng' ? 'pcap' : 'pcapng');

/** Link types of the interfaces that have packets. */
function packetLinkTypes(records: CaptureRecord[]): Set<number> {
  return new Set(records.map((r) => r.linkType));
}

/** tshark's view of every packet: time to the ns, lengths (SPBs have no time: left out), and the hex dump. */
async function packetsSeen(file: string): Promise<{ times: string; dump: string }> {
  const times = await tshark(['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len']);
  return { times, dump: await tshark(['-r', file, '-q', '-x']) };
}

/** Every TCP stream tshark follows: "#index node ⇄ node" → digest of both directions. */
async function streams(file: string): Promise<Map<string, string>> {
  const ids = new Set((await tshark(['-r', file, '-T', 'fields', '-e', 'tcp.stream'])).split(/[\n,]/).filter(Boolean).map(Number));
  if (ids.size === 0) return new Map();
  return followStreams(await tshark(['-r', file, '-q', ...[...ids].flatMap((id) => ['-z', `follow,tcp,raw,${id}`])]), ids);
}

describe('lro coalesce -F: every real capture converted with nothing aggregated (--threshold 0)', () => {
  for (const file of FILES) {
    it(file, async () => {
      const input = join(DIR, file);
      const to = other(file);
      const d = dir();
      const out = join(d, `out.${to}`);
      const r = await lro('coalesce', input, '-F', to, '--threshold', '0', '-o', out, '--json');
      if (r.code !== 0) {
        // A known bad capture fails the same way without -F; a pcapng with packets on two link
        // types cannot become pcap: one line naming both interfaces. Nothing is left behind.
        expect(r.code).toBe(1);
        expect(r.err.trim().split('\n')).toHaveLength(1);
        expect(readdirSync(d)).toEqual([]);
        if (/cannot be written as pcap/.test(r.err)) {
          expect(to).toBe('pcap');
          expect(r.err).toMatch(/interface \d+ .*is link type \d+, interface \d+ .*is link type \d+/);
          expect(packetLinkTypes(readRecords(input).records).size).toBeGreaterThan(1);
        } else {
          expect((await lro('coalesce', input, '--threshold', '0', '-o', join(d, 'same'))).code).toBe(1);
        }
        return;
      }
      const a = readRecords(input);
      const b = readRecords(out);
      expect(b.info.format).toBe(to);
      expect(b.records.length).toBe(a.records.length);
      const json = JSON.parse(r.out);
      expect(json.format).toBe(to);
      expect(json.inputFormat).toBe(a.info.format);
      expect(json.conversion.from).toBe(a.info.format);
      for (const [i, x] of a.records.entries()) {
        const y = b.records[i];
        expect(hex(y.data), `record ${i}`).toBe(hex(x.data));
        expect(y.origLen).toBe(x.origLen);
        expect(y.linkType).toBe(x.linkType);
        // A simple packet block has no time: it takes the time of the packet before it (as the reader gives it, µs).
        if (x.kind !== 3) expect(y.timeUs, `record ${i} time`).toBe(x.timeUs);
      }
      if (to === 'pcapng') {
        // One interface as the pcap header said: link type, resolution, FCS length.
        expect(b.info.interfaces).toHaveLength(1);
        const [i, o] = [a.info.interfaces[0], b.info.interfaces[0]];
        expect([o.linkType, o.tsresol, o.fcsLen]).toEqual([i.linkType, i.tsresol, i.fcsLen]);
        expect(o.snaplen).toBe(Math.max(i.snaplen, 262144));
        expect(json.conversion).toMatchObject({ packetOptions: 0, untimedPackets: 0, roundedTimestamps: 0 });
      } else {
        const spbs = a.records.filter((x) => x.kind === 3).length;
        expect(json.conversion.untimedPackets).toBe(spbs);
        const le = a.info.byteOrder === 'le';
        const withOptions = a.records.filter((x) => x.kind !== 3 && hasOptions(x.tail, x.data.length, le)).length;
        expect(json.conversion.packetOptions).toBe(withOptions);
        // ns exactly when an interface is finer than µs.
        const finer = a.info.interfaces.some((i) => (i.tsresol & 0x7f) > 6);
        expect(b.info.resolution).toBe(finer ? 'ns' : 'us');
        expect(json.conversion.resolution).toBe(b.info.resolution);
      }
    });
  }
});

describe.skipIf(skipTshark)('tshark reads the converted captures: same instants (to the ns), lengths and bytes', () => {
  const cases = [
    'dpkt-http.pcap', // µs
    'wireshark-dhcp-nanosecond.pcap', // ns magic
    'tcpdump-pptp.pcap', // big-endian
    'gopacket-test_loopback.pcap', // BSD loopback
    'pcaprub-telnet-raw.pcap.gz', // gzip, snap length 1514
    'ndpi-z3950.pcapng', // two interfaces, µs and ns
    'wireshark-dmgr.pcapng', // Linux SLL, ns
    'gopacket-le-test902.pcapng', // if_tsresol 2^-8: exact in ns
    'gopacket-le-test008.pcapng', // two interfaces, ns, if_fcslen 0
    'wireshark-netperfmeter.pcapng.gz', // 2342 packets, ns
  ];
  for (const file of cases) {
    it(file, async () => {
      const input = join(DIR, file);
      const to = other(file);
      const out = join(dir(), `out.${to}`);
      expect((await lro('coalesce', input, '-F', to, '--threshold', '0', '-o', out, '-q')).code).toBe(0);
      const seen = await packetsSeen(out);
      const want = await packetsSeen(input);
      expect(seen.times).toBe(want.times);
      expect(seen.dump).toBe(want.dump);
      expect(seen.times.split('\n').filter(Boolean).length).toBe(readRecords(input).records.length);
    });
  }
});

describe('coalescing into the other format', () => {
  const cases = [
    'ndpi-443-firefox.pcap', // Ethernet
    'ndpi-rdp.pcap', // BSD loopback, 2010 packets
    'wireshark-tls-fragmented-handshakes.pcap.gz', // raw IPv4
    'ndpi-z3950.pcapng', // two interfaces, µs and ns
    'ndpi-git.pcap', // pcapng (whatever its name), ns
  ];
  for (const file of cases) {
    it(`${file}: the packets of a same-format run, both engines byte-identical, tshark's streams identical`, async () => {
      const input = join(DIR, file);
      const to = other(file);
      const d = dir();
      const same = join(d, 'same');
      expect((await lro('coalesce', input, '-o', same, '-q')).code).toBe(0);
      const outs = [];
      for (const engine of ['wasm', 'ts']) {
        const out = join(d, `${engine}.${to}`);
        expect((await lro('coalesce', input, '-F', to, '--engine', engine, '-o', out, '-q')).code).toBe(0);
        outs.push(out);
      }
      expect(hex(readFileSync(outs[1]))).toBe(hex(readFileSync(outs[0])));
      const a = readRecords(same).records;
      const b = readRecords(outs[0]).records;
      expect(b.length).toBe(a.length);
      expect(b.length).toBeLessThan(readRecords(input).records.length); // something was aggregated
      for (const [i, x] of a.entries()) {
        expect(hex(b[i].data), `packet ${i}`).toBe(hex(x.data));
        expect([b[i].origLen, b[i].timeUs]).toEqual([x.origLen, x.timeUs]);
      }
      if (!skipTshark) {
        const want = await streams(same);
        expect(want.size).toBeGreaterThan(0);
        expect(await streams(outs[0])).toEqual(want);
      }
    });
  }

  it('pcap → pcapng → pcap is byte for byte coalescing straight to pcap (little-endian captures)', async () => {
    for (const file of ['dpkt-http.pcap', 'wireshark-dhcp-nanosecond.pcap', 'ndpi-443-firefox.pcap', 'gopacket-test_loopback.pcap']) {
      const input = join(DIR, file);
      const d = dir();
      const [straight, ng, back, ngPlain, back2] = ['a.pcap', 'b.pcapng', 'c.pcap', 'd.pcapng', 'e.pcap'].map((f) => join(d, f));
      expect((await lro('coalesce', input, '-o', straight, '-q')).code).toBe(0);
      // Coalesce into pcapng, then only convert back; or only convert, then coalesce back to pcap.
      expect((await lro('coalesce', input, '--format', 'pcapng', '-o', ng, '-q')).code).toBe(0);
      expect((await lro('coalesce', ng, '-F', 'pcap', '--threshold', '0', '-o', back, '-q')).code).toBe(0);
      expect((await lro('coalesce', input, '-Fpcapng', '--threshold', '0', '-o', ngPlain, '-q')).code).toBe(0);
      expect((await lro('coalesce', ngPlain, '--format=libpcap', '-o', back2, '-q')).code).toBe(0);
      const want = hex(readFileSync(straight));
      expect(hex(readFileSync(back)), file).toBe(want);
      expect(hex(readFileSync(back2)), file).toBe(want);
    }
  });

  it('-F naming the input format changes nothing (no conversion reported)', async () => {
    for (const [file, format] of [
      ['dpkt-http.pcap', 'pcap'],
      ['ndpi-z3950.pcapng', 'PCAPNG'],
    ]) {
      const d = dir();
      const plain = join(d, 'a');
      const named = join(d, 'b');
      expect((await lro('coalesce', join(DIR, file), '-o', plain, '-q')).code).toBe(0);
      const r = await lro('coalesce', join(DIR, file), '-F', format, '-o', named, '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).conversion).toBeNull();
      expect(hex(readFileSync(named))).toBe(hex(readFileSync(plain)));
    }
  });
});

describe('pcapng → pcap: what cannot be converted', () => {
  it('packets on interfaces of two link types: refused, one line naming both, nothing left behind, exit 1', async () => {
    for (const file of ['gopacket-le-test006.pcapng', 'wireshark-grpc_stream_reassembly_sample.pcapng.gz', 'gopacket-be-test202.pcapng']) {
      for (const engine of ['wasm', 'ts']) {
        const d = dir();
        const r = await lro('coalesce', join(DIR, file), '-F', 'pcap', '--engine', engine, '-o', join(d, 'out.pcap'));
        expect(r.code).toBe(1);
        expect(r.out).toBe('');
        const lines = r.err.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(file);
        expect(lines[0]).toMatch(
          /cannot be written as pcap \(packets on two link types: interface \d+ .*link type \d+, interface \d+ .*link type \d+/,
        );
        expect(readdirSync(d)).toEqual([]);
      }
    }
    // The names: interface 0 (eth0) Ethernet, interface 1 (en1) BSD loopback.
    const r = await lro('coalesce', join(DIR, 'gopacket-le-test006.pcapng'), '-F', 'pcap', '-o', join(dir(), 'x'));
    expect(r.err).toContain('interface 0 (eth0) is link type 1, interface 1 (en1) is link type 0');
    // An interface of another link type without packets does not matter.
    const d = dir();
    const base = readRecords(join(DIR, 'dpkt-http.pcap')).records.slice(0, 3);
    const t = { hi: 0, lo: 0 };
    const asEpb = (x: CaptureRecord) => {
      pcapToTicks(x.tsHigh, x.tsLow, false, t);
      return epb(1, { ...x, tsHigh: t.hi, tsLow: t.lo });
    };
    writeFileSync(join(d, 'in.pcapng'), concat([shb(), idb(0), idb(1), ...base.map(asEpb)]));
    const ok = await lro('coalesce', join(d, 'in.pcapng'), '-F', 'pcap', '-o', join(d, 'out.pcap'), '-q');
    expect(ok.code).toBe(0);
    expect(readRecords(join(d, 'out.pcap')).info.interfaces[0].linkType).toBe(1);
  });

  it('non-packet blocks, packet options and timeless simple packet blocks are dropped or stamped, and counted', async () => {
    const d = dir();
    // test016: SPBs and EPBs between name resolution blocks.
    let r = await lro('coalesce', join(DIR, 'gopacket-le-test016.pcapng'), '-F', 'pcap', '-o', join(d, 'a.pcap'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).conversion).toEqual({
      from: 'pcapng',
      to: 'pcap',
      resolution: 'us',
      nameResolutionBlocks: 3,
      statisticsBlocks: 0,
      customBlocks: 0,
      otherBlocks: 0,
      packetOptions: 0,
      untimedPackets: 2,
      roundedTimestamps: 0,
    });
    // The first SPB has no packet before it (time 0, as editcap writes it); the second takes the EPB's before it.
    const recs = readRecords(join(d, 'a.pcap')).records;
    expect(recs.map((x) => x.timeUs)).toEqual([0, 1340954905298858, 1340954905298858, 1340954905300858]);
    r = await lro('coalesce', join(DIR, 'gopacket-le-test016.pcapng'), '-F', 'pcap', '-o', join(d, 'b.pcap'));
    expect(r.out).toContain(
      'converted    pcapng → pcap, timestamps in µs; dropped (pcap cannot hold them): 3 name resolution blocks; 2 simple packet blocks (no timestamp) stamped with the time of the packet before',
    );
    // test013: an interface and its statistics, no packets; test017: custom blocks only, no interface.
    r = await lro('coalesce', join(DIR, 'gopacket-le-test013.pcapng'), '-F', 'pcap', '-o', join(d, 'c.pcap'), '--json');
    expect(JSON.parse(r.out).conversion).toMatchObject({ statisticsBlocks: 1 });
    expect(readRecords(join(d, 'c.pcap')).info.interfaces[0]).toMatchObject({ linkType: 1, snaplen: 262144 });
    r = await lro('coalesce', join(DIR, 'gopacket-le-test017.pcapng'), '-F', 'pcap', '-o', join(d, 'd.pcap'), '--json');
    expect(JSON.parse(r.out).conversion).toMatchObject({ customBlocks: 4 }); // two of each kind
    expect(readRecords(join(d, 'd.pcap')).records).toHaveLength(0);
    // Packet comments: every packet's options are dropped.
    const gen = join(d, 'comments.pcapng');
    expect((await lro('generate', '-o', gen, '--packets', '300', '--packet-comments', '-q')).code).toBe(0);
    r = await lro('coalesce', gen, '-F', 'pcap', '--threshold', '0', '-o', join(d, 'e.pcap'), '--json');
    expect(JSON.parse(r.out).conversion).toMatchObject({ packetOptions: 300, resolution: 'us' });
    // Coalesced: aggregates are new packets without options; the packets written as their records had some.
    r = await lro('coalesce', gen, '-F', 'pcap', '-o', join(d, 'f.pcap'), '--json');
    expect((await lro('coalesce', gen, '-o', join(d, 'f.pcapng'), '-q')).code).toBe(0);
    const withOptions = readRecords(join(d, 'f.pcapng')).records.filter((x) => hasOptions(x.tail, x.data.length, true)).length;
    expect(withOptions).toBeGreaterThan(0);
    expect(withOptions).toBeLessThan(JSON.parse(r.out).packetsOut);
    expect(JSON.parse(r.out).conversion.packetOptions).toBe(withOptions);
  });

  it('resolutions beyond µs and ns: ns chosen, timestamps it cannot hold rounded down and counted; if_tsresol 3 stays µs', async () => {
    const d = dir();
    const base = readRecords(join(DIR, 'dpkt-http.pcap')).records.slice(0, 4);
    // 10^-12 s units (64 bits hold 213 days of them): t ps; the second and fourth are not whole ns.
    const ps = [10_000_000_000_000_000_000n, 10_000_000_000_000_000_001n, 10_000_000_000_000_001_000n, 10_000_000_123_456_789_012n];
    const words = (t: bigint) => ({ tsHigh: Number(t >> 32n), tsLow: Number(t & 0xffffffffn) });
    const file = join(d, 'ps.pcapng');
    writeFileSync(file, concat([shb(), idb(1, 12), ...base.map((r, i) => epb(0, { ...r, tail: new Uint8Array(0), ...words(ps[i]) }))]));
    const r = await lro('coalesce', file, '-F', 'pcap', '--threshold', '0', '-o', join(d, 'ps.pcap'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).conversion).toMatchObject({ resolution: 'ns', roundedTimestamps: 2 });
    const out = readRecords(join(d, 'ps.pcap'));
    expect(out.info.resolution).toBe('ns');
    expect(out.records.map((x) => BigInt(x.tsHigh) * 1_000_000_000n + BigInt(x.tsLow))).toEqual(ps.map((t) => t / 1000n));
    // Milliseconds: exact in µs.
    const ms = join(d, 'ms.pcapng');
    writeFileSync(
      ms,
      concat([shb(), idb(1, 3), ...base.map((r, i) => epb(0, { ...r, tail: new Uint8Array(0), tsHigh: 0, tsLow: 1_700_000_000 + i }))]),
    );
    const m = await lro('coalesce', ms, '-F', 'pcap', '--threshold', '0', '-o', join(d, 'ms.pcap'), '--json');
    expect(JSON.parse(m.out).conversion).toMatchObject({ resolution: 'us', roundedTimestamps: 0 });
    expect(readRecords(join(d, 'ms.pcap')).records.map((x) => [x.tsHigh, x.tsLow])).toEqual(base.map((_, i) => [1_700_000, i * 1000]));
  });
});

describe('-F on the command line', () => {
  it('an unknown format: one line listing the choices (did you mean), exit 2, nothing written', async () => {
    const d = dir();
    let r = await lro('coalesce', join(DIR, 'dpkt-http.pcap'), '-F', 'pcpang', '-o', join(d, 'x'));
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe("lro coalesce: unknown output format 'pcpang' for -F (did you mean pcapng? choose pcap or pcapng)");
    r = await lro('coalesce', join(DIR, 'dpkt-http.pcap'), '--format', 'erf', '-o', join(d, 'x'));
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe("lro coalesce: unknown output format 'erf' for -F (choose pcap or pcapng)");
    r = await lro('coalesce', join(DIR, 'dpkt-http.pcap'), '-F', 'constructor', '-o', join(d, 'x'));
    expect(r.code).toBe(2);
    r = await lro('coalesce', join(DIR, 'dpkt-http.pcap'), '-F', 'nsecpcap', '-o', join(d, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('-F pcap writes ns timestamps');
    r = await lro('coalesce', join(DIR, 'dpkt-http.pcap'), '-F', '-o', join(d, 'x'));
    expect(r.code).toBe(2);
    expect(readdirSync(d)).toEqual([]);
  });

  it('the help names it', async () => {
    const r = await lro('coalesce', '--help');
    expect(r.out).toMatch(/-F, --format pcap\|pcapng/);
  });
});

describe('createCaptureWriter({ format }) for library users', () => {
  it('writeOriginal and writeNew into the other format read back as the same packets and times', () => {
    for (const [file, format] of [
      ['wireshark-dhcp-nanosecond.pcap', 'pcapng'],
      ['ndpi-z3950.pcapng', 'pcap'],
    ] as const) {
      const out = join(dir(), `out.${format}`);
      const reader = openCapture(join(DIR, file));
      const writer = createCaptureWriter(out, reader, { format });
      const want: [string, number][] = [];
      for (let r = reader.next(); r !== null; r = reader.next()) {
        writer.writeOriginal(r);
        writer.writeNew(r.interfaceId, r.data, r.timeUs + 7);
        want.push([hex(r.data), r.timeUs], [hex(r.data), r.timeUs + 7]);
      }
      writer.commit();
      reader.close();
      expect(writer.format).toBe(format);
      expect(writer.conversion).toMatchObject({ to: format, resolution: 'ns' });
      const back = readRecords(out);
      expect(back.info.format).toBe(format);
      expect(back.records.map((r) => [hex(r.data), r.timeUs])).toEqual(want);
    }
  });
});

describe('convert.ts', () => {
  const iface = (tsresol: number, tsoffset = 0): InterfaceInfo => ({
    id: 0,
    section: 0,
    localId: 0,
    linkType: 1,
    snaplen: 0,
    tsresol,
    resolution: '',
    tsoffset,
  });
  const split = (t: bigint): [number, number] => [Number(t >> 32n), Number(t & 0xffffffffn)];

  it('pcapToTicks is exact up to the last second pcap can hold', () => {
    const t = { hi: 0, lo: 0 };
    for (const [sec, frac, ns] of [
      [0, 0, false],
      [1_700_000_000, 999_999, false],
      [0xffffffff, 999_999_999, true],
      [1_700_000_000, 123_456_789, true],
      [65_535, 1, true],
      [65_536, 0, true],
    ] as const) {
      pcapToTicks(sec, frac, ns, t);
      const want = BigInt(sec) * (ns ? 1_000_000_000n : 1_000_000n) + BigInt(frac);
      expect((BigInt(t.hi) << 32n) | BigInt(t.lo)).toBe(want);
    }
  });

  it('PcapStamp: seconds and fraction of every resolution, if_tsoffset added, exactness told, range checked', () => {
    const cases: [number, bigint][] = [
      [6, 1_700_000_000_123_456n],
      [9, 1_700_000_000_123_456_789n],
      [9, 0xffffffffn * 1_000_000_000n + 999_999_999n],
      [3, 1_700_000_000_123n],
      [0, 1_700_000_000n],
      [0x88, 1_700_000_000n * 256n + 255n], // 2^-8
      [0x94, 1_700_000_000n * 2n ** 20n + 12345n], // 2^-20
      [12, 10_000_000_000_000_000_001n],
    ];
    for (const [tsresol, t] of cases) {
      const units = tsresol & 0x80 ? 2n ** BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
      for (const ns of [false, true]) {
        const per = ns ? 1_000_000_000n : 1_000_000n;
        const s = new PcapStamp(iface(tsresol, -100));
        expect(s.convert(...split(t), ns)).toBe(true);
        expect(s.sec).toBe(Number(t / units) - 100);
        expect(s.frac).toBe(Number(((t % units) * per) / units));
        expect(s.exact).toBe(((t % units) * per) % units === 0n);
      }
    }
    expect(new PcapStamp(iface(6)).fitsUs).toBe(true);
    expect(new PcapStamp(iface(9)).fitsUs).toBe(false);
    expect(new PcapStamp(iface(0x86)).fitsUs).toBe(true); // 2^-6 s = 15625 µs
    expect(new PcapStamp(iface(0x87)).fitsUs).toBe(false);
    // Before 1970 (a negative offset) or after 2106: false.
    expect(new PcapStamp(iface(6, -2_000_000_000)).convert(...split(1_700_000_000_000_000n), false)).toBe(false);
    expect(new PcapStamp(iface(9)).convert(...split(0x100000000n * 1_000_000_000n), true)).toBe(false);
  });

  it('pcapHeader: little-endian, µs or ns magic, FCS bits', () => {
    const h = pcapHeader(1, 262144, true, 4);
    const v = new DataView(h.buffer);
    expect(v.getUint32(0, true)).toBe(0xa1b23c4d);
    expect([v.getUint16(4, true), v.getUint16(6, true), v.getUint32(16, true)]).toEqual([2, 4, 262144]);
    expect(v.getUint32(20, true)).toBe(0x24000001);
    expect(new DataView(pcapHeader(113, 65535, false).buffer).getUint32(20, true)).toBe(113);
  });

  it('hasOptions looks past the padding, in either byte order', () => {
    expect(hasOptions(new Uint8Array([0, 0, 0]), 5, true)).toBe(false);
    expect(hasOptions(new Uint8Array([0, 0, 0, 1, 0, 4, 0]), 5, true)).toBe(true);
    expect(hasOptions(new Uint8Array([0, 0, 0, 0, 1, 0, 4]), 5, false)).toBe(true);
    expect(hasOptions(new Uint8Array([0, 0, 0, 0]), 4, true)).toBe(false); // opt_endofopt only
  });
});
