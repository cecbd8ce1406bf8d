// Known packet sequences for every patent step and every send reason, both engines, exact output.
// Expected aggregates are built with the independent frame builder: an aggregate of segments
// s1..sn must equal one frame carrying their payloads under s1's headers.
import { describe, expect, it } from 'vitest';
import {
  ACK,
  CWR,
  ECE,
  FIN,
  PSH,
  RST,
  SYN,
  URG,
  arpFrame,
  parseFrame,
  tcpFrame,
  tcpTimestampOption,
  udpFrame,
  type TcpFrameSpec,
} from '../bindings/packet/index.js';
import { BUILD_AREAS } from '../bindings/abi.js';
import { createEngine } from '../bindings/index.js';
import type { Engine, EngineKind, EngineOptions, Packet } from '../bindings/engine/types.js';
import { runBoth, timed, type Step } from './helpers/engines.js';
import { checkInvariants } from './helpers/invariants.js';
import { MSS, SEQ0, segments } from './helpers/segments.js';
import { expectSameByteLists, expectSameBytes } from './helpers/bytes.js';

/** The aggregate the engine must produce from `count` segments of `size` at `from`. */
function aggregateOf(count: number, spec: TcpFrameSpec = {}, from = SEQ0, size = MSS): Uint8Array {
  return tcpFrame({ ...spec, seq: from, payload: count * size });
}

const second = (spec: TcpFrameSpec) => tcpFrame({ seq: SEQ0 + MSS, payload: MSS, ...spec });

async function run(options: EngineOptions, steps: Step[], expectInvariants = true) {
  const result = await runBoth(options, steps);
  if (expectInvariants) checkInvariants(steps, result.packets, { ...options, linkType: options.linkType });
  return result;
}

function shape(packets: Packet[]) {
  return packets.map((p) => `${p.segments}:${p.reason}`);
}

describe('bulk flow', () => {
  it('1000 in-order 1448-byte segments → aggregates of 45 with valid checksums', async () => {
    const frames = segments(1000);
    const { packets, stats } = await run({}, timed(frames));
    expect(shape(packets)).toEqual([...Array(22).fill('45:threshold'), '10:close']);
    for (const [i, p] of packets.entries()) {
      expectSameBytes(p.data, aggregateOf(p.segments, {}, SEQ0 + i * 45 * MSS), `packet ${i} (aggregate of ${p.segments} segments)`);
      const parsed = parseFrame(p.data)!;
      expect(parsed.ipChecksumOk && parsed.tcpChecksumOk).toBe(true);
      expect(p.mss).toBe(MSS);
    }
    expect(packets[0].data.length).toBe(14 + 40 + 45 * MSS);
    expect(stats).toMatchObject({
      packetsIn: 1000,
      packetsOut: 23,
      aggregates: 23,
      segmentsAggregated: 1000,
      passedThrough: 0,
      flowsCreated: 1,
      flowsActive: 1,
    });
  });

  it('IPv6, VLAN and timestamp options aggregate the same way (gro)', async () => {
    const ts = tcpTimestampOption(7, 9);
    for (const spec of [{ ipVersion: 6 as const }, { vlan: 42 }, { options: ts }, { ipVersion: 6 as const, vlan: 7, options: ts }]) {
      const { packets } = await run({}, timed(segments(90, spec)));
      expect(shape(packets)).toEqual(['45:threshold', '45:threshold']);
      expectSameBytes(packets[1].data, aggregateOf(45, spec, SEQ0 + 45 * MSS), 'packet 1');
    }
  });

  it('works on every link type the engine parses', async () => {
    for (const linkType of [113, 276, 101] as const) {
      const { packets } = await run({ linkType }, timed(segments(50, { linkType })));
      expect(shape(packets)).toEqual(['45:threshold', '5:close']);
      expectSameBytes(packets[1].data, aggregateOf(5, { linkType }, SEQ0 + 45 * MSS), `packet 1, link type ${linkType}`, linkType);
    }
  });

  it('odd payload lengths: sums placed at odd offsets are swapped correctly', async () => {
    const frames = segments(7, {}, SEQ0, 1001);
    const { packets } = await run({}, timed(frames));
    expectSameBytes(packets[0].data, aggregateOf(7, {}, SEQ0, 1001), 'packet 0');
  });

  it('sequence numbers wrap at 2^32', async () => {
    const from = 2 ** 32 - 3 * MSS + 5;
    const frames = Array.from({ length: 6 }, (_, i) => tcpFrame({ seq: (from + i * MSS) % 2 ** 32, payload: MSS }));
    const { packets } = await run({}, timed(frames));
    expect(shape(packets)).toEqual(['6:close']);
    expectSameBytes(packets[0].data, aggregateOf(6, {}, from), 'packet 0');
  });
});

