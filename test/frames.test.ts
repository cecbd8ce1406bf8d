import { describe, expect, it } from 'vitest';
import {
  ACK,
  FIN,
  PSH,
  SYN,
  arpFrame,
  encodeIpv6ExtHeader,
  expectedPayload,
  flowKey,
  formatIp,
  internetChecksum,
  ipv6FragmentHeader,
  parseFrame,
  parseIp,
  payloadByte,
  payloadMatches,
  payloadMismatch,
  pseudoHeaderSum,
  tcpFrame,
  tcpTimestampOption,
  udpFrame,
  type LinkType,
  type ParsedFrame,
  type TcpFrameSpec,
} from '../bindings/packet/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

function parse(frame: Uint8Array, linkType: number = 1): ParsedFrame {
  const p = parseFrame(frame, linkType);
  if (!p) throw new Error('parseFrame returned null');
  return p;
}

/** Verify the TCP checksum the long way, without parseFrame. */
function tcpSumOk(frame: Uint8Array, p: ParsedFrame): boolean {
  const src = parseIp(p.src);
  const dst = parseIp(p.dst);
  const end = p.l3Offset + (p.ipVersion === 4 ? p.ipLength : 40 + p.ipLength);
  const ph = pseudoHeaderSum(src, dst, 6, end - p.l4Offset);
  return internetChecksum(frame, p.l4Offset, end, ph) === 0xffff;
}

