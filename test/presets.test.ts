// The preset rules of CONTRACT §4 that engine.test.ts's send reasons do not already pin, on both
// engines with exact output bytes: gro's IPv4 ID modes, CWR and IPv6 extension headers (Linux's
// rules), and throughput's three relaxations (PSH, TCP timestamps, ACK and window), whose
// aggregates carry the last segment's fields with exact checksums.
import { describe, expect, it } from 'vitest';
import { ACK, CWR, ECE, FIN, PSH, parseFrame, tcpFrame, tcpTimestampOption, type TcpFrameSpec } from '../bindings/packet/index.js';
import { resolveOptions } from '../bindings/engine/options.js';
import type { EngineOptions, Packet } from '../bindings/engine/types.js';
import { runBoth, timed, type Step } from './helpers/engines.js';
import { checkInvariants } from './helpers/invariants.js';
import { expectSameBytes } from './helpers/bytes.js';

const MSS = 1000;
const SEQ0 = 5000;

/** Segment k of the test flow (sequence numbers follow on), with `spec(k)` on top. */
function flow(count: number, spec: (k: number) => TcpFrameSpec = () => ({})): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => tcpFrame({ seq: SEQ0 + k * MSS, payload: MSS, ...spec(k) }));
}

async function run(options: EngineOptions, frames: Uint8Array[]) {
  const steps: Step[] = timed(frames);
  const result = await runBoth({ hashSeed: 1, ...options }, steps);
  checkInvariants(steps, result.packets, { aggregateTimeoutUs: 1000 });
  return result;
}

const shape = (packets: Packet[]) => packets.map((p) => `${p.segments}:${p.reason}`);

describe('gro: the IPv4 ID (Linux inet_gro_flush)', () => {
  const ids = (list: number[], spec: TcpFrameSpec = {}) => flow(list.length, (k) => ({ ...spec, ipId: list[k] }));
  const cases: Array<[string, number[], string[]]> = [
    ['incrementing', [7, 8, 9, 10], ['4:close']],
    ['fixed', [7, 7, 7, 7], ['4:close']],
    ['incrementing across 65535 → 0', [65534, 65535, 0, 1], ['4:close']],
    ['incrementing, then fixed', [7, 8, 8, 9], ['2:mismatch-ip', '2:close']],
    ['fixed, then incrementing', [7, 7, 8, 9], ['2:mismatch-ip', '2:close']],
    ['second neither first nor first + 1', [7, 9, 10, 11], ['1:mismatch-ip', '3:close']],
    ['decrementing', [7, 6, 5], ['1:mismatch-ip', '1:mismatch-ip', '1:close']],
    ['a gap in incrementing IDs (a segment lost before this receiver)', [7, 8, 10, 11], ['2:mismatch-ip', '2:close']],
  ];
  for (const [what, list, expected] of cases) {
    it(`${what}: ${list.join(' ')}`, async () => {
      for (const df of [true, false]) {
        const { packets } = await run({}, ids(list, { df }));
        expect(shape(packets), `DF ${df}`).toEqual(expected);
      }
    });
  }

  it("the aggregate keeps the first segment's ID; fixedIpId says the mode", async () => {
    const inc = await run({}, ids([300, 301, 302]));
    expectSameBytes(inc.packets[0].data, tcpFrame({ seq: SEQ0, payload: 3 * MSS, ipId: 300 }), 'incrementing');
    expect(inc.packets[0].fixedIpId).toBe(false);
    const fixed = await run({}, ids([300, 300, 300]));
    expectSameBytes(fixed.packets[0].data, tcpFrame({ seq: SEQ0, payload: 3 * MSS, ipId: 300 }), 'fixed');
    expect(fixed.packets[0].fixedIpId).toBe(true);
  });

  it('throughput follows gro; seed does not compare IDs', async () => {
    expect(shape((await run({ preset: 'throughput' }, ids([7, 8, 8, 9]))).packets)).toEqual(['2:mismatch-ip', '2:close']);
    expect(shape((await run({ preset: 'seed' }, ids([7, 8, 8, 100]))).packets)).toEqual(['4:close']);
  });
});