describe('send reasons', () => {
  it('threshold (754): sent once the size exceeds THRESHOLD', async () => {
    const { packets } = await run({ threshold: 3000 }, timed(segments(6)));
    expect(shape(packets)).toEqual(['3:threshold', '3:threshold']);
  });

  it('capacity: the next segment would exceed maxAggregate', async () => {
    const { packets } = await run({ maxAggregate: 3000, threshold: 3000 }, timed(segments(5)));
    expect(shape(packets)).toEqual(['2:capacity', '2:capacity', '1:close']);
    expectSameBytes(packets[2].data, segments(5)[4], 'packet 2');
  });

  it('ag-timer (780): sent at its deadline, stamped with the deadline', async () => {
    const frames = segments(3);
    const steps: Step[] = [
      { frame: frames[0], t: 100 },
      { frame: frames[1], t: 600 },
      { frame: frames[2], t: 5000 },
    ];
    const { packets } = await run({ aggregateTimeoutUs: 1000 }, steps);
    expect(shape(packets)).toEqual(['2:ag-timer', '1:close']);
    expect(packets[0].timeUs).toBe(1100);
    const adv = await run({ aggregateTimeoutUs: 1000 }, [{ frame: frames[0], t: 100 }, { advance: 1099 }, { advance: 1100 }]);
    expect(adv.packets.map((p) => [p.reason, p.timeUs])).toEqual([['ag-timer', 1100]]);
  });

  it('del-timer (790): an idle connection is deleted and its aggregate sent', async () => {
    const frames = segments(2);
    const { packets, stats } = await run({ idleTimeoutMs: 1, aggregateTimeoutUs: 5000 }, [
      { frame: frames[0], t: 0 },
      { frame: frames[1], t: 10 },
      { advance: 1010 },
    ]);
    expect(packets.map((p) => [p.segments, p.reason, p.timeUs])).toEqual([[2, 'del-timer', 1010]]);
    expect(stats).toMatchObject({ flowsCreated: 1, flowsDeleted: 1, flowsActive: 0 });
  });

  it('DelTimer restarts on every frame of the connection (724), including non-candidates', async () => {
    const bad = tcpFrame({ seq: SEQ0 + MSS, payload: 10, badTcpChecksum: true });
    const { stats } = await run({ idleTimeoutMs: 1 }, [{ frame: segments(1)[0], t: 0 }, { frame: bad, t: 900 }, { advance: 1800 }], false);
    expect(stats.flowsDeleted).toBe(0);
  });

  it('fin (752, 758), gro: a FIN with payload joins as the last segment and deletes the connection', async () => {
    const frames = [...segments(2), tcpFrame({ seq: SEQ0 + 2 * MSS, payload: MSS, flags: ACK | FIN })];
    const { packets, stats } = await run({}, timed(frames));
    expect(shape(packets)).toEqual(['3:fin']);
    expectSameBytes(packets[0].data, aggregateOf(3, { flags: ACK | FIN }), 'packet 0');
    expect(stats).toMatchObject({ flowsDeleted: 1, flowsActive: 0 });
  });

  it('fin, seed: the FIN segment differs in flags, so it starts and ends its own aggregate', async () => {
    const fin = tcpFrame({ seq: SEQ0 + 2 * MSS, payload: MSS, flags: ACK | FIN });
    const { packets } = await run({ preset: 'seed' }, timed([...segments(2), fin]));
    expect(shape(packets)).toEqual(['2:mismatch-flags', '1:fin']);
    expectSameBytes(packets[1].data, fin, 'packet 1');
  });

  it('bare FIN and RST send the aggregate, pass through and delete the connection', async () => {
    for (const [flag, reason] of [
      [FIN | ACK, 'fin'],
      [RST | ACK, 'rst'],
      [RST, 'rst'],
    ] as const) {
      const end = tcpFrame({ seq: SEQ0 + 2 * MSS, flags: flag });
      const { packets, stats } = await run({}, timed([...segments(2), end]));
      expect(shape(packets)).toEqual([`2:${reason}`, '1:pass-through']);
      expectSameBytes(packets[1].data, end, 'packet 1');
      expect(stats.flowsActive).toBe(0);
    }
  });

  it('psh (gro): PSH ends the aggregate and is carried over', async () => {
    const frames = [...segments(2), tcpFrame({ seq: SEQ0 + 2 * MSS, payload: MSS, flags: ACK | PSH }), ...segments(2, {}, SEQ0 + 3 * MSS)];
    const { packets } = await run({}, timed(frames));
    expect(shape(packets)).toEqual(['3:psh', '2:close']);
    expectSameBytes(packets[0].data, aggregateOf(3, { flags: ACK | PSH }), 'packet 0');
  });

  it('psh, seed: flags must be identical, PSH does not end an aggregate', async () => {
    const psh = (n: number, from: number) => segments(n, { flags: ACK | PSH }, from);
    const { packets } = await run({ preset: 'seed' }, timed([...segments(2), ...psh(3, SEQ0 + 2 * MSS)]));
    expect(shape(packets)).toEqual(['2:mismatch-flags', '3:close']);
  });

  it('short (gro): a segment shorter than the MSS ends the aggregate', async () => {
    const frames = [...segments(2), tcpFrame({ seq: SEQ0 + 2 * MSS, payload: 500 })];
    const { packets } = await run({}, timed(frames));
    expect(shape(packets)).toEqual(['3:short']);
    expectSameBytes(packets[0].data, tcpFrame({ seq: SEQ0, payload: 2 * MSS + 500 }), 'packet 0');
    const seed = await run({ preset: 'seed' }, timed([...frames, ...segments(1, {}, SEQ0 + 2 * MSS + 500)]));
    expect(shape(seed.packets)).toEqual(['4:close']);
  });

  const mismatches: Array<[string, TcpFrameSpec, string, EngineOptions?]> = [
    ['flags (736)', { flags: ACK | ECE }, 'mismatch-flags'],
    ['ACK number (738)', { ack: 2 }, 'mismatch-ack'],
    ['sequence gap (740)', { seq: SEQ0 + 3 * MSS }, 'mismatch-seq'],
    ['retransmission (740)', { seq: SEQ0 }, 'mismatch-seq'],
    ['TCP options (741)', { options: tcpTimestampOption(1, 2) }, 'mismatch-options'],
    ['window', { window: 1000 }, 'mismatch-window'],
    ['TTL', { ttl: 63 }, 'mismatch-ip'],
    ['TOS / ECN', { tos: 2 }, 'mismatch-ip'],
    ['DF', { df: false }, 'mismatch-ip'],
    ['payload longer than the MSS', { payload: MSS + 10 }, 'mismatch-mss'],
  ];
  for (const [what, spec, reason] of mismatches) {
    it(`${reason}: ${what} differs → the aggregate is sent, the segment starts a new one`, async () => {
      const frames = [segments(1)[0], second(spec)];
      const { packets } = await run({}, timed(frames));
      expect(shape(packets)).toEqual([`1:${reason}`, '1:close']);
      expectSameBytes(packets[0].data, frames[0], 'packet 0');
      expectSameBytes(packets[1].data, frames[1], 'packet 1');
    });
  }

  it('mismatch-ip: the IPv6 flow label and traffic class must match', async () => {
    for (const spec of [{ flowLabel: 5 }, { tos: 4 }, { ttl: 9 }]) {
      const frames = [tcpFrame({ ipVersion: 6, seq: SEQ0, payload: MSS }), second({ ipVersion: 6, ...spec })];
      const { packets } = await run({}, timed(frames));
      expect(shape(packets)).toEqual(['1:mismatch-ip', '1:close']);
    }
  });

  it('seed ignores window, TTL, TOS and longer segments', async () => {
    const frames = [segments(1)[0], second({ window: 9, ttl: 3, tos: 4, payload: MSS + 2 })];
    const { packets } = await run({ preset: 'seed' }, timed(frames));
    expect(shape(packets)).toEqual(['2:close']);
    expectSameBytes(packets[0].data, tcpFrame({ seq: SEQ0, payload: 2 * MSS + 2, window: 9 }), 'packet 0');
  });

  it('non-candidate: a frame of the connection that cannot join sends the aggregate first', async () => {
    const cases: Array<[string, Uint8Array]> = [
      ['bad TCP checksum', second({ badTcpChecksum: true })],
      ['bad IPv4 header checksum', second({ badIpChecksum: true })],
      ['IPv4 options', second({ ipOptions: new Uint8Array([1, 1, 1, 1]) })],
      ['first fragment', second({ fragment: { mf: true } })],
      ['pure ACK', tcpFrame({ seq: SEQ0 + MSS })],
      ['TTL 0 (732)', second({ ttl: 0 })],
      ['SYN', second({ flags: SYN | ACK })],
      ['URG', second({ flags: URG | ACK })],
      ['CWR (seed)', second({ flags: CWR | ACK })],
      ['IPv6 behind a destination options header (seed)', second({ ipVersion: 6, ipv6ExtHeaders: [{ type: 60 }] })],
      ['IPv6 behind a fragment header', second({ ipVersion: 6, ipv6ExtHeaders: [{ type: 44 }] })],
      ['IPv6 behind an AH header', second({ ipVersion: 6, ipv6ExtHeaders: [{ type: 51 }] })],
      ['truncated', segments(2)[1].subarray(0, 100)],
    ];
    for (const [what, frame] of cases) {
      const v6 = parseFrame(frame)?.ipVersion === 6;
      const spec: TcpFrameSpec = v6 ? { ipVersion: 6 } : {};
      const frames = [...segments(1, spec), frame, ...segments(2, spec, SEQ0 + 2 * MSS)];
      const { packets } = await run(what.endsWith('(seed)') ? { preset: 'seed' } : {}, timed(frames));
      expect(shape(packets), what).toEqual(['1:non-candidate', '1:pass-through', '2:close']);
      expectSameBytes(packets[1].data, frame, `packet 1 (${what})`);
    }
  });

  it('seed: TCP options make a segment a non-candidate (741)', async () => {
    const ts = tcpTimestampOption(1, 1);
    const { packets } = await run({ preset: 'seed' }, timed([...segments(2), ...segments(2, { options: ts }, SEQ0 + 2 * MSS)]));
    expect(shape(packets)).toEqual(['2:non-candidate', '1:pass-through', '1:pass-through']);
  });

  it('IPv6 extension headers (gro): a segment joins only behind the very same chain', async () => {
    const dst = (body: number) => ({ ipVersion: 6 as const, ipv6ExtHeaders: [{ type: 60, bytes: new Uint8Array(6).fill(body) }] });
    const ext = tcpFrame({ ...dst(1), seq: SEQ0 + MSS, payload: MSS });
    const frames = [tcpFrame({ ipVersion: 6, seq: SEQ0, payload: MSS }), ext];
    const { packets } = await run({}, timed(frames));
    expect(shape(packets)).toEqual(['1:mismatch-ip', '1:close']);
    const other = await run({}, timed([...segments(2, dst(1)), ...segments(2, dst(2), SEQ0 + 2 * MSS)]));
    expect(shape(other.packets)).toEqual(['2:mismatch-ip', '2:close']);
    expectSameBytes(other.packets[0].data, aggregateOf(2, dst(1)), 'packet 0');
  });

  it('flush and close send pending aggregates in the order they started', async () => {
    const a = segments(2, { sport: 1 });
    const b = segments(2, { sport: 2 });
    const steps: Step[] = [...timed([b[0], a[0], a[1], b[1]]), { flush: true }, ...timed(segments(1, { sport: 3 }), 10)];
    const { packets } = await run({}, steps);
    expect(packets.map((p) => `${parseFrame(p.data)!.tcp!.sport}:${p.segments}:${p.reason}`)).toEqual([
      '2:2:flush',
      '1:2:flush',
      '3:1:close',
    ]);
  });
});

