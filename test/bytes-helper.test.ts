// test/helpers/bytes.ts: a failed byte comparison names the first differing byte and its field.
import { describe, expect, it } from 'vitest';
import { tcpFrame, tcpTimestampOption, udpFrame, type TcpFrameSpec } from '../bindings/packet/index.js';
import type { Packet } from '../bindings/engine/types.js';
import { BytesAssertionError, expectSameByteLists, expectSameBytes, expectSamePackets, fieldAt, firstDifference } from './helpers/bytes.js';

const base: TcpFrameSpec = { seq: 1000, payload: 100 };

/** Frames built from `base` + `a` and `base` + `b`: where do they first differ, and in what? */
function differ(a: TcpFrameSpec, b: TcpFrameSpec, linkType = 1) {
  return firstDifference(tcpFrame({ ...base, ...a }), tcpFrame({ ...base, ...b }), linkType);
}

/** The message expectSameBytes throws. */
function message(run: () => void): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(BytesAssertionError);
    return (e as Error).message;
  }
  throw new Error('did not throw');
}

describe('firstDifference names the field', () => {
  const cases: Array<[string, TcpFrameSpec, TcpFrameSpec, number, string, number?]> = [
    ['TTL', { ttl: 63 }, {}, 14 + 8, 'IPv4 TTL'],
    ['TCP checksum', { badTcpChecksum: true }, {}, 14 + 20 + 16, 'TCP checksum'],
    ['window', { window: 1000 }, {}, 14 + 20 + 14, 'TCP window'],
    ['IPv4 ID', { ipId: 7 }, {}, 14 + 5, 'IPv4 ID'],
    ['IPv6 hop limit', { ipVersion: 6, ttl: 9 }, { ipVersion: 6 }, 14 + 7, 'IPv6 hop limit'],
    ['IPv6 flow label', { ipVersion: 6, flowLabel: 5 }, { ipVersion: 6 }, 14 + 3, 'IPv6 version/class/flow label'],
    ['IPv6 TCP flags', { ipVersion: 6, flags: 0x18 }, { ipVersion: 6 }, 14 + 40 + 13, 'TCP flags'],
    ['VLAN TCI', { vlan: 6 }, { vlan: 5 }, 15, '802.1Q tag TCI'],
    ['inner VLAN TCI of two', { vlan: [10, 21] }, { vlan: [10, 20] }, 19, '802.1Q tag 2 TCI'],
    ['tag present or not', { vlan: 5 }, {}, 12, 'Ethernet type'],
    ['SLL address', { linkType: 113, srcMac: new Uint8Array([2, 0, 0, 0, 0, 9]) }, { linkType: 113 }, 11, 'SLL address'],
    ['TTL behind SLL', { linkType: 113, ttl: 1 }, { linkType: 113 }, 16 + 8, 'IPv4 TTL'],
    ['TTL behind SLL2', { linkType: 276, ttl: 1 }, { linkType: 276 }, 20 + 8, 'IPv4 TTL'],
    ['SLL2 protocol', { linkType: 276, ipVersion: 6 }, { linkType: 276 }, 0, 'SLL2 protocol'],
    ['TTL in raw IP', { linkType: 101, ttl: 1 }, { linkType: 101 }, 8, 'IPv4 TTL'],
    [
      'IPv6 extension header',
      { ipVersion: 6, ipv6ExtHeaders: [{ type: 60, bytes: new Uint8Array([1, 1, 7]) }] },
      { ipVersion: 6, ipv6ExtHeaders: [{ type: 60, bytes: new Uint8Array([1, 1, 0]) }] },
      14 + 40 + 4,
      'IPv6 extension header 1 (destination options) byte 4',
    ],
  ];
  for (const [what, a, b, offset, field] of cases) {
    it(what, () => {
      const linkType = b.linkType ?? 1;
      const d = differ(a, b, linkType);
      expect(d).toMatchObject({ offset, field });
      expect(d!.actual).not.toBe(d!.expected);
    });
  }

  it('every header field, where a checksum does not come first', () => {
    const frame = tcpFrame({ ...base, vlan: 3, ipOptions: new Uint8Array([1, 1, 1, 1]), options: tcpTimestampOption(1, 2) });
    const ip = 18;
    const tcp = ip + 24;
    const names: Array<[number, string]> = [
      [0, 'Ethernet destination'],
      [11, 'Ethernet source'],
      [13, '802.1Q tag TPID (Ethernet type)'],
      [14, '802.1Q tag TCI'],
      [16, 'EtherType after the 802.1Q tags'],
      [ip, 'IPv4 version/IHL'],
      [ip + 1, 'IPv4 TOS'],
      [ip + 3, 'IPv4 total length'],
      [ip + 6, 'IPv4 flags/fragment offset'],
      [ip + 9, 'IPv4 protocol'],
      [ip + 10, 'IPv4 header checksum'],
      [ip + 12, 'IPv4 source'],
      [ip + 19, 'IPv4 destination'],
      [ip + 22, 'IPv4 options byte 2'],
      [tcp + 1, 'TCP source port'],
      [tcp + 2, 'TCP destination port'],
      [tcp + 7, 'TCP sequence number'],
      [tcp + 8, 'TCP ACK number'],
      [tcp + 12, 'TCP data offset'],
      [tcp + 19, 'TCP urgent pointer'],
      [tcp + 20, 'TCP option NOP'],
      [tcp + 31, 'TCP option timestamp (8) byte 9'],
      [tcp + 32, 'TCP payload byte 0'],
    ];
    for (const [offset, name] of names) expect(fieldAt(frame, offset), `byte ${offset}`).toBe(name);
    const sll2 = tcpFrame({ ...base, linkType: 276 });
    expect([2, 4, 8, 10, 11, 12].map((o) => fieldAt(sll2, o, 276))).toEqual([
      'SLL2 reserved',
      'SLL2 interface index',
      'SLL2 ARPHRD type',
      'SLL2 packet type',
      'SLL2 address length',
      'SLL2 address',
    ]);
    const sll = tcpFrame({ ...base, linkType: 113 });
    expect([0, 2, 4, 14].map((o) => fieldAt(sll, o, 113))).toEqual([
      'SLL packet type',
      'SLL ARPHRD type',
      'SLL address length',
      'SLL protocol',
    ]);
  });

  it('a payload byte', () => {
    const expected = tcpFrame(base);
    const actual = expected.slice();
    actual[14 + 20 + 20 + 17] ^= 0x40;
    expect(firstDifference(actual, expected)).toEqual({
      offset: 71,
      field: 'TCP payload byte 17',
      actual: expected[71] ^ 0x40,
      expected: expected[71],
      lengths: { actual: expected.length, expected: expected.length },
    });
  });

  it('a length difference: padding, truncation', () => {
    const frame = tcpFrame(base);
    const padded = tcpFrame({ ...base, padding: 6 });
    expect(firstDifference(padded, frame)).toMatchObject({
      offset: frame.length,
      field: 'padding after the IP packet, byte 0, past the expected end',
      actual: 0,
      expected: undefined,
      lengths: { actual: frame.length + 6, expected: frame.length },
    });
    expect(firstDifference(frame, padded)).toMatchObject({ offset: frame.length, field: 'padding after the IP packet, byte 0' });
    expect(firstDifference(frame.subarray(0, 40), frame)).toMatchObject({ offset: 40, field: 'TCP sequence number', actual: undefined });
  });

  it('same bytes: null, whatever the array type', () => {
    const frame = tcpFrame(base);
    expect(firstDifference(frame.slice(), frame)).toBeNull();
    expect(firstDifference(Buffer.from(frame), frame)).toBeNull();
    expect(firstDifference(new Uint8Array(0), new Uint8Array(0))).toBeNull();
  });

  it('frames that are not TCP/IP, or not frames at all', () => {
    const udp = udpFrame({ payload: 10 });
    expect(fieldAt(udp, 14 + 20 + 6)).toBe('UDP checksum');
    expect(fieldAt(udp, 14 + 20 + 8 + 3)).toBe('UDP payload byte 3');
    const arp = new Uint8Array(42);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(fieldAt(arp, 20)).toBe('network layer (EtherType 0x0806) byte 6');
    expect(fieldAt(new Uint8Array(13), 12)).toBe('Ethernet type');
    expect(fieldAt(tcpFrame(base), 30, null)).toBe('byte 30');
    expect(fieldAt(tcpFrame(base), 30, 999)).toBe('link type 999 (unknown) byte 30');
    const fragment = tcpFrame({ ...base, fragment: { offset: 100 } });
    expect(fieldAt(fragment, 14 + 20 + 16)).toBe('IP payload (protocol fragment) byte 16');
  });
});

