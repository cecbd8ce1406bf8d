// Why nothing merged: every pass-through is counted under exactly one cause (CONTRACT §2
// "Pass-through causes"), on both engines, by known sequences per cause; and maxFrame (CONTRACT §4):
// no output packet the engine makes is larger, byte streams intact, on both engines.
import { describe, expect, it } from 'vitest';
import {
  ACK,
  CWR,
  FIN,
  PSH,
  RST,
  SYN,
  URG,
  arpFrame,
  ipv6FragmentHeader,
  parseFrame,
  tcpFrame,
  tcpTimestampOption,
  udpFrame,
  type TcpFrameSpec,
} from '../bindings/packet/index.js';
import {
  PASS_THROUGH_CAUSES,
  createEngine,
  resolveOptions,
  type EngineOptions,
  type PassThroughCause,
  type Stats,
} from '../bindings/index.js';
import { runBoth, timed, type Step } from './helpers/engines.js';
import { checkInvariants } from './helpers/invariants.js';
import { MSS, SEQ0, segments } from './helpers/segments.js';
import { expectSameBytes } from './helpers/bytes.js';

/** The frame cut to its first `n` bytes (a copy). */
const cut = (frame: Uint8Array, n: number) => frame.slice(0, n);

/** A copy of the frame with byte `at` set to `value` (no checksum fixed). */
function poke(frame: Uint8Array, at: number, value: number): Uint8Array {
  const b = frame.slice();
  b[at] = value;
  return b;
}

/** Causes with a count, for messages and exact comparison. */
function counted(s: Stats): Partial<Record<PassThroughCause, number>> {
  return Object.fromEntries(PASS_THROUGH_CAUSES.filter((k) => s.passThroughCauses[k] > 0).map((k) => [k, s.passThroughCauses[k]]));
}

function sumOfCauses(s: Stats): number {
  return PASS_THROUGH_CAUSES.reduce((n, k) => n + s.passThroughCauses[k], 0);
}

/** Both engines (runBoth compares their packets and stats), the invariants, and the causes' sum. */
async function run(options: EngineOptions, steps: Step[]) {
  const result = await runBoth({ hashSeed: 7, ...options }, steps);
  checkInvariants(steps, result.packets, { ...options });
  expect(sumOfCauses(result.stats), 'the causes sum to the pass-throughs').toBe(result.stats.reasons['pass-through']);
  expect(result.stats.passThroughCauses['table-full']).toBe(result.stats.tableFull);
  return result;
}