describe('pass-through and the context database', () => {
  it('non-TCP frames pass through byte-identical, exactly once', async () => {
    const frames = [
      arpFrame(),
      udpFrame({ payload: 100 }),
      tcpFrame({ vlan: [5, 6], payload: 100 }),
      new Uint8Array(0),
      new Uint8Array(13),
      udpFrame({ ipVersion: 6, payload: 3, padding: 20 }),
    ];
    const { packets, stats } = await run({}, timed(frames));
    expectSameByteLists(
      packets.map((p) => p.data),
      frames,
      'packet',
    );
    expect(packets.every((p) => p.reason === 'pass-through' && p.segments === 1)).toBe(true);
    expect(stats).toMatchObject({ passedThrough: 6, flowsCreated: 0 });
  });

  it('VLANs never share an entry (734)', async () => {
    const frames = [...segments(1, { vlan: 1 }), ...segments(1, { vlan: 2 }), ...segments(1, { vlan: 1 }, SEQ0 + MSS)];
    const { packets, stats } = await run({}, timed(frames));
    expect(stats.flowsCreated).toBe(2);
    expect(shape(packets)).toEqual(['2:close', '1:close']);
  });

  it('only a candidate with payload creates an entry (728); full table → pass-through', async () => {
    const frames = [
      tcpFrame({ sport: 1, flags: SYN }),
      tcpFrame({ sport: 1 }),
      ...segments(2, { sport: 1 }),
      ...segments(2, { sport: 2 }),
      ...segments(2, { sport: 3 }),
    ];
    const { packets, stats } = await run({ maxFlows: 2 }, timed(frames));
    expect(stats).toMatchObject({ flowsCreated: 2, tableFull: 2, passedThrough: 4 });
    expect(shape(packets)).toEqual(['1:pass-through', '1:pass-through', '1:pass-through', '1:pass-through', '2:close', '2:close']);
  });

  it('table churn: deletion keeps every remaining flow findable', async () => {
    const steps: Step[] = [];
    let t = 0;
    const frame = (sport: number, spec: TcpFrameSpec) => steps.push({ frame: tcpFrame({ sport, ...spec }), t: t++ });
    for (let round = 0; round < 4; round++) {
      const ports = Array.from({ length: 60 }, (_, f) => 1000 + f * 13 + round * 7);
      for (const port of ports) frame(port, { seq: SEQ0, payload: 100 });
      ports.forEach((port, f) => {
        if (f % 2 === 0) frame(port, { seq: SEQ0 + 100, flags: ACK | FIN });
      });
      ports.forEach((port, f) => {
        if (f % 2 === 1) frame(port, { seq: SEQ0 + 100, payload: 100 });
      });
      ports.forEach((port, f) => {
        if (f % 2 === 1) frame(port, { seq: SEQ0 + 200, flags: RST });
      });
    }
    const { packets, stats } = await run({ maxFlows: 64, aggregateTimeoutUs: 10 ** 9 }, steps);
    expect(stats).toMatchObject({ tableFull: 0, flowsCreated: 240, flowsDeleted: 240, flowsActive: 0 });
    expect(packets.filter((p) => p.reason === 'rst').every((p) => p.segments === 2)).toBe(true);
  });

  it('a one-segment aggregate keeps its Ethernet padding; a longer one drops it', async () => {
    const frames = segments(2, { padding: 6 }, SEQ0, 10);
    const one = await run({}, timed(frames.slice(0, 1)));
    expectSameBytes(one.packets[0].data, frames[0], 'packet 0');
    const two = await run({}, timed(frames));
    expectSameBytes(two.packets[0].data, aggregateOf(2, {}, SEQ0, 10), 'packet 0');
  });
});