describe('gro: CWR is compared like the other flags', () => {
  it('CWR segments join each other, not their neighbours; the aggregate keeps CWR', async () => {
    const frames = flow(5, (k) => ({ flags: k === 1 || k === 2 ? ACK | CWR : ACK }));
    const { packets } = await run({}, frames);
    expect(shape(packets)).toEqual(['1:mismatch-flags', '2:mismatch-flags', '2:close']);
    expectSameBytes(packets[1].data, tcpFrame({ seq: SEQ0 + MSS, payload: 2 * MSS, flags: ACK | CWR }), 'packet 1');
  });

  it('ECE | CWR on every segment: one aggregate', async () => {
    const { packets } = await run(
      {},
      flow(4, () => ({ flags: ACK | ECE | CWR })),
    );
    expect(shape(packets)).toEqual(['4:close']);
  });

  it('seed: a CWR segment never joins (own fields)', async () => {
    const { packets } = await run(
      { preset: 'seed' },
      flow(3, () => ({ flags: ACK | CWR })),
    );
    expect(shape(packets)).toEqual(['1:pass-through', '1:pass-through', '1:pass-through']);
  });
});

describe('the TCP flags are 12 bits; the IPv4 reserved bit is not merged (Linux tcp_flag_word, inet_gro_receive)', () => {
  // AE (formerly NS) and the three reserved bits sit in the data-offset byte. A segment whose bits
  // there differ from the aggregate's would lose them in it (its header is the first segment's).
  for (const preset of ['gro', 'throughput', 'seed'] as const) {
    const options = preset === 'seed' ? {} : { options: tcpTimestampOption(10, 20) };
    it(`${preset}: AE or a reserved TCP bit on one segment: it does not join, and none of its bits is lost`, async () => {
      for (const bit of [0x100, 0x200, 0x800]) {
        const frames = flow(4, (k) => ({ ...options, flags: k === 1 ? ACK | bit : ACK }));
        const { packets } = await run({ preset }, frames);
        expect(shape(packets), `bit ${bit.toString(16)}`).toEqual(['1:mismatch-flags', '1:mismatch-flags', '2:close']);
        expectSameBytes(packets[1].data, frames[1], 'the segment with the bit, alone');
        // The same bit on every segment: one aggregate that carries it.
        const all = await run(
          { preset },
          flow(4, () => ({ ...options, flags: ACK | bit })),
        );
        expect(shape(all.packets)).toEqual(['4:close']);
        expect(parseFrame(all.packets[0].data)!.tcp!.flags).toBe(ACK | bit);
      }
    });

    it(`${preset}: a segment with the IPv4 reserved flag passes through, sending the aggregate before it`, async () => {
      const frames = flow(4, (k) => ({ ...options, reservedFlag: k === 2 }));
      const { packets } = await run({ preset }, frames);
      expect(shape(packets)).toEqual(['2:non-candidate', '1:pass-through', '1:close']);
      expectSameBytes(packets[1].data, frames[2], 'the reserved-flag segment');
    });
  }
});

describe('gro: IPv6 extension headers', () => {
  const chain = [
    { type: 0, bytes: new Uint8Array([1, 4, 0, 0, 0, 0]) },
    { type: 43, bytes: new Uint8Array(14).fill(3) },
    { type: 60, bytes: new Uint8Array(6).fill(9) },
  ];
  const v6 = (k: number): TcpFrameSpec => ({ ipVersion: 6, ipv6ExtHeaders: chain, ipId: k });

  it('Hop-by-Hop, Routing and Destination Options, byte-identical: one aggregate; payload length and checksum right', async () => {
    const { packets } = await run({}, flow(4, v6));
    expect(shape(packets)).toEqual(['4:close']);
    expectSameBytes(packets[0].data, tcpFrame({ ...v6(0), seq: SEQ0, payload: 4 * MSS }), 'aggregate');
    const p = parseFrame(packets[0].data)!;
    expect(p.ipLength).toBe(40 + 8 + 16 + 8 + 20 + 4 * MSS - 40);
    expect(p.tcpChecksumOk).toBe(true);
    // What the packet says about itself: the TCP header behind the chain.
    expect(packets[0].tcpOffset).toBe(14 + 40 + 32);
    expect(packets[0].headerLength).toBe(14 + 40 + 32 + 20);
  });

  it('the same types but other bytes, or one header fewer: mismatch-ip', async () => {
    const changed = [chain[0], chain[1], { type: 60, bytes: new Uint8Array(6).fill(8) }];
    const frames = [...flow(2, v6), ...flow(4, (k) => ({ ipVersion: 6, ipv6ExtHeaders: k === 2 ? changed : chain.slice(1) })).slice(2)];
    const { packets } = await run({}, frames);
    expect(shape(packets)).toEqual(['2:mismatch-ip', '1:mismatch-ip', '1:close']);
  });

  it('a chain long enough to put TCP past byte 255 of the frame', async () => {
    const long = [{ type: 60, bytes: new Uint8Array(254) }];
    const { packets } = await run(
      {},
      flow(3, () => ({ ipVersion: 6, ipv6ExtHeaders: long })),
    );
    expect(shape(packets)).toEqual(['3:close']);
    expect(packets[0].tcpOffset).toBe(14 + 40 + 256);
    expectSameBytes(packets[0].data, tcpFrame({ ipVersion: 6, ipv6ExtHeaders: long, seq: SEQ0, payload: 3 * MSS }), 'aggregate');
  });
});