describe('pass-through causes: one known sequence per cause, both engines', () => {
  const frag6 = ipv6FragmentHeader(0, true, 9);
  const laterFrag6 = ipv6FragmentHeader(8, false, 9);
  const bulk = tcpFrame({ sport: 20, payload: MSS });
  const cases: Array<{ cause: PassThroughCause; why: string; options?: EngineOptions; frames: Uint8Array[]; expect: number }> = [
    {
      cause: 'bad-tcp-checksum',
      why: 'a new connection, appending, after a mismatch, starting after a PSH',
      frames: [
        tcpFrame({ sport: 1, payload: 100, badTcpChecksum: true }), // f == NONE (714 before 728)
        ...segments(1, { sport: 2 }),
        tcpFrame({ sport: 2, seq: SEQ0 + 9 * MSS, payload: MSS, badTcpChecksum: true }), // mismatch-seq, then 714
        ...segments(1, { sport: 2 }, SEQ0 + MSS),
        tcpFrame({ sport: 2, seq: SEQ0 + 2 * MSS, payload: MSS, badTcpChecksum: true }), // aggAppend
        tcpFrame({ sport: 3, payload: MSS, flags: ACK | PSH }), // psh: nothing pending
        tcpFrame({ sport: 3, seq: SEQ0 + MSS, payload: MSS, badTcpChecksum: true }), // aggStart
      ],
      expect: 4,
    },
    {
      cause: 'bad-ip-checksum',
      why: 'a segment, a pure ACK (the IP header is checked first)',
      frames: [tcpFrame({ payload: 100, badIpChecksum: true }), tcpFrame({ badIpChecksum: true, badTcpChecksum: true })],
      expect: 2,
    },
    {
      cause: 'truncated',
      why: 'cut in the Ethernet header, the VLAN tag, the IP header, before the ports; IP length past the bytes; IPv6 too; a TCP header longer than the packet',
      frames: [
        cut(bulk, 10),
        cut(tcpFrame({ vlan: 5 }), 16),
        cut(bulk, 14 + 12),
        cut(bulk, 14 + 20 + 2),
        cut(bulk, 200), // IP total length says 1488
        cut(tcpFrame({ ipVersion: 6, payload: 100 }), 14 + 40 + 30),
        poke(tcpFrame({ payload: 0 }), 14 + 20 + 12, 0xf0), // data offset 60 > the 20 bytes there
        new Uint8Array(0),
      ],
      expect: 8,
    },
    {
      cause: 'not-tcp',
      why: 'ARP, UDP over IPv4 and IPv6, two VLAN tags, an IPv4 ethertype with version 6',
      frames: [
        arpFrame(),
        udpFrame({ payload: 50 }),
        udpFrame({ ipVersion: 6, payload: 50 }),
        tcpFrame({ vlan: [10, 20], payload: 100 }),
        poke(tcpFrame({ payload: 100 }), 14, 0x65),
      ],
      expect: 5,
    },
    {
      cause: 'ip-options',
      why: 'IPv4 options, a first and a later IPv4 fragment, an IPv6 first and later fragment',
      frames: [
        tcpFrame({ payload: 100, ipOptions: new Uint8Array([1, 1, 1, 1]) }),
        tcpFrame({ sport: 2, payload: 100, fragment: { mf: true } }),
        tcpFrame({ sport: 3, payload: 100, fragment: { offset: 100 } }),
        tcpFrame({ ipVersion: 6, payload: 100, ipv6ExtHeaders: [frag6] }),
        tcpFrame({ ipVersion: 6, payload: 100, ipv6ExtHeaders: [laterFrag6] }),
      ],
      expect: 5,
    },
    {
      cause: 'no-payload',
      why: 'a pure ACK, bare SYN, FIN and RST, a pure ACK with a bad TCP checksum (never summed)',
      frames: [
        tcpFrame({}),
        tcpFrame({ sport: 2, flags: SYN }),
        tcpFrame({ sport: 3, flags: ACK | FIN }),
        tcpFrame({ sport: 4, flags: RST }),
        tcpFrame({ sport: 5, badTcpChecksum: true }),
      ],
      expect: 5,
    },
    {
      cause: 'flags',
      why: 'SYN, RST, URG with payload, TTL 0; one of them on a known connection, whose aggregate goes first',
      frames: [
        tcpFrame({ sport: 1, payload: 100, flags: SYN }),
        tcpFrame({ sport: 2, payload: 100, flags: ACK | RST }),
        tcpFrame({ sport: 3, payload: 100, flags: ACK | URG, urgent: 1 }),
        tcpFrame({ sport: 4, payload: 100, ttl: 0 }),
        ...segments(2, { sport: 5 }),
        tcpFrame({ sport: 5, seq: SEQ0 + 2 * MSS, payload: MSS, flags: ACK | URG }),
      ],
      expect: 4 + 1,
    },
    {
      cause: 'flags',
      why: 'seed: CWR with payload',
      options: { preset: 'seed' },
      frames: [tcpFrame({ payload: 100, flags: ACK | CWR })],
      expect: 1,
    },
    {
      cause: 'table-full',
      why: 'maxFlows 1: every segment of a second connection',
      options: { maxFlows: 1 },
      frames: [...segments(2, { sport: 1 }), ...segments(3, { sport: 2 })],
      expect: 3,
    },
    {
      cause: 'too-large',
      why: 'an IP length over maxAggregate',
      options: { mtu: 576, maxAggregate: 1000 },
      frames: segments(3),
      expect: 3,
    },
    {
      cause: 'too-large',
      why: 'a frame over maxFrame',
      options: { mtu: 576, maxFrame: 1000 },
      frames: [...segments(2, {}, SEQ0, 900), ...segments(2, { sport: 2 }, SEQ0, 1000)],
      expect: 2,
    },
    {
      cause: 'tcp-options',
      why: 'seed: a timestamp option',
      options: { preset: 'seed' },
      frames: segments(3, { options: tcpTimestampOption(1, 2) }),
      expect: 3,
    },
  ];

  for (const c of cases) {
    it(`${c.cause}: ${c.why}`, async () => {
      const { stats, packets } = await run(c.options ?? {}, timed(c.frames));
      expect(counted(stats)).toEqual({ [c.cause]: c.expect });
      expect(packets.filter((p) => p.reason === 'pass-through')).toHaveLength(c.expect);
    });
  }

  it('mixed traffic: each cause counted apart, nothing else', async () => {
    const frames = cases.filter((c) => c.options === undefined).flatMap((c) => c.frames);
    const { stats } = await run({}, timed(frames));
    const expected: Partial<Record<PassThroughCause, number>> = {};
    for (const c of cases) if (c.options === undefined) expected[c.cause] = (expected[c.cause] ?? 0) + c.expect;
    expect(counted(stats)).toEqual(expected);
  });

  it('stats() always has every cause, zero included; an aggregate counts under none', async () => {
    const e = await createEngine({ engine: 'ts' });
    expect(Object.keys(e.stats().passThroughCauses)).toEqual([...PASS_THROUGH_CAUSES]);
    for (const f of segments(3)) e.push(f, 0);
    e.close();
    expect(sumOfCauses(e.stats())).toBe(0);
    expect(e.stats().reasons.close).toBe(1);
  });
});