// The core verifies a candidate's payload checksum while copying the payload into the output area
// where one aggregate at a time is built (assembly/parse.ts copyPayload): a bad segment's bytes
// may land past the aggregate's end and must never become part of it, nor disturb what is pending.
describe('payload checksum verified while copying (714 with 745)', () => {
  it('a bad segment after a padded one-segment aggregate: the padding is sent intact', async () => {
    const [first] = segments(1, { padding: 6 }, SEQ0, 10);
    for (let i = first.length - 6; i < first.length; i++) first[i] = 0xa0 + i; // padding that shows damage
    const bad = tcpFrame({ seq: SEQ0 + 10, payload: 10, badTcpChecksum: true });
    const { packets } = await run({}, timed([first, bad]));
    expect(shape(packets)).toEqual(['1:non-candidate', '1:pass-through']);
    expectSameBytes(packets[0].data, first, 'packet 0');
    expectSameBytes(packets[1].data, bad, 'packet 1');
  });

  it('a bad segment joining a longer aggregate: the aggregate holds exactly the good segments', async () => {
    const bad = tcpFrame({ seq: SEQ0 + 3 * MSS, payload: MSS, badTcpChecksum: true });
    const frames = [...segments(3), bad, ...segments(2, {}, SEQ0 + 4 * MSS)];
    const { packets } = await run({}, timed(frames));
    expect(shape(packets)).toEqual(['3:non-candidate', '1:pass-through', '2:close']);
    expectSameBytes(packets[0].data, aggregateOf(3), 'packet 0');
    expectSameBytes(packets[1].data, bad, 'packet 1');
    expectSameBytes(packets[2].data, aggregateOf(2, {}, SEQ0 + 4 * MSS), 'packet 2');
  });

  it('a bad segment that would not join anyway: the aggregate goes out as non-candidate, not mismatch', async () => {
    const bad = second({ ack: 99, badTcpChecksum: true });
    const { packets } = await run({}, timed([...segments(1), bad]));
    expect(shape(packets)).toEqual(['1:non-candidate', '1:pass-through']);
  });

  it('a bad segment where an aggregate would start: nothing is pending, it passes through', async () => {
    const bad = tcpFrame({ seq: SEQ0 + MSS, payload: MSS, badTcpChecksum: true });
    const frames = [segments(1, { flags: ACK | PSH })[0], bad, ...segments(2, {}, SEQ0 + 2 * MSS)];
    const { packets } = await run({}, timed(frames));
    expect(shape(packets)).toEqual(['1:psh', '1:pass-through', '2:close']);
    expectSameBytes(packets[1].data, bad, 'packet 1');
  });

  it('a bad first segment of a new connection creates no entry', async () => {
    const bad = tcpFrame({ seq: SEQ0, payload: MSS, badTcpChecksum: true });
    const { packets, stats } = await run({}, timed([bad]));
    expect(shape(packets)).toEqual(['1:pass-through']);
    expect(stats.flowsCreated).toBe(0);
  });
});