describe('throughput', () => {
  it("is an option value: resolveOptions takes it, 'Throughput' is refused", () => {
    expect(resolveOptions({ preset: 'throughput' }).preset).toBe('throughput');
    expect(() => resolveOptions({ preset: 'Throughput' as never })).toThrow(RangeError);
  });

  it('PSH joins and does not end the aggregate; the aggregate carries PSH', async () => {
    const frames = flow(6, (k) => ({ flags: k % 2 === 1 ? ACK | PSH : ACK }));
    expect(shape((await run({}, frames)).packets)).toEqual(['2:psh', '2:psh', '2:psh']);
    const { packets } = await run({ preset: 'throughput' }, frames);
    expect(shape(packets)).toEqual(['6:close']);
    expectSameBytes(packets[0].data, tcpFrame({ seq: SEQ0, payload: 6 * MSS, flags: ACK | PSH }), 'aggregate');
  });

  it('a short segment still ends the aggregate; a FIN still ends it and the connection', async () => {
    const frames = [...flow(2), tcpFrame({ seq: SEQ0 + 2 * MSS, payload: 10, flags: ACK | PSH })];
    expect(shape((await run({ preset: 'throughput' }, frames)).packets)).toEqual(['3:short']);
    const fin = [...flow(2), tcpFrame({ seq: SEQ0 + 2 * MSS, payload: MSS, flags: ACK | FIN })];
    expect(shape((await run({ preset: 'throughput' }, fin)).packets)).toEqual(['3:fin']);
  });

  const ts = (k: number, tsval: number[], tsecr: number[]) => tcpTimestampOption(tsval[k], tsecr[k]);

  it('timestamps that move forward join; the aggregate carries the last TSval / TSecr', async () => {
    const tsval = [100, 100, 101, 105];
    const tsecr = [7, 8, 8, 9];
    const frames = flow(4, (k) => ({ options: ts(k, tsval, tsecr) }));
    expect(shape((await run({}, frames)).packets)).toEqual(['1:mismatch-options', '1:mismatch-options', '1:mismatch-options', '1:close']);
    const { packets } = await run({ preset: 'throughput' }, frames);
    expect(shape(packets)).toEqual(['4:close']);
    expectSameBytes(packets[0].data, tcpFrame({ seq: SEQ0, payload: 4 * MSS, options: tcpTimestampOption(105, 9) }), 'aggregate');
  });

  it('a TSval or TSecr behind the last joined one does not join (serial arithmetic: across 2^32 is forward)', async () => {
    const cases: Array<[string, number[], number[], string[]]> = [
      ['TSval back', [100, 101, 100], [7, 7, 7], ['2:mismatch-options', '1:close']],
      ['TSecr back', [100, 101, 102], [7, 9, 8], ['2:mismatch-options', '1:close']],
      ['back to the first segment’s', [100, 101, 100], [7, 7, 7], ['2:mismatch-options', '1:close']],
      ['TSval wraps forward', [2 ** 32 - 1, 0, 5], [7, 7, 7], ['3:close']],
      ['TSval half the space ahead: behind', [100, 100 + 2 ** 31, 100 + 2 ** 31], [7, 7, 7], ['1:mismatch-options', '2:close']],
    ];
    for (const [what, tsval, tsecr, expected] of cases) {
      const frames = flow(tsval.length, (k) => ({ options: tcpTimestampOption(tsval[k] >>> 0, tsecr[k]) }));
      expect(shape((await run({ preset: 'throughput' }, frames)).packets), what).toEqual(expected);
    }
  });

  it('options that differ in more than the timestamp do not join', async () => {
    const withTs = (tsval: number, tail: number[]) => new Uint8Array([1, 1, 8, 10, 0, 0, 0, tsval, 0, 0, 0, 1, ...tail]);
    const frames = [
      tcpFrame({ seq: SEQ0, payload: MSS, options: withTs(1, [1, 1, 1, 0]) }),
      tcpFrame({ seq: SEQ0 + MSS, payload: MSS, options: withTs(2, [1, 1, 1, 0]) }),
      tcpFrame({ seq: SEQ0 + 2 * MSS, payload: MSS, options: withTs(3, [1, 1, 1, 1]) }),
      // No timestamp option at all (a window scale instead), same length.
      tcpFrame({ seq: SEQ0 + 3 * MSS, payload: MSS, options: new Uint8Array([1, 3, 3, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]) }),
    ];
    expect(shape((await run({ preset: 'throughput' }, frames)).packets)).toEqual(['2:mismatch-options', '1:mismatch-options', '1:close']);
  });

  it('an ACK that moves forward joins, whatever the window; the aggregate carries the last ACK and window', async () => {
    const acks = [1000, 1000, 2448, 2448, 9000];
    const windows = [500, 200, 700, 700, 3];
    const frames = flow(5, (k) => ({ ack: acks[k], window: windows[k], options: tcpTimestampOption(10, 3) }));
    expect(shape((await run({}, frames)).packets)).toEqual(['1:mismatch-window', '1:mismatch-ack', '2:mismatch-ack', '1:close']);
    const { packets } = await run({ preset: 'throughput' }, frames);
    expect(shape(packets)).toEqual(['5:close']);
    const expected = tcpFrame({ seq: SEQ0, payload: 5 * MSS, ack: 9000, window: 3, options: tcpTimestampOption(10, 3) });
    expectSameBytes(packets[0].data, expected, 'aggregate');
    expect(parseFrame(packets[0].data)!.tcpChecksumOk).toBe(true);
  });

  it('an ACK behind the last joined one does not join; across 2^32 is forward', async () => {
    const back = flow(3, (k) => ({ ack: [500, 600, 599][k] }));
    expect(shape((await run({ preset: 'throughput' }, back)).packets)).toEqual(['2:mismatch-ack', '1:close']);
    const wrap = flow(3, (k) => ({ ack: [2 ** 32 - 10, 2 ** 32 - 1, 20][k] }));
    expect(shape((await run({ preset: 'throughput' }, wrap)).packets)).toEqual(['3:close']);
  });

  it('IPv6, VLAN, every change at once, checksums off and on: exact bytes', async () => {
    for (const fixChecksums of [true, false]) {
      const spec = (k: number): TcpFrameSpec => ({
        ipVersion: 6,
        vlan: 12,
        flags: k === 1 ? ACK | PSH : ACK,
        ack: 40 + k * 1448,
        window: 900 - k,
        options: tcpTimestampOption(1000 + k, 77 + (k >> 1)),
      });
      const { packets } = await runBoth({ preset: 'throughput', fixChecksums }, timed(flow(4, spec)));
      expect(shape(packets)).toEqual(['4:close']);
      const expected = tcpFrame({ ...spec(3), flags: ACK | PSH, seq: SEQ0, payload: 4 * MSS });
      if (fixChecksums) expectSameBytes(packets[0].data, expected, 'aggregate');
      else {
        // Checksum fields as the first segment's; every other byte as with fix-up.
        const first = flow(1, spec)[0];
        const got = Uint8Array.from(packets[0].data);
        const tcp = 14 + 4 + 40;
        got.set(expected.subarray(tcp + 16, tcp + 18), tcp + 16);
        expectSameBytes(got, expected, 'aggregate, checksum restored');
        expect(packets[0].data.subarray(tcp + 16, tcp + 18)).toEqual(first.subarray(tcp + 16, tcp + 18));
        expect(packets[0].checksumsFixed).toBe(false);
      }
    }
  });
});