describe('maxFrame: the largest frame an aggregate may be (link header included)', () => {
  it('resolves to 0 (no limit) by default; 0 or [mtu, 2^32) else a RangeError naming it', async () => {
    expect(resolveOptions({}).maxFrame).toBe(0);
    expect(resolveOptions({ maxFrame: 9014 }).maxFrame).toBe(9014);
    expect(resolveOptions({ maxFrame: 1500 }).maxFrame).toBe(1500);
    expect(resolveOptions({ mtu: 576, maxFrame: 576 }).maxFrame).toBe(576);
    for (const bad of [1499, -1, 1514.5, 2 ** 32, Number.NaN, '9014', true]) {
      expect(() => resolveOptions({ maxFrame: bad as never }), String(bad)).toThrow(RangeError);
      expect(() => resolveOptions({ maxFrame: bad as never }), String(bad)).toThrow(
        /^option maxFrame must be 0 \(no limit\) or an integer in \[1500, 4294967295\]/,
      );
    }
    await expect(createEngine({ maxFrame: 100 })).rejects.toThrow(/option maxFrame/);
  });

  const specs: Array<[string, TcpFrameSpec]> = [
    ['IPv4', {}],
    ['IPv6, VLAN, timestamps', { ipVersion: 6, vlan: 3, options: tcpTimestampOption(5, 6) }],
  ];
  const limits = [9014, 1514, 1528, 1542, 1514 + 14 * 10, 1514 + 14 * 100, 65535];
  for (const [name, spec] of specs) {
    for (const size of [MSS, 1460, 701, 14]) {
      it(`${name}, ${size}-byte segments: no packet larger than maxFrame (${limits.join(', ')}), each as large as it may be`, async () => {
        const frames = segments(size < 100 ? 2000 : 200, spec, SEQ0, size);
        const frameLen = frames[0].length;
        const statsOf = async (maxFrame: number) => (await runBoth({ maxFrame }, timed(frames))).stats;
        const unlimited = Math.max(...(await run({}, timed(frames))).packets.map((p) => p.segments));
        for (const maxFrame of limits) {
          const { packets } = await run({ maxFrame }, timed(frames));
          const aggregates = packets.filter((p) => p.reason !== 'pass-through');
          for (const p of packets) expect(p.data.length, `maxFrame ${maxFrame}`).toBeLessThanOrEqual(Math.max(maxFrame, frameLen));
          // Stopped before the next segment would pass it, not earlier: `capacity` means one more would not fit.
          for (const p of aggregates.filter((a) => a.reason === 'capacity')) {
            const beyond = p.data.length + size > maxFrame || parseFrame(p.data)!.ipLength + size > 65535;
            expect(beyond, `maxFrame ${maxFrame}: a capacity aggregate of ${p.segments} segments, ${p.data.length} bytes`).toBe(true);
          }
          if (frameLen > maxFrame) {
            expect(packets.every((p) => p.reason === 'pass-through' && p.data.length === frameLen)).toBe(true);
            expect(counted(await statsOf(maxFrame))).toEqual({ 'too-large': frames.length });
          } else {
            // As many segments as fit, or as the limits without maxFrame allow (threshold, AgTimer).
            const fit = Math.floor((maxFrame - (frameLen - size)) / size);
            const most = Math.max(...aggregates.map((p) => p.segments));
            expect(most, `maxFrame ${maxFrame}`).toBe(Math.min(fit, unlimited));
          }
        }
      });
    }
  }

  it('jumbo 9014: 6 segments of 1448 bytes per aggregate (8742 bytes), reason capacity; the default would take 45', async () => {
    const frames = segments(60);
    const { packets } = await run({ maxFrame: 9014 }, timed(frames));
    expect(packets.map((p) => `${p.segments}:${p.reason}`)).toEqual([...Array(9).fill('6:capacity'), '6:close']);
    expect(packets[0].data.length).toBe(14 + 20 + 20 + 6 * MSS);
    const whole = parseFrame(packets[0].data)!;
    expect(whole.ipChecksumOk && whole.tcpChecksumOk).toBe(true);
    expectSameBytes(packets[0].data, tcpFrame({ seq: SEQ0, payload: 6 * MSS }), 'the first aggregate');
    const { packets: unlimited } = await run({}, timed(frames));
    expect(unlimited[0].segments).toBe(45);
  });

  it('a frame already larger than maxFrame passes through unchanged (too-large), and ends its connection run', async () => {
    const frames = [...segments(2, {}, SEQ0, 700), tcpFrame({ seq: SEQ0 + 1400, payload: 1448 })];
    const { packets, stats } = await run({ maxFrame: 1500 }, timed(frames));
    expect(packets.map((p) => `${p.segments}:${p.reason}`)).toEqual(['2:non-candidate', '1:pass-through']);
    expect(counted(stats)).toEqual({ 'too-large': 1 });
  });
});