// Pending aggregates keep their segments in the staging ring (ringBytes) where they were staged,
// gathered at send. When the ring has no room for the next frames, the oldest pending aggregate
// is sent first (reason capacity).
describe('the staging ring (ringBytes)', () => {
  // The first BUILD_AREAS aggregates pending at once are built in build areas, not held in the
  // ring: 80 flows leave 16 of them in the ring.
  const FLOWS = BUILD_AREAS + 16;
  /** FLOWS flows, `rounds` segments each, round robin: every flow's aggregate pending at once. */
  function interleaved(rounds: number): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (let r = 0; r < rounds; r++)
      for (let f = 0; f < FLOWS; f++) frames.push(tcpFrame({ sport: 100 + f, seq: SEQ0 + r * MSS, payload: MSS }));
    return frames;
  }
  /** Every packet is its flow's next run of segments, byte for byte. */
  function expectRuns(packets: Packet[]): void {
    const next = new Map<number, number>();
    for (const [i, p] of packets.entries()) {
      const sport = parseFrame(p.data)!.tcp!.sport;
      const from = next.get(sport) ?? SEQ0;
      expectSameBytes(p.data, aggregateOf(p.segments, { sport }, from), `packet ${i} (${p.segments} segments of ${sport}, ${p.reason})`);
      next.set(sport, from + p.segments * MSS);
    }
  }

  it('a ring too small for what is pending: the oldest aggregate goes first (capacity), bytes survive every wrap, and the packets do not depend on how frames were batched', async () => {
    const frames = interleaved(40); // 16 flows × 40 frames of 1514 bytes held (≈ 1 MB) in a 1 MiB ring
    const steps: Step[] = [...timed(frames, 0, 0), { flush: true }];
    const one = await runBoth({ ringBytes: 1 << 20 }, steps);
    expect(one.stats.reasons.capacity).toBeGreaterThan(0);
    expect(one.stats.segmentsAggregated).toBe(frames.length);
    expect(new Set(one.packets.map((p) => p.reason))).toEqual(new Set(['capacity', 'flush']));
    expectRuns(one.packets);
    for (const batch of [1, 7, 64, 3200]) {
      const { packets } = await runBoth({ ringBytes: 1 << 20 }, steps, { batch });
      expectSameByteLists(
        packets.map((p) => p.data),
        one.packets.map((p) => p.data),
        `batch ${batch} vs one at a time`,
      );
      expect(shape(packets), `batch ${batch}`).toEqual(shape(one.packets));
    }
  });

  it('under ring pressure, pushFrom (runs with gaps) and pushStaged give the packets push() gives, on both engines', async () => {
    const frames = interleaved(40);
    const one = await runBoth({ ringBytes: 1 << 20 }, [...timed(frames, 0, 0), { flush: true }]);
    // The frames packed as a capture reader hands them out: a 16-byte record header before each.
    const total = frames.reduce((n, f) => n + f.length + 16, 0);
    const view = new Uint8Array(total);
    const offsets: number[] = [];
    let at = 0;
    for (const f of frames) {
      at += 16;
      view.set(f, at);
      offsets.push(at);
      at += f.length;
    }
    const lengths = frames.map((f) => f.length);
    const times = frames.map(() => 0);
    for (const kind of ['wasm', 'ts'] as EngineKind[]) {
      for (const how of ['pushFrom', 'pushStaged'] as const) {
        const e = await createEngine({ engine: kind, hashSeed: 12345, ringBytes: 1 << 20 });
        for (let i = 0; i < frames.length; i += 100) {
          const end = Math.min(frames.length, i + 100);
          if (how === 'pushFrom') e.pushFrom(view, offsets.slice(i, end), lengths.slice(i, end), times.slice(i, end));
          else {
            const area = e.stagingArea();
            const o: number[] = [];
            let p = 0;
            for (let k = i; k < end; k++) {
              area.set(frames[k], p);
              o.push(p);
              p += frames[k].length + 3;
            }
            e.pushStaged(o, lengths.slice(i, end), times.slice(i, end));
          }
        }
        e.flush();
        const packets = e.drain();
        e.close();
        expectSameByteLists(
          packets.map((p) => p.data),
          one.packets.map((p) => p.data),
          `${kind} ${how} vs push()`,
        );
        expect(shape(packets), `${kind} ${how}`).toEqual(shape(one.packets));
      }
    }
  });

  it("a frame pushed past held aggregates' deadlines fires their AgTimers before room is made for it: ag-timer, not capacity", async () => {
    // 500 one-segment aggregates at t = 0 (those past the build areas held in a 1 MiB ring, near
    // its account's limit), then a frame at t = 5000: push(frame, t) first fires every deadline
    // ≤ t (CONTRACT §4 Timers), which frees the ring, so it equals advance(t) and then the push.
    const first = Array.from({ length: 500 }, (_, i) => tcpFrame({ sport: 1000 + i, seq: SEQ0, payload: MSS }));
    const late = tcpFrame({ sport: 99, seq: SEQ0, payload: MSS });
    const at0 = timed(first, 0, 0);
    const timedOut = (packets: Packet[]) => packets.map((p) => `${p.inputIndex}:${p.segments}:${p.reason}@${p.timeUs}`);
    for (const batch of [0, 1000]) {
      const pushed = await runBoth({ ringBytes: 1 << 20 }, [...at0, { frame: late, t: 5000 }], { batch });
      const advanced = await runBoth({ ringBytes: 1 << 20 }, [...at0, { advance: 5000 }, { frame: late, t: 5000 }], { batch });
      expect(timedOut(pushed.packets), `batch ${batch}`).toEqual(timedOut(advanced.packets));
      expect(pushed.packets.filter((p) => p.reason === 'ag-timer').length, `batch ${batch}`).toBeGreaterThan(400);
    }
  });

  it('a ring that holds it all: nothing is sent early, and the aggregates are gathered whole', async () => {
    const frames = interleaved(40);
    const { packets, stats } = await run({}, [...timed(frames, 0, 0), { flush: true }]);
    expect(stats.reasons.capacity).toBe(0);
    expect(shape(packets)).toEqual(Array(FLOWS).fill('40:flush'));
    expectRuns(packets);
  });

  it('a flow that stays pending while others pass the whole ring many times: sent for room, never corrupted', async () => {
    // BUILD_AREAS parked flows (one segment each) take every build area, so what follows is held
    // in the ring: flow 1's one segment, then flows 2 and 3, 2000 segments each, interleaved
    // (45-segment aggregates, sent at the threshold), through a 1 MiB ring: flow 1's segment pins
    // the ring's tail until the ring is full.
    const parked = Array.from({ length: BUILD_AREAS }, (_, i) => tcpFrame({ sport: 1000 + i, seq: SEQ0, payload: MSS }));
    const two = segments(2000, { sport: 2 });
    const three = segments(2000, { sport: 3 });
    const frames = [...parked, tcpFrame({ sport: 1, seq: SEQ0, payload: MSS }), two[0]];
    for (let i = 1; i < 2000; i++) frames.push(three[i - 1], two[i]);
    frames.push(three[1999]);
    for (const batch of [0, 64]) {
      const { packets, stats } = await runBoth({ ringBytes: 1 << 20, aggregateTimeoutUs: 1e9 }, [...timed(frames, 0, 0), { flush: true }], {
        batch,
      });
      const pinned = packets.filter((p) => parseFrame(p.data)!.tcp!.sport === 1);
      expect(shape(pinned), `batch ${batch}`).toEqual(['1:capacity']);
      expect(stats.reasons.capacity, `batch ${batch}`).toBeGreaterThanOrEqual(1);
      expect(stats.segmentsAggregated, `batch ${batch}`).toBe(frames.length);
      expectRuns(packets);
    }
  });
});