describe('expectSameBytes', () => {
  it('passes on the same bytes', () => {
    const frame = tcpFrame(base);
    expectSameBytes(Buffer.from(frame), frame);
  });

  it('two 64 KiB aggregates differing in the TCP checksum: a short message that points at the byte', () => {
    const spec: TcpFrameSpec = { seq: 1000, payload: 65535 - 40 };
    const expected = tcpFrame(spec);
    const actual = tcpFrame({ ...spec, badTcpChecksum: true });
    const text = message(() => expectSameBytes(actual, expected, 'packet 3 (aggregate of 45 segments)'));
    expect(text.length).toBeLessThan(400);
    expect(text.split('\n')[0]).toBe(
      `packet 3 (aggregate of 45 segments): first difference at byte 50 of ${expected.length} ` +
        `(TCP checksum): actual 0x${actual[50].toString(16).padStart(2, '0')}, expected 0x${expected[50].toString(16).padStart(2, '0')}`,
    );
    expect(text.split('\n')).toHaveLength(3); // the line above and a hex window line per side
    expect(text).toContain(`[${expected[50].toString(16).padStart(2, '0')}]`);
  });

  it('says the lengths when they differ', () => {
    const expected = tcpFrame({ seq: 1000, payload: 65000 });
    const actual = tcpFrame({ seq: 1000, payload: 65001 });
    const text = message(() => expectSameBytes(actual, expected));
    expect(text.length).toBeLessThan(400);
    expect(text).toMatch(/^first difference at byte 17 of 65054 \(IPv4 total length\)/);
    expect(text).toContain('lengths differ: actual 65055 bytes, expected 65054');
    const truncated = message(() => expectSameBytes(expected.subarray(0, 60000), expected, 'truncated'));
    expect(truncated).toMatch(/^truncated: first difference at byte 60000 of 65054 \(TCP payload byte 59946\): actual none/);
  });

  it('bytes that are not a frame (linkType null): the offset alone', () => {
    const file = new Uint8Array(100_000).fill(7);
    const other = file.slice();
    other[70_000] = 8;
    const text = message(() => expectSameBytes(other, file, 'file written back', null));
    expect(text.split('\n')[0]).toBe('file written back: first difference at byte 70000 of 100000: actual 0x08, expected 0x07');
    expect(text.length).toBeLessThan(400);
  });

  it('lists: counts, then the first item that differs', () => {
    const a = [tcpFrame(base), tcpFrame({ ...base, ttl: 3 })];
    const b = [tcpFrame(base), tcpFrame(base)];
    expect(message(() => expectSameByteLists(a, b, 'frame'))).toMatch(/^frame #1: first difference at byte 22 of 154 \(IPv4 TTL\)/);
    expect(message(() => expectSameByteLists(a.slice(0, 1), b, 'frame'))).toBe('1 frames, expected 2; the first 1 are the same bytes');
    expectSameByteLists(
      b,
      b.map((f) => f.slice()),
    );
  });
});

describe('expectSamePackets', () => {
  const packet = (data: Uint8Array, more: Partial<Packet> = {}): Packet => ({
    data,
    timeUs: 5,
    segments: 3,
    mss: 100,
    reason: 'threshold',
    checksumsFixed: true,
    inputIndex: 7,
    firstTimeUs: 4,
    ipVersion: 4,
    tcpOffset: 34,
    headerLength: 54,
    verified: true,
    fixedIpId: true,
    ...more,
  });
  const expected = [packet(tcpFrame(base)), packet(tcpFrame({ ...base, seq: 1300 }))];

  it('passes on equal lists', () => {
    expectSamePackets(
      expected.map((p) => ({ ...p, data: p.data.slice() })),
      expected,
    );
  });

  it('names the packet and the byte', () => {
    const actual = [expected[0], packet(tcpFrame({ ...base, seq: 1300, window: 7 }))];
    const text = message(() => expectSamePackets(actual, expected, 1, 'wasm vs ts'));
    expect(text).toMatch(/^wasm vs ts: packet 1 \(aggregate of 3 segments, threshold\): first difference at byte 48 of 154 \(TCP window\)/);
  });

  it('names the metadata that differs', () => {
    const actual = [expected[0], { ...expected[1], reason: 'psh' as const, timeUs: 6 }];
    expect(message(() => expectSamePackets(actual, expected))).toBe(
      'packet 1 (aggregate of 3 segments, threshold): reason psh vs threshold, timeUs 6 vs 5 (actual vs expected); same bytes',
    );
  });

  it('counts, with the first packet that differs or the first extra one', () => {
    expect(message(() => expectSamePackets(expected.slice(0, 1), expected))).toBe(
      '1 packets, expected 2; the first 1 agree; the first extra is packet 1 (aggregate of 3 segments, threshold) (expected)',
    );
    const text = message(() => expectSamePackets([expected[1]], expected));
    expect(text).toMatch(/^1 packets, expected 2; packet 0 .*: first difference at byte 40 of 154 \(TCP sequence number\)/);
  });
});