describe('internetChecksum', () => {
  it('matches the RFC 1071 §3 example', () => {
    // 00 01 f2 03 f4 f5 f6 f7 → sum ddf2
    expect(internetChecksum(fromHex('0001f203f4f5f6f7'), 0, 8)).toBe(0xddf2);
  });
  it('matches a textbook IPv4 header', () => {
    const h = fromHex('450000730000400040110000c0a80001c0a800c7');
    expect(~internetChecksum(h, 0, 20) & 0xffff).toBe(0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(internetChecksum(h, 0, 20)).toBe(0xffff);
  });
  it('pads an odd last byte with zero and honours initial and the range', () => {
    expect(internetChecksum(fromHex('0102ff'), 0, 3)).toBe(3); // 0x0102 + 0xff00 = 0x10002 → end-around carry
    expect(internetChecksum(fromHex('0102fe'), 0, 3)).toBe(0xff02);
    expect(internetChecksum(fromHex('aaaa0102bbbb'), 2, 4, 0x10)).toBe(0x0112);
    expect(internetChecksum(fromHex('ffffffff'), 0, 4)).toBe(0xffff);
    expect(internetChecksum(new Uint8Array(0), 0, 0)).toBe(0);
  });
  it('folds long inputs correctly', () => {
    const b = new Uint8Array(200_000).fill(0xff);
    expect(internetChecksum(b, 0, b.length)).toBe(0xffff);
    b.fill(0x01);
    // 100000 words of 0x0101 = 0x0101 * 100000 = 25700000 → fold
    let s = 0x0101 * 100_000;
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
    expect(internetChecksum(b, 0, b.length)).toBe(s);
  });
});

describe('known-answer frames (built independently with Python struct)', () => {
  it('IPv4 TCP with timestamps', () => {
    const f = tcpFrame({
      src: '192.168.1.10',
      dst: '172.16.0.99',
      sport: 12345,
      dport: 80,
      seq: 0xfffffff0,
      ack: 0x11223344,
      flags: PSH | ACK,
      window: 65535,
      tos: 0x10,
      ipId: 0xbeef,
      ttl: 57,
      options: tcpTimestampOption(0x01020304, 0xa0b0c0d0),
      payload: ascii('hello world'),
    });
    expect(hex(f)).toBe(
      '02000000000202000000000108004510003fbeef400039061494c0a8010aac10006330390050fffffff0112233448018ffff9c4e00000101080a01020304a0b0c0d068656c6c6f20776f726c64',
    );
  });
  it('IPv6 TCP with VLAN and hop-by-hop header', () => {
    const f = tcpFrame({
      src: '2001:db8::1',
      dst: '2001:db8:0:1::2',
      sport: 443,
      dport: 51000,
      seq: 7,
      ack: 9,
      flags: FIN | ACK,
      window: 1000,
      tos: 0x20,
      flowLabel: 0x12345,
      ttl: 33,
      vlan: 7,
      ipv6ExtHeaders: [{ type: 0, bytes: new Uint8Array(0) }],
      payload: ascii('abc'),
    });
    expect(hex(f)).toBe(
      '0200000000020200000000018100000786dd62012345001f002120010db800000000000000000000000120010db8000000010000000000000002060001040000000001bbc7380000000700000009501103e8c30c0000616263',
    );
  });
  it('IPv4 UDP', () => {
    const f = udpFrame({ src: '10.1.2.3', dst: '10.3.2.1', sport: 9, dport: 9, ipId: 1, payload: ascii('12345') });
    expect(hex(f)).toBe('02000000000202000000000108004500002100014000401122c40a0102030a03020100090009000d4e543132333435');
  });
});

describe('addresses', () => {
  it('parses and formats IPv4 and IPv6', () => {
    expect(hex(parseIp('10.0.0.1'))).toBe('0a000001');
    expect(hex(parseIp('::'))).toBe('0'.repeat(32));
    expect(hex(parseIp('::1'))).toBe(`${'0'.repeat(31)}1`);
    expect(hex(parseIp('fd00::'))).toBe(`fd00${'0'.repeat(28)}`);
    expect(hex(parseIp('2001:DB8::ff:1'))).toBe('20010db8000000000000000000ff0001');
    expect(hex(parseIp('::ffff:1.2.3.4'))).toBe('00000000000000000000ffff01020304');
    expect(formatIp(parseIp('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatIp(parseIp('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIp(parseIp('0:0:0:0:0:0:0:0'))).toBe('::');
    expect(formatIp(parseIp('fd00:0:0:0:0:0:0:1'))).toBe('fd00::1');
    expect(formatIp(parseIp('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3');
    expect(formatIp(parseIp('192.168.0.255'))).toBe('192.168.0.255');
  });
  it('rejects bad text', () => {
    for (const bad of ['1.2.3', '1.2.3.256', '1::2::3', '1:2:3:4:5:6:7', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9']) {
      expect(() => parseIp(bad), bad).toThrow();
    }
  });
});

describe('tcpFrame → parseFrame round trip', () => {
  const linkTypes: Array<[LinkType, number]> = [
    [1, 14],
    [113, 16],
    [276, 20],
    [101, 0],
  ];
  for (const [linkType, linkLen] of linkTypes) {
    for (const ipVersion of [4, 6] as const) {
      it(`link ${linkType} IPv${ipVersion}`, () => {
        const spec: TcpFrameSpec = {
          linkType,
          ipVersion,
          sport: 1234,
          dport: 80,
          seq: 0xfffffffe,
          ack: 77,
          flags: PSH | ACK,
          window: 4321,
          ttl: 17,
          tos: 0x28,
          ipId: 0x4242,
          flowLabel: 0xabcde,
          options: tcpTimestampOption(5, 6),
          payload: 100,
        };
        const f = tcpFrame(spec);
        const ipHdr = ipVersion === 4 ? 20 : 40;
        expect(f.length).toBe(linkLen + ipHdr + 32 + 100);
        const p = parse(f, linkType);
        expect(p.linkType).toBe(linkType);
        expect(p.l3Offset).toBe(linkLen);
        expect(p.ipVersion).toBe(ipVersion);
        expect(p.ipHeaderLength).toBe(ipHdr);
        expect(p.ipLength).toBe(ipVersion === 4 ? 20 + 132 : 132);
        expect(p.src).toBe(ipVersion === 4 ? '10.0.0.1' : 'fd00::1');
        expect(p.dst).toBe(ipVersion === 4 ? '10.0.0.2' : 'fd00::2');
        expect(p.vlan).toBeNull();
        expect(p.protocol).toBe(6);
        expect(p.ttl).toBe(17);
        expect(p.tos).toBe(0x28);
        if (ipVersion === 4) {
          expect(p.ipId).toBe(0x4242);
          expect(p.df).toBe(true);
          expect(p.flowLabel).toBe(0);
        } else {
          expect(p.flowLabel).toBe(0xabcde);
        }
        expect(p.ipChecksumOk).toBe(true);
        expect(p.tcpChecksumOk).toBe(true);
        expect(tcpSumOk(f, p)).toBe(true);
        const t = p.tcp!;
        expect(t.sport).toBe(1234);
        expect(t.dport).toBe(80);
        expect(t.seq).toBe(0xfffffffe);
        expect(t.ack).toBe(77);
        expect(t.flags).toBe(PSH | ACK);
        expect(t.window).toBe(4321);
        expect(t.headerLength).toBe(32);
        expect(hex(t.options)).toBe(hex(tcpTimestampOption(5, 6)));
        expect(t.payload.length).toBe(100);
        expect(t.payload.buffer).toBe(f.buffer); // a view
        expect(payloadMatches(t.payload, 0xfffffffe)).toBe(true);
        expect(flowKey(p)).toBe(ipVersion === 4 ? '4|10.0.0.1|1234|10.0.0.2|80|-' : '6|fd00::1|1234|fd00::2|80|-');
      });
    }
  }

  it('uses the documented defaults', () => {
    const f = tcpFrame();
    expect(f.length).toBe(54);
    const p = parse(f);
    expect(p.tcp).toMatchObject({ sport: 40000, dport: 5201, seq: 1000, ack: 1, flags: ACK, window: 502, headerLength: 20 });
    expect(p.tcp!.payload.length).toBe(0);
    expect(p).toMatchObject({ src: '10.0.0.1', dst: '10.0.0.2', ttl: 64, tos: 0, df: true, ipId: 0, vlan: null });
    expect(hex(f.subarray(0, 14))).toBe('020000000002020000000001' + '0800');
    expect(flowKey(p)).toBe('4|10.0.0.1|40000|10.0.0.2|5201|-');
  });

  it('infers IPv6 from the address text and accepts raw address bytes', () => {
    const p = parse(tcpFrame({ src: '2001:db8::5', dst: '2001:db8::6' }));
    expect(p.ipVersion).toBe(6);
    expect(p.src).toBe('2001:db8::5');
    const q = parse(tcpFrame({ src: new Uint8Array([1, 2, 3, 4]), dst: new Uint8Array([5, 6, 7, 8]) }));
    expect(q.src).toBe('1.2.3.4');
    expect(q.dst).toBe('5.6.7.8');
    expect(() => tcpFrame({ ipVersion: 4, src: 'fd00::1' })).toThrow();
  });

  it('wraps seq and ack mod 2^32', () => {
    const p = parse(tcpFrame({ seq: 2 ** 32 + 5, ack: -1 }));
    expect(p.tcp!.seq).toBe(5);
    expect(p.tcp!.ack).toBe(0xffffffff);
  });

  it('writes the link headers as documented', () => {
    const sll = tcpFrame({ linkType: 113 });
    expect(hex(sll.subarray(0, 16))).toBe('0000' + '0001' + '0006' + '0200000000010000' + '0800');
    const sll2 = tcpFrame({ linkType: 276, ipVersion: 6 });
    expect(hex(sll2.subarray(0, 20))).toBe('86dd' + '0000' + '00000001' + '0001' + '00' + '06' + '0200000000010000');
    const raw = tcpFrame({ linkType: 101 });
    expect(raw[0]).toBe(0x45);
    expect(() => tcpFrame({ linkType: 101, vlan: 5 })).toThrow();
    const macs = tcpFrame({ srcMac: fromHex('aabbccddeeff'), dstMac: fromHex('112233445566') });
    expect(hex(macs.subarray(0, 12))).toBe('112233445566aabbccddeeff');
  });
});

describe('VLAN tags', () => {
  it('one tag', () => {
    const f = tcpFrame({ vlan: 100 });
    expect(hex(f.subarray(12, 18))).toBe('8100' + '0064' + '0800');
    const p = parse(f);
    expect(p.vlan).toBe(100);
    expect(p.vlans).toEqual([100]);
    expect(p.l3Offset).toBe(18);
    expect(p.tcpChecksumOk).toBe(true);
    expect(flowKey(p)).toBe('4|10.0.0.1|40000|10.0.0.2|5201|100');
  });
  it('QinQ: 0x88a8 then 0x8100', () => {
    const f = tcpFrame({ vlan: [10, 20], ipVersion: 6 });
    expect(hex(f.subarray(12, 22))).toBe('88a8' + '000a' + '8100' + '0014' + '86dd');
    const p = parse(f);
    expect(p.vlan).toBe(10);
    expect(p.vlans).toEqual([10, 20]);
    expect(p.l3Offset).toBe(22);
    expect(p.tcpChecksumOk).toBe(true);
    expect(flowKey(p)).toBe('6|fd00::1|40000|fd00::2|5201|10.20');
  });
  it('PCP bits in the TCI are kept in the frame, masked in the parsed id', () => {
    const f = tcpFrame({ vlan: 0xa00 | 0x2000 | 5 });
    expect(hex(f.subarray(14, 16))).toBe('2a05');
    expect(parse(f).vlan).toBe(0xa05);
  });
  it('tags on SLL and SLL2', () => {
    for (const lt of [113, 276] as const) {
      const p = parse(tcpFrame({ linkType: lt, vlan: [1, 2, 3], payload: 7 }), lt);
      expect(p.vlans).toEqual([1, 2, 3]);
      expect(p.l3Offset).toBe((lt === 113 ? 16 : 20) + 12);
      expect(p.tcpChecksumOk).toBe(true);
      expect(p.tcp!.payload.length).toBe(7);
    }
  });
});

describe('options and padding', () => {
  it('pads TCP options with EOL to a multiple of 4', () => {
    const f = tcpFrame({ options: new Uint8Array([2, 4, 5, 0xb4, 1]) });
    const p = parse(f);
    expect(p.tcp!.headerLength).toBe(28);
    expect(hex(p.tcp!.options)).toBe('020405b401000000');
    expect(p.tcpChecksumOk).toBe(true);
    expect(() => tcpFrame({ options: new Uint8Array(41) })).toThrow();
    expect(parse(tcpFrame({ options: new Uint8Array(40) })).tcp!.headerLength).toBe(60);
  });
  it('IPv4 options grow IHL and are EOL padded', () => {
    const f = tcpFrame({ ipOptions: new Uint8Array([0x94, 0x04, 0, 0, 1]), payload: 3 });
    const p = parse(f);
    expect(p.ipHeaderLength).toBe(28);
    expect(f[14] & 0x0f).toBe(7);
    expect(hex(f.subarray(34, 42))).toBe('9404000001000000');
    expect(p.ipChecksumOk).toBe(true);
    expect(p.tcpChecksumOk).toBe(true);
    expect(p.tcp!.payload.length).toBe(3);
  });
  it('trailing padding is excluded from the payload', () => {
    const f = tcpFrame({ payload: 4, padding: 10 });
    expect(f.length).toBe(54 + 4 + 10);
    expect(hex(f.subarray(58))).toBe('00'.repeat(10));
    const p = parse(f);
    expect(p.tcp!.payload.length).toBe(4);
    expect(p.tcpChecksumOk).toBe(true);
    const six = parse(tcpFrame({ ipVersion: 6, padding: 6 }));
    expect(six.tcp!.payload.length).toBe(0);
    expect(six.tcpChecksumOk).toBe(true);
  });
  it('explicit payload bytes and the NS bit', () => {
    const p = parse(tcpFrame({ payload: ascii('xyz'), flags: 0x100 | SYN, urgent: 9 }));
    expect(Buffer.from(p.tcp!.payload).toString()).toBe('xyz');
    expect(p.tcp!.flags).toBe(0x100 | SYN);
    expect(p.tcp!.urgent).toBe(9);
    expect(p.tcpChecksumOk).toBe(true);
  });
  it('timestamp option layout', () => {
    expect(hex(tcpTimestampOption(0xdeadbeef, 1))).toBe('0101080a' + 'deadbeef' + '00000001');
  });
});

describe('bad checksums', () => {
  it('badIpChecksum breaks only the IP header checksum', () => {
    const p = parse(tcpFrame({ badIpChecksum: true, payload: 20 }));
    expect(p.ipChecksumOk).toBe(false);
    expect(p.tcpChecksumOk).toBe(true);
  });
  it('badTcpChecksum breaks only the TCP checksum', () => {
    for (const ipVersion of [4, 6] as const) {
      const p = parse(tcpFrame({ ipVersion, badTcpChecksum: true, payload: 20 }));
      expect(p.ipChecksumOk).toBe(true);
      expect(p.tcpChecksumOk).toBe(false);
    }
  });
  it('bad checksums never verify, whatever the data', () => {
    for (let seq = 0; seq < 3000; seq++) {
      const p = parse(tcpFrame({ seq, payload: seq % 7, badTcpChecksum: true, badIpChecksum: true, ipId: seq }));
      expect(p.tcpChecksumOk).toBe(false);
      expect(p.ipChecksumOk).toBe(false);
    }
  });
  it('the flipped value differs from the correct one', () => {
    const good = parse(tcpFrame({ payload: 9 }));
    const bad = parse(tcpFrame({ payload: 9, badTcpChecksum: true }));
    expect(bad.tcp!.checksum).not.toBe(good.tcp!.checksum);
  });
});

describe('fragments and extension headers', () => {
  it('IPv4 MF with offset 0 still parses TCP', () => {
    const f = tcpFrame({ fragment: { mf: true }, payload: 16 });
    const p = parse(f);
    expect(p.fragment).toEqual({ mf: true, offset: 0 });
    expect(p.df).toBe(false);
    expect((f[20] << 8) | f[21]).toBe(0x2000);
    expect(p.tcp).toBeDefined();
    expect(p.ipChecksumOk).toBe(true);
  });
  it('IPv4 non-first fragment has no TCP header', () => {
    const f = tcpFrame({ fragment: { mf: false, offset: 185 }, payload: 16 });
    expect((f[20] << 8) | f[21]).toBe(185);
    const p = parse(f);
    expect(p.fragment).toEqual({ mf: false, offset: 185 });
    expect(p.protocol).toBe(6);
    expect(p.tcp).toBeUndefined();
    expect(p.tcpChecksumOk).toBe(false);
    expect(p.ipChecksumOk).toBe(true);
  });
  it('IPv4 fragment fields reject IPv6 and vice versa', () => {
    expect(() => tcpFrame({ ipVersion: 6, fragment: { mf: true } })).toThrow();
    expect(() => tcpFrame({ ipVersion: 6, ipOptions: new Uint8Array(4) })).toThrow();
    expect(() => tcpFrame({ ipv6ExtHeaders: [{ type: 0 }] })).toThrow();
  });
  it('IPv6 hop-by-hop, routing, destination options, fragment, AH chain', () => {
    const exts = [
      { type: 0 },
      { type: 43, bytes: new Uint8Array([0, 0]) },
      { type: 60, bytes: new Uint8Array([1, 1, 0]) },
      ipv6FragmentHeader(0, false, 0x1234),
      { type: 51 },
    ];
    const f = tcpFrame({ ipVersion: 6, ipv6ExtHeaders: exts, payload: 50, options: tcpTimestampOption(1, 2) });
    const p = parse(f);
    // 8 + 8 + 8 + 8 + 16
    expect(p.ipHeaderLength).toBe(40 + 48);
    expect(p.ipLength).toBe(48 + 32 + 50);
    expect(p.protocol).toBe(6);
    expect(p.fragment).toEqual({ mf: false, offset: 0 });
    expect(p.tcp!.payload.length).toBe(50);
    expect(p.tcpChecksumOk).toBe(true);
    expect(tcpSumOk(f, p)).toBe(true);
    // chain: IPv6 next = 0, hop-by-hop next = 43, … AH next = 6
    const l3 = p.l3Offset;
    expect(f[l3 + 6]).toBe(0);
    expect(f[l3 + 40]).toBe(43);
    expect(f[l3 + 48]).toBe(60);
    expect(f[l3 + 56]).toBe(44);
    expect(f[l3 + 64]).toBe(51);
    expect(f[l3 + 72]).toBe(6);
    expect(f[l3 + 73]).toBe(16 / 4 - 2);
  });
  it('pads hop-by-hop / destination options with Pad1 / PadN', () => {
    expect(hex(encodeIpv6ExtHeader(0, new Uint8Array(0), 6))).toBe('0600' + '0104' + '00000000');
    expect(hex(encodeIpv6ExtHeader(60, new Uint8Array([1, 3, 0, 0, 0]), 6))).toBe('0600' + '0103000000' + '00');
    expect(hex(encodeIpv6ExtHeader(60, new Uint8Array(6), 17))).toBe('1100' + '000000000000');
    expect(encodeIpv6ExtHeader(0, new Uint8Array(7), 6).length).toBe(16);
    expect(encodeIpv6ExtHeader(0, new Uint8Array(7), 6)[1]).toBe(1);
  });
  it('IPv6 non-first fragment has no TCP header', () => {
    const p = parse(tcpFrame({ ipVersion: 6, ipv6ExtHeaders: [ipv6FragmentHeader(100, true, 7)], payload: 8 }));
    expect(p.fragment).toEqual({ mf: true, offset: 100 });
    expect(p.tcp).toBeUndefined();
  });
});

describe('payload pattern', () => {
  it('is a function of the absolute sequence number, consistent across the wrap', () => {
    const a = parse(tcpFrame({ seq: 0xffffff00, payload: 512 })).tcp!.payload;
    const b = parse(tcpFrame({ seq: 0xffffff80, payload: 64 })).tcp!.payload;
    const c = parse(tcpFrame({ seq: 0, payload: 256 })).tcp!.payload;
    expect(hex(a.subarray(0x80, 0xc0))).toBe(hex(b));
    expect(hex(a.subarray(0x100))).toBe(hex(c));
    expect(payloadMatches(a, 0xffffff00)).toBe(true);
    expect(payloadMatches(a, 0xffffff01)).toBe(false);
    expect(payloadByte(-1)).toBe(payloadByte(0xffffffff));
    expect(payloadByte(2 ** 32 + 3)).toBe(payloadByte(3));
    expect(hex(expectedPayload(0xfffffff0, 32))).toBe(hex(parse(tcpFrame({ seq: 0xfffffff0, payload: 32 })).tcp!.payload));
  });
  it('is not trivially periodic at small shifts', () => {
    const p = expectedPayload(12345, 65536);
    for (const shift of [1, 2, 4, 8, 256, 1024, 4096, 32768]) {
      expect(payloadMismatch(p.subarray(0, 4096), 12345 + shift)).not.toBe(-1);
    }
    // byte values are spread out
    const counts = new Array<number>(256).fill(0);
    for (const v of p) counts[v]++;
    expect(Math.min(...counts)).toBeGreaterThan(150);
  });
  it('payloadMismatch reports the first differing index', () => {
    const p = expectedPayload(99, 50);
    p[17] ^= 1;
    expect(payloadMismatch(p, 99)).toBe(17);
  });
  it('large payloads (> pattern period) are continuous', () => {
    const f = tcpFrame({ seq: 0xffff0000 + 5, payload: 65000, ipVersion: 6 });
    const p = parse(f);
    expect(payloadMatches(p.tcp!.payload, 0xffff0005)).toBe(true);
    expect(p.tcpChecksumOk).toBe(true);
    expect(() => tcpFrame({ payload: 65535 - 40 + 1 })).toThrow();
  });
});

describe('parseFrame rejects and classifies', () => {
  it('returns null for truncated frames', () => {
    const f = tcpFrame({ payload: 30, options: tcpTimestampOption(1, 1) });
    for (let cut = 0; cut < f.length; cut++) expect(parseFrame(f.subarray(0, cut)), `cut ${cut}`).toBeNull();
    const six = tcpFrame({ ipVersion: 6, payload: 3, vlan: [1, 2] });
    for (let cut = 0; cut < six.length; cut++) expect(parseFrame(six.subarray(0, cut)), `cut ${cut}`).toBeNull();
  });
  it('returns null for unknown link types and bad IP versions', () => {
    expect(parseFrame(tcpFrame(), 999)).toBeNull();
    const f = tcpFrame({ linkType: 101 });
    f[0] = 0x55;
    expect(parseFrame(f, 101)).toBeNull();
  });
  it('rejects IHL < 5 and total length < IHL', () => {
    const f = tcpFrame();
    f[14] = 0x44;
    expect(parseFrame(f)).toBeNull();
    const g = tcpFrame();
    g[16] = 0;
    g[17] = 19;
    expect(parseFrame(g)).toBeNull();
  });
  it('a TCP header longer than the segment is not parsed', () => {
    const f = tcpFrame();
    f[14 + 20 + 12] = 0xf0; // data offset 60 > 20 bytes available
    const p = parse(f);
    expect(p.tcp).toBeUndefined();
    expect(p.tcpChecksumOk).toBe(false);
  });
  it('ARP is non-IP', () => {
    const f = arpFrame({ vlan: 3 });
    expect(f.length).toBe(14 + 4 + 28);
    const p = parse(f);
    expect(p.ipVersion).toBe(0);
    expect(p.etherType).toBe(0x0806);
    expect(p.vlan).toBe(3);
    expect(p.tcp).toBeUndefined();
    expect(p.ipChecksumOk).toBe(false);
    expect(hex(f.subarray(0, 6))).toBe('ffffffffffff');
    expect(hex(f.subarray(18, 26))).toBe('0001080006040001');
    for (const lt of [113, 276] as const) expect(parse(arpFrame({ linkType: lt }), lt).etherType).toBe(0x0806);
  });
  it('UDP frames parse with their ports and a valid checksum', () => {
    for (const ipVersion of [4, 6] as const) {
      const f = udpFrame({ ipVersion, sport: 9, dport: 53, payload: 33 });
      const p = parse(f);
      expect(p.protocol).toBe(17);
      expect(p.udp).toMatchObject({ sport: 9, dport: 53, length: 41 });
      expect(p.udp!.payload.length).toBe(33);
      expect(p.tcp).toBeUndefined();
      const end = p.l3Offset + (ipVersion === 4 ? p.ipLength : 40 + p.ipLength);
      const ph = pseudoHeaderSum(parseIp(p.src), parseIp(p.dst), 17, end - p.l4Offset);
      expect(internetChecksum(f, p.l4Offset, end, ph)).toBe(0xffff);
      expect(flowKey(p)).toBe(`${ipVersion}|${p.src}|9|${p.dst}|53|-`);
      const badFrame = udpFrame({ ipVersion, badUdpChecksum: true, payload: 5 });
      const bad = parse(badFrame);
      const badEnd = bad.l3Offset + (ipVersion === 4 ? bad.ipLength : 40 + bad.ipLength);
      const badPh = pseudoHeaderSum(parseIp(bad.src), parseIp(bad.dst), 17, badEnd - bad.l4Offset);
      expect(internetChecksum(badFrame, bad.l4Offset, badEnd, badPh)).not.toBe(0xffff);
    }
  });
  it('flowKey is direction sensitive', () => {
    const ab = flowKey(parse(tcpFrame({ src: '1.1.1.1', dst: '2.2.2.2', sport: 1, dport: 2 })));
    const ba = flowKey(parse(tcpFrame({ src: '2.2.2.2', dst: '1.1.1.1', sport: 2, dport: 1 })));
    expect(ab).not.toBe(ba);
    expect(ab).toBe('4|1.1.1.1|1|2.2.2.2|2|-');
  });
});