// maxPending < maxFlows: fewer descriptors than connections. A new aggregate that finds every
// descriptor in use first sends the oldest pending one (reason capacity).
describe('pending aggregates capped (maxPending)', () => {
  const tagged = (p: Packet) => `${parseFrame(p.data)!.tcp!.sport}:${p.segments}:${p.reason}`;

  it('the oldest pending aggregate is sent to free a descriptor', async () => {
    const a = segments(3, { sport: 1 });
    const b = segments(2, { sport: 2 });
    const steps: Step[] = [...timed([a[0], a[1], b[0], b[1], a[2]]), { flush: true }];
    const { packets, stats } = await run({ maxFlows: 4, maxPending: 1 }, steps);
    expect(packets.map(tagged)).toEqual(['1:2:capacity', '2:2:capacity', '1:1:flush']);
    expectSameBytes(packets[0].data, aggregateOf(2, { sport: 1 }), 'packet 0');
    expectSameBytes(packets[1].data, aggregateOf(2, { sport: 2 }), 'packet 1');
    expectSameBytes(packets[2].data, a[2], 'packet 2');
    expect(stats.flowsActive).toBe(2); // connections stay tracked; only their descriptors are shared
  });

  it('a segment with a bad checksum evicts nothing', async () => {
    const b = segments(3, { sport: 2 });
    const badB = tcpFrame({ sport: 2, seq: SEQ0 + 2 * MSS, payload: MSS, badTcpChecksum: true });
    const frames = [
      tcpFrame({ sport: 1, seq: SEQ0, payload: MSS }),
      b[0],
      tcpFrame({ sport: 2, seq: SEQ0 + MSS, payload: MSS, flags: ACK | PSH }),
      tcpFrame({ sport: 1, seq: SEQ0 + MSS, payload: MSS }),
      badB,
    ];
    const { packets } = await run({ maxFlows: 4, maxPending: 1 }, [...timed(frames), { flush: true }]);
    expect(packets.map(tagged)).toEqual(['1:1:capacity', '2:2:psh', '2:1:pass-through', '1:1:flush']);
    expectSameBytes(packets[2].data, badB, 'packet 2');
  });

  it('100k tracked flows, each with an aggregate pending: with maxPending = maxFlows (the default) none is sent early', async () => {
    const n = 100_000;
    const frames = Array.from({ length: n }, (_, i) =>
      tcpFrame({ sport: 1 + (i % 50_000), src: `10.1.${(i >> 8) & 255}.${i & 255}`, dst: `10.2.0.${i >> 16}`, payload: 10 }),
    );
    const { stats } = await run({ maxFlows: n }, [...timed(frames, 0, 0), { flush: true }]);
    expect(stats.flowsActive).toBe(n);
    expect(stats.reasons.capacity).toBe(0);
    expect(stats.reasons.flush).toBe(n);
  });

  it('100k tracked flows, maxPending 1024: the oldest aggregates are sent for descriptors', async () => {
    const n = 100_000;
    const frames = Array.from({ length: n }, (_, i) =>
      tcpFrame({ sport: 1 + (i % 50_000), src: `10.1.${(i >> 8) & 255}.${i & 255}`, dst: `10.2.0.${i >> 16}`, payload: 10 }),
    );
    const { packets, stats } = await run({ maxFlows: n, maxPending: 1024 }, timed(frames, 0, 0));
    expect(stats.flowsCreated).toBe(n);
    expect(stats.flowsActive).toBe(n);
    expect(stats.tableFull).toBe(0);
    expect(stats.reasons.capacity).toBe(n - 1024);
    expect(packets).toHaveLength(n);
  });
});

describe('checksum options', () => {
  it('verification off: a corrupted segment joins and its error is carried, not laundered', async () => {
    const frames = [segments(1)[0], second({ badTcpChecksum: true }), ...segments(1, {}, SEQ0 + 2 * MSS)];
    const { packets } = await run({ verifyChecksums: false }, timed(frames), false);
    expect(shape(packets)).toEqual(['3:close']);
    const p = parseFrame(packets[0].data)!;
    expect(p.ipChecksumOk).toBe(true);
    expect(p.tcpChecksumOk).toBe(false);
    const good = await run({ verifyChecksums: false }, timed(segments(3)));
    expectSameBytes(good.packets[0].data, aggregateOf(3), 'packet 0');
  });

  it("fix-up off: both checksum fields are the first segment's and the packet says so", async () => {
    const frames = segments(3);
    const { packets } = await run({ fixChecksums: false }, timed(frames), false);
    expect(packets[0].checksumsFixed).toBe(false);
    const out = packets[0].data;
    const expected = aggregateOf(3);
    expected.set(frames[0].subarray(24, 26), 24); // IPv4 header checksum
    expected.set(frames[0].subarray(50, 52), 50); // TCP checksum
    expectSameBytes(out, expected, 'packet 0');
  });
});

describe('clock', () => {
  it('a time earlier than the last is treated as the last and counted', async () => {
    const frames = segments(3);
    const { packets, stats } = await run({}, [
      { frame: frames[0], t: 500.7 },
      { frame: frames[1], t: 100 },
      { frame: frames[2], t: 0 },
    ]);
    expect(stats.clockClamped).toBe(2);
    expect(packets[0].timeUs).toBe(500);
  });

  it('deadlines saturate at 2^53 - 1', async () => {
    const { packets } = await run({}, [{ frame: segments(1)[0], t: 2 ** 53 - 10 }, { advance: 2 ** 53 - 1 }]);
    expect(packets.map((p) => [p.reason, p.timeUs])).toEqual([['ag-timer', 2 ** 53 - 1]]);
  });
});

// CONTRACT §5: what a packet says about itself, the same on both engines (runBoth compares every
// field); here each field against the value a reader of the input expects.
describe('what a packet says about itself', () => {
  /** The same scenario on both engines: equal results, returned once. */
  async function onBoth<T>(scenario: (engine: Engine) => T | Promise<T>, options: EngineOptions = {}): Promise<T> {
    const results: T[] = [];
    for (const kind of ['wasm', 'ts'] as EngineKind[]) {
      const engine = await createEngine({ hashSeed: 12345, ...options, engine: kind });
      results.push(await scenario(engine));
    }
    expect(results[1], 'ts engine vs wasm engine').toEqual(results[0]);
    return results[0];
  }

  const meta = (p: Packet) => [p.reason, p.segments, p.inputIndex, p.firstTimeUs, p.timeUs];

  it("inputIndex and firstTimeUs: the first segment's position and (floored, clamped) time; a pass-through's own", async () => {
    const a = segments(3, { sport: 1 });
    const b = segments(2, { sport: 2 });
    const steps: Step[] = [
      { frame: a[0], t: 10.7 }, //           0  starts A at 10
      { frame: b[0], t: 11 }, //             1  starts B at 11
      { frame: arpFrame(), t: 9 }, //        2  pass-through, clock clamped to 11
      { frame: a[1], t: 12.9 }, //           3  joins A
      { frame: tcpFrame({ sport: 1, seq: SEQ0 + 2 * MSS, payload: MSS, flags: ACK | PSH }), t: 13 }, // 4 ends A (psh)
      { frame: b[1], t: 14 }, //             5  joins B
      { frame: a[2], t: 15 }, //             6  starts A again (seq gap: its own run)
      { advance: 2000 },
    ];
    for (const batch of [0, 3]) {
      const { packets } = await runBoth({}, steps, { batch });
      expect(packets.map(meta), `batch ${batch}`).toEqual([
        ['pass-through', 1, 2, 11, 11],
        ['psh', 3, 0, 10, 13],
        ['ag-timer', 2, 1, 11, 1011],
        ['ag-timer', 1, 6, 15, 1015],
      ]);
    }
  });

  it("inputIndex counts every frame pushed over the engine's life: push, pushBatch (several core calls) and pushStaged", async () => {
    const arp = arpFrame();
    const got = await onBoth((e) => {
      const indices: number[] = [];
      e.setSink((_data, m) => indices.push(m.inputIndex));
      e.push(arp, 0); // 0
      e.pushBatch(Array(2100).fill(arp), new Float64Array(2100)); // 1 .. 2100: three core calls on WASM
      e.flush();
      e.advance(5);
      const area = e.stagingArea();
      area.set(arp, 0);
      e.pushStaged(Array(1500).fill(0), Array(1500).fill(arp.length), new Float64Array(1500).fill(6)); // 2101 .. 3600
      e.push(arp, 7); // 3601
      e.close();
      return { indices, next: e.firstPendingIndex() };
    });
    expect(got.indices).toEqual(Array.from({ length: 3602 }, (_, i) => i));
    expect(got.next).toBe(3602);
  });

  it("ipVersion: the link layer says IPv4 / IPv6, the version nibble agrees and the fixed header is there; an aggregate has its flow's", async () => {
    const v4 = udpFrame({ payload: 10 });
    const nibble6 = v4.slice();
    nibble6[14] = 0x65; // says IPv4, version 6
    const cases: Array<[string, Uint8Array, number, (4 | 6 | 0)?]> = [
      ['ARP', arpFrame(), 0],
      ['UDP over IPv4', v4, 4],
      ['UDP over IPv6', udpFrame({ ipVersion: 6, payload: 3 }), 6],
      ['IPv4 with bad header checksum', tcpFrame({ badIpChecksum: true }), 4],
      ['IPv4 cut inside the header (19 bytes)', v4.subarray(0, 14 + 19), 0],
      ['IPv4 header only (20 bytes)', v4.subarray(0, 14 + 20), 4],
      ['IPv6 cut inside the header (39 bytes)', udpFrame({ ipVersion: 6 }).subarray(0, 14 + 39), 0],
      ['version nibble disagrees', nibble6, 0],
      ['one VLAN tag', tcpFrame({ vlan: 5 }), 4],
      ['two VLAN tags (never parsed past the second)', tcpFrame({ vlan: [5, 6] }), 0],
      ['raw IP, IPv6', udpFrame({ linkType: 101, ipVersion: 6 }), 6, 101 as never],
      ['raw IP, 19 bytes of IPv4', v4.subarray(14, 33), 0, 101 as never],
      ['Linux SLL2, IPv4', tcpFrame({ linkType: 276 }), 4, 276 as never],
    ];
    for (const [what, frame, version, linkType] of cases) {
      const { packets } = await runBoth({ linkType: linkType ?? 1 }, timed([frame]));
      expect(
        packets.map((p) => [p.reason, p.ipVersion]),
        what,
      ).toEqual([['pass-through', version]]);
    }
    const six = await runBoth({}, timed(segments(3, { ipVersion: 6 })));
    expect(six.packets.map((p) => [p.segments, p.ipVersion])).toEqual([[3, 6]]);
  });

  it("tcpOffset and headerLength: TCP with its ports present / its whole header present; an aggregate has its first segment's", async () => {
    const ts = tcpTimestampOption(1, 2);
    const ack = tcpFrame({ seq: SEQ0 });
    const cases: Array<[string, Uint8Array, number, number, number?]> = [
      ['pure ACK', ack, 34, 54],
      ['VLAN tag', tcpFrame({ vlan: 9 }), 38, 58],
      ['TCP options', tcpFrame({ options: ts }), 34, 66],
      ['IPv4 options', tcpFrame({ ipOptions: new Uint8Array([1, 1, 1, 1]) }), 38, 58],
      ['IPv6', tcpFrame({ ipVersion: 6 }), 54, 74],
      ['IPv6 extension header (walked to the ports)', tcpFrame({ ipVersion: 6, ipv6ExtHeaders: [{ type: 60 }] }), 62, 82],
      ['ports present, header cut (truncated at 40 bytes)', ack.subarray(0, 40), 34, 0],
      [
        'data offset past the IP end',
        (() => {
          const f = tcpFrame({ seq: SEQ0 });
          f[14 + 20 + 12] = 0xf0; // 60-byte header in a 20-byte TCP packet
          return f;
        })(),
        34,
        0,
      ],
      ['ports cut (37 bytes)', ack.subarray(0, 37), 0, 0],
      ['UDP', udpFrame({ payload: 8 }), 0, 0],
      ['non-first IPv4 fragment', tcpFrame({ fragment: { offset: 185 }, payload: 8 }), 0, 0],
      ['Linux SLL', tcpFrame({ linkType: 113 }), 36, 56, 113],
      ['raw IP', tcpFrame({ linkType: 101, options: ts }), 20, 52, 101],
    ];
    for (const [what, frame, tcpOffset, headerLength, linkType] of cases) {
      const { packets } = await runBoth({ linkType: linkType ?? 1 }, timed([frame]));
      expect(
        packets.map((p) => [p.reason, p.tcpOffset, p.headerLength]),
        what,
      ).toEqual([['pass-through', tcpOffset, headerLength]]);
    }
    const agg = await runBoth({}, timed(segments(4, { vlan: 3, options: ts })));
    expect(agg.packets.map((p) => [p.segments, p.tcpOffset, p.headerLength])).toEqual([[4, 38, 70]]);
    const frame = agg.packets[0].data;
    expect(parseFrame(frame)!.tcp!.payload.byteOffset - frame.byteOffset).toBe(70);
  });

  it('verified: every segment of an aggregate had its TCP checksum verified; never a pass-through, never with verification off', async () => {
    const frames = [...segments(2), tcpFrame({ seq: SEQ0 + 2 * MSS }), ...segments(1, {}, SEQ0 + 2 * MSS)];
    const on = await runBoth({}, timed(frames));
    expect(on.packets.map((p) => [p.reason, p.segments, p.verified])).toEqual([
      ['non-candidate', 2, true],
      ['pass-through', 1, false],
      ['close', 1, true],
    ]);
    const off = await runBoth({ verifyChecksums: false }, timed(frames));
    expect(off.packets.map((p) => [p.reason, p.segments, p.verified])).toEqual([
      ['non-candidate', 2, false],
      ['pass-through', 1, false],
      ['close', 1, false],
    ]);
  });

  it("fixedIpId: an IPv4 aggregate of two or more segments whose IDs all equal the first's (seed: IDs never decide joining)", async () => {
    const withIds = (ids: number[], spec: TcpFrameSpec = {}) =>
      ids.map((ipId, i) => tcpFrame({ ...spec, ipId, seq: SEQ0 + i * MSS, payload: MSS }));
    const cases: Array<[string, Uint8Array[], boolean, EngineOptions]> = [
      ['all equal', withIds([7, 7, 7, 7]), true, {}],
      ['all zero (the DF default of Linux)', withIds([0, 0, 0]), true, {}],
      ['incrementing', withIds([7, 8, 9, 10]), false, {}],
      ['equal but the last (seed)', withIds([7, 7, 7, 8]), false, { preset: 'seed' }],
      ['equal but the second (seed)', withIds([7, 8, 7, 7]), false, { preset: 'seed' }],
      ['one segment', withIds([7]), false, {}],
    ];
    for (const [what, frames, fixed, options] of cases) {
      const { packets } = await runBoth(options, timed(frames));
      expect(
        packets.map((p) => [p.segments, p.fixedIpId]),
        what,
      ).toEqual([[frames.length, fixed]]);
    }
    const six = await runBoth({}, timed(segments(3, { ipVersion: 6 })));
    expect(six.packets.map((p) => [p.segments, p.fixedIpId])).toEqual([[3, false]]);
    const pass = await runBoth({}, timed([tcpFrame({ ipId: 5 })]));
    expect(pass.packets[0].fixedIpId).toBe(false);
  });

  describe('firstPendingIndex()', () => {
    // Two flows, a pass-through, a PSH, a bad checksum, an AgTimer: what the sink sees, and what
    // the engine answers between calls.
    const A = (i: number, spec: TcpFrameSpec = {}) => tcpFrame({ sport: 1, seq: SEQ0 + i * MSS, payload: MSS, ...spec });
    const B = (i: number, spec: TcpFrameSpec = {}) => tcpFrame({ sport: 2, seq: SEQ0 + i * MSS, payload: MSS, ...spec });
    const frames = [
      A(0), //                             0  A pending from 0
      B(0), //                             1  B pending from 1
      arpFrame(), //                       2  pass-through (A, B pending: 0)
      A(1), //                             3  joins A
      A(2, { flags: ACK | PSH }), //       4  A sent (psh); B still pending: 1
      B(1, { badTcpChecksum: true }), //   5  B sent (non-candidate), nothing pending: 5; then itself
      A(5), //                             6  A pending from 6
    ];
    const sinkSees = [
      ['pass-through', 2, 0],
      ['psh', 0, 1],
      ['non-candidate', 1, 5],
      ['pass-through', 5, 5],
      ['ag-timer', 6, 7],
    ];
    const betweenCalls = [0, 0, 0, 0, 1, 6, 6];

    async function scenario(e: Engine, mode: 'push' | 'pushBatch' | 'pushStaged') {
      const seen: Array<[string, number, number]> = [];
      e.setSink((_data, m) => seen.push([m.reason, m.inputIndex, e.firstPendingIndex()]));
      const between = [e.firstPendingIndex()];
      if (mode === 'push') {
        frames.forEach((f, i) => {
          e.push(f, i);
          between.push(e.firstPendingIndex());
        });
      } else if (mode === 'pushBatch') {
        e.pushBatch(
          frames,
          frames.map((_f, i) => i),
        );
        between.push(e.firstPendingIndex());
      } else {
        const area = e.stagingArea();
        const offsets: number[] = [];
        let at = 0;
        for (const f of frames) {
          area.set(f, at);
          offsets.push(at);
          at += f.length;
        }
        e.pushStaged(
          offsets,
          frames.map((f) => f.length),
          frames.map((_f, i) => i),
        );
        between.push(e.firstPendingIndex());
      }
      e.advance(2000);
      between.push(e.firstPendingIndex());
      e.close();
      between.push(e.firstPendingIndex());
      return { seen, between };
    }

    it('from a sink, during push: the aggregate being sent no longer counts; nothing pending is the frame in hand', async () => {
      const got = await onBoth((e) => scenario(e, 'push'));
      expect(got.seen).toEqual(sinkSees);
      expect(got.between).toEqual([0, ...betweenCalls, 7, 7]);
    });

    it('the same through pushBatch and pushStaged (one call for all frames)', async () => {
      for (const mode of ['pushBatch', 'pushStaged'] as const) {
        const got = await onBoth((e) => scenario(e, mode));
        expect(got.seen, mode).toEqual(sinkSees);
        expect(got.between, mode).toEqual([0, 6, 7, 7]);
      }
    });

    it('an in-order writer: every packet whose inputIndex is below it can be written; none comes later', async () => {
      // Mixed flows, timers and pass-throughs: no packet ever arrives below an answer already given.
      const steps: Step[] = [];
      for (let i = 0; i < 400; i++) {
        const flow = i % 5;
        const k = Math.floor(i / 5);
        const frame = flow === 4 ? arpFrame() : tcpFrame({ sport: flow + 1, seq: SEQ0 + k * 100, payload: k % 7 === 6 ? 40 : 100 });
        steps.push({ frame, t: i * 37 });
      }
      const got = await onBoth(
        (e) => {
          const released: number[] = [];
          let floor = 0;
          let held: number[] = [];
          const release = () => {
            const f = e.firstPendingIndex();
            expect(f).toBeGreaterThanOrEqual(floor);
            floor = f;
            held.sort((x, y) => x - y);
            while (held.length > 0 && held[0] < floor) released.push(held.shift()!);
          };
          e.setSink((_data, m) => {
            expect(m.inputIndex).toBeGreaterThanOrEqual(floor);
            held.push(m.inputIndex);
            release();
          });
          for (const s of steps) if ('frame' in s) e.push(s.frame, s.t);
          e.close();
          release();
          const rest = held;
          held = [];
          return { released, rest };
        },
        { aggregateTimeoutUs: 500 },
      );
      expect(got.rest).toEqual([]);
      expect(got.released).toEqual([...got.released].sort((x, y) => x - y)); // input order
      expect(new Set(got.released).size).toBe(got.released.length);
    });
  });
});
