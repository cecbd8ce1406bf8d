// Adversarial input: hash flooding, table exhaustion, DelTimer churn, absurd clocks,
// tiny and huge frames, every truncation of a valid frame. Every sequence goes through the fuzz
// oracle (both engines, push vs pushBatch, two hash seeds, every CONTRACT §6 invariant) and then
// gets its own exact expectations.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACK, FIN, PSH, RST, arpFrame, tcpFrame, udpFrame, type LinkType, type TcpFrameSpec } from '../bindings/packet/index.js';
import { createEngine } from '../bindings/index.js';
import { hashKey, slotCount } from '../bindings/twin/flow-table.js';
import { KEY_WORDS, Parsed } from '../bindings/twin/parse.js';
import type { Engine, EngineKind, EngineOptions, Packet } from '../bindings/engine/types.js';
import type { Step } from './helpers/engines.js';
import { runEngine } from './helpers/engines.js';
import type { FuzzCase, Item } from './fuzz/arbitraries.js';
import { checkCase } from './fuzz/oracle.js';
import { expectSameBytes } from './helpers/bytes.js';

const MSS = 1448;
const MAX_TIME = 2 ** 53 - 1;

/** Steps → a fuzz case (raw bytes), checked by the oracle; both engines take the batched role once. */
async function oracle(options: EngineOptions, steps: Step[], splits: number[] = [3, 1, 64]): Promise<void> {
  const items: Item[] = steps.map((s) => ('frame' in s ? { frame: { bytes: s.frame }, t: s.t } : s));
  for (const batched of ['wasm', 'ts'] as EngineKind[]) {
    const c: FuzzCase = {
      options: { hashSeed: 12345, ...options },
      hashSeedB: 777,
      batched,
      splits,
      sink: false,
      views: 0,
      items,
    };
    await checkCase(c);
    await checkCase({ ...c, sink: true, views: 3, splits: [1000] });
  }
}

/** Output of the WASM engine (the oracle has shown the TS engine says the same). */
async function run(
  options: EngineOptions,
  steps: Step[],
): Promise<{ packets: Packet[]; stats: Awaited<ReturnType<typeof runEngine>>['stats'] }> {
  await oracle(options, steps);
  return runEngine('wasm', { hashSeed: 12345, ...options }, steps);
}

function seg(spec: TcpFrameSpec, i: number, size = MSS, from = 1000): Uint8Array {
  return tcpFrame({ ...spec, seq: from + i * size, payload: size });
}

const shape = (packets: Packet[]) => packets.map((p) => `${p.segments}:${p.reason}`);

describe('hash flooding', () => {
  const SEED = 0xc0ffee;
  const MAX_FLOWS = 64;

  /** Source ports whose flow key (10.0.0.1 → 10.0.0.2:5201, untagged) lands in one home slot. */
  function collidingPorts(count: number): number[] {
    const template = new Parsed(1, true);
    template.parse(tcpFrame({ sport: 1, payload: 1 }));
    const key = new Uint32Array(template.key);
    const bytes = new Uint8Array(key.buffer);
    const mask = slotCount(MAX_FLOWS) - 1;
    const home = (sport: number) => {
      bytes[4] = sport >> 8;
      bytes[5] = sport & 0xff;
      return hashKey(key, SEED) & mask;
    };
    const target = home(40000);
    const ports: number[] = [];
    for (let sport = 1; sport < 65536 && ports.length < count; sport++) if (home(sport) === target) ports.push(sport);
    // The layout assumption above agrees with the engine's own parser.
    const check = new Parsed(1, true);
    for (const sport of ports) {
      check.parse(tcpFrame({ sport, payload: 1 }));
      expect(hashKey(check.key, SEED) & mask).toBe(target);
    }
    expect(KEY_WORDS).toBe(10);
    return ports;
  }

  it('maxFlows keys in one probe chain: every lookup still finds its flow, deletions keep the chain intact', async () => {
    const ports = collidingPorts(MAX_FLOWS + MAX_FLOWS / 2);
    expect(ports.length).toBe(MAX_FLOWS * 1.5);
    const first = ports.slice(0, MAX_FLOWS);
    const later = ports.slice(MAX_FLOWS);
    const steps: Step[] = [];
    let t = 0;
    // Three in-order segments of each of the 64 flows, round-robin: a 64-long cluster probed every time.
    for (let i = 0; i < 3; i++) for (const sport of first) steps.push({ frame: seg({ sport }, i, 100), t: t++ });
    // One more flow: the table is full.
    steps.push({ frame: seg({ sport: later[0] }, 0, 100), t: t++ });
    // FIN every odd flow (holes in the middle of the cluster), then a 4th segment for the even ones.
    first.forEach((sport, k) => {
      if (k % 2 === 1) steps.push({ frame: tcpFrame({ sport, seq: 1000 + 300, flags: ACK | FIN }), t: t++ });
    });
    first.forEach((sport, k) => {
      if (k % 2 === 0) steps.push({ frame: seg({ sport }, 3, 100), t: t++ });
    });
    // New colliding flows fill the freed entries; their second segments must find them.
    for (let i = 0; i < 2; i++) for (const sport of later) steps.push({ frame: seg({ sport }, i + 5, 100), t: t++ });
    const options = { hashSeed: SEED, maxFlows: MAX_FLOWS, aggregateTimeoutUs: 1e9 };
    const { packets, stats } = await run(options, steps);
    // Even flows: 4 segments each at close; odd flows: 3 segments at their FIN, then the FIN itself.
    const bySport = new Map<number, string[]>();
    for (const p of packets) {
      const sport = (p.data[34] << 8) | p.data[35];
      bySport.set(sport, [...(bySport.get(sport) ?? []), `${p.segments}:${p.reason}`]);
    }
    first.forEach((sport, k) => {
      expect(bySport.get(sport), `flow ${sport}`).toEqual(k % 2 === 0 ? ['4:close'] : ['3:fin', '1:pass-through']);
    });
    // later[0]: its first segment was refused (table full), its other two aggregated once room was made.
    expect(bySport.get(later[0])).toEqual(['1:pass-through', '2:close']);
    for (const sport of later.slice(1)) expect(bySport.get(sport), `flow ${sport}`).toEqual(['2:close']);
    expect(stats).toMatchObject({ tableFull: 1, flowsCreated: MAX_FLOWS + later.length, flowsDeleted: MAX_FLOWS / 2 });
  });

  it('the output does not depend on the seed even when one seed makes every key collide', async () => {
    const ports = collidingPorts(MAX_FLOWS);
    const steps: Step[] = [];
    let t = 0;
    for (let i = 0; i < 4; i++) {
      for (const sport of ports) {
        t += 3;
        steps.push({ frame: seg({ sport }, i, 100), t });
      }
    }
    const options = { maxFlows: MAX_FLOWS, aggregateTimeoutUs: 50 };
    const a = await runEngine('wasm', { ...options, hashSeed: SEED }, steps);
    const b = await runEngine('ts', { ...options, hashSeed: SEED ^ 0x5555 }, steps);
    expect(a.packets.length).toBe(b.packets.length);
    for (const [i, p] of a.packets.entries()) {
      expect([p.timeUs, p.reason], `packet ${i}`).toEqual([b.packets[i].timeUs, b.packets[i].reason]);
      expectSameBytes(p.data, b.packets[i].data, `packet ${i}`);
    }
    await oracle({ ...options, hashSeed: SEED }, steps);
  });
});

describe('table exhaustion', () => {
  it('maxFlows + 1 flows: the extra one passes through, counted in tableFull, nothing lost', async () => {
    const flows = [40000, 40001, 40002, 40003, 40004];
    const steps: Step[] = [];
    let t = 0;
    for (let i = 0; i < 3; i++) for (const sport of flows) steps.push({ frame: seg({ sport }, i), t: t++ });
    const { packets, stats } = await run({ maxFlows: 4 }, steps);
    expect(stats).toMatchObject({ tableFull: 3, flowsCreated: 4, flowsActive: 4, passedThrough: 3 });
    const extra = packets.filter((p) => ((p.data[34] << 8) | p.data[35]) === 40004);
    expect(shape(extra)).toEqual(['1:pass-through', '1:pass-through', '1:pass-through']);
    expect(shape(packets.filter((p) => p.segments > 1))).toEqual(['3:close', '3:close', '3:close', '3:close']);
  });

  it('maxFlows 1: a freed entry is taken by the next flow', async () => {
    const steps: Step[] = [
      { frame: seg({ sport: 1 }, 0), t: 0 },
      { frame: seg({ sport: 2 }, 0), t: 1 }, // full
      { frame: tcpFrame({ sport: 1, seq: 1000 + MSS, flags: ACK | RST }), t: 2 }, // frees it
      { frame: seg({ sport: 2 }, 1), t: 3 },
      { frame: seg({ sport: 2 }, 2), t: 4 },
    ];
    const { packets, stats } = await run({ maxFlows: 1 }, steps);
    expect(shape(packets)).toEqual(['1:pass-through', '1:rst', '1:pass-through', '2:close']);
    expect(stats).toMatchObject({ tableFull: 1, flowsCreated: 2, flowsDeleted: 1 });
  });
});

describe('DelTimer churn', () => {
  it('200 000 short flows through an 8-entry table, both engines, bounded time', async () => {
    const FLOWS = 200_000;
    const steps: Array<{ frame: Uint8Array; t: number }> = [];
    for (let i = 0; i < FLOWS; i++) {
      const spec: TcpFrameSpec = { src: new Uint8Array([10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]), sport: 1024 + (i % 60000) };
      const t = i * 200;
      steps.push({ frame: tcpFrame({ ...spec, seq: 1, payload: 16 }), t });
      // Ends: every 3rd flow by FIN with payload, every 5th by a bare RST, the rest by the DelTimer.
      const flags = i % 3 === 0 ? ACK | FIN : ACK;
      steps.push({ frame: tcpFrame({ ...spec, seq: 17, payload: 16, flags }), t: t + 1 });
      if (i % 5 === 0 && i % 3 !== 0) steps.push({ frame: tcpFrame({ ...spec, seq: 33, flags: ACK | RST }), t: t + 2 });
    }
    const options: EngineOptions = { maxFlows: 8, idleTimeoutMs: 1, aggregateTimeoutUs: 500, hashSeed: 99 };
    const results: Record<string, { digest: string; stats: unknown; ms: number }> = {};
    for (const engine of ['wasm', 'ts'] as EngineKind[]) {
      const e = await createEngine({ ...options, engine });
      const hash = createHash('sha256');
      let packets = 0;
      e.setSink((data, meta) => {
        packets++;
        hash.update(`${meta.timeUs}|${meta.segments}|${meta.mss}|${meta.reason}|${meta.checksumsFixed}|`);
        hash.update(data);
      });
      const start = performance.now();
      for (let i = 0; i < steps.length; i += 1000) {
        const chunk = steps.slice(i, i + 1000);
        e.pushBatch(
          chunk.map((s) => s.frame),
          chunk.map((s) => s.t),
        );
      }
      e.advance(FLOWS * 200 + 10_000);
      const ms = performance.now() - start;
      const stats = e.stats();
      e.close();
      expect(stats.flowsActive).toBe(0);
      expect(stats.tableFull).toBe(0);
      expect(stats.flowsCreated).toBe(FLOWS);
      expect(stats.flowsDeleted).toBe(FLOWS);
      expect(stats.segmentsAggregated + stats.passedThrough).toBe(steps.length);
      expect(packets).toBe(stats.packetsOut);
      expect(stats.reasons.fin).toBe(Math.ceil(FLOWS / 3));
      expect(ms, `${engine} engine time`).toBeLessThan(30_000);
      results[engine] = { digest: hash.digest('hex'), stats, ms };
    }
    expect(results.wasm.digest).toBe(results.ts.digest);
    expect(results.wasm.stats).toEqual(results.ts.stats);
    console.log(`DelTimer churn, ${steps.length} frames: wasm ${results.wasm.ms.toFixed(0)} ms, ts ${results.ts.ms.toFixed(0)} ms`);
  }, 120_000);

  it('a sample of the churn, through the oracle', async () => {
    const steps: Step[] = [];
    for (let i = 0; i < 3000; i++) {
      const spec: TcpFrameSpec = { sport: 1024 + i };
      steps.push({ frame: tcpFrame({ ...spec, seq: 1, payload: 16 }), t: i * 200 });
      steps.push({ frame: tcpFrame({ ...spec, seq: 17, payload: 16, flags: i % 3 === 0 ? ACK | FIN : ACK }), t: i * 200 + 1 });
    }
    steps.push({ advance: 3000 * 200 + 10_000 });
    await oracle({ maxFlows: 8, idleTimeoutMs: 1, aggregateTimeoutUs: 500 }, steps, [7, 1000]);
  }, 60_000);
});

describe('clocks', () => {
  const flow = (i: number) => seg({}, i);

  it('huge jumps: timers fire at their own deadlines, stamped with them', async () => {
    const steps: Step[] = [
      { frame: flow(0), t: 0 },
      { frame: flow(1), t: 5 },
      { frame: flow(2), t: 2 ** 52 }, // AgTimer (1000) and DelTimer (10 s) long past
      { frame: flow(3), t: 2 ** 52 + 1 },
      { advance: 2 ** 53 - 2 },
    ];
    const { packets, stats } = await run({}, steps);
    expect(packets.map((p) => [p.segments, p.reason, p.timeUs])).toEqual([
      [2, 'ag-timer', 1000],
      [2, 'ag-timer', 2 ** 52 + 1000],
      // Both DelTimers fired too (10 s after 5, and after 2^52 + 1): no packet, the entries are gone.
    ]);
    expect(stats).toMatchObject({ flowsCreated: 2, flowsDeleted: 2, clockClamped: 0 });
  });

  it('time not advancing: one instant for 5000 segments, only size-driven sends', async () => {
    const steps: Step[] = [];
    for (let i = 0; i < 5000; i++) steps.push({ frame: flow(i), t: 7 });
    for (let i = 0; i < 10; i++) steps.push({ advance: 7 });
    const { packets, stats } = await run({}, steps);
    expect(new Set(packets.map((p) => p.timeUs))).toEqual(new Set([7]));
    expect(packets.filter((p) => p.reason === 'threshold').length).toBe(Math.floor(5000 / 45));
    expect(packets[packets.length - 1].reason).toBe('close');
    expect(stats.clockClamped).toBe(0);
  });

  it('time going back is clamped and counted; NaN, ±Infinity, negative and ≥ 2^53 are refused (test/api-contract.test.ts)', async () => {
    const times = [1000, 500, 0, 1000.9, 999, 2 ** 53 - 1, 5];
    const steps: Step[] = times.map((t, i) => ({ frame: flow(i), t }));
    const { packets, stats } = await run({ aggregateTimeoutUs: 2 ** 32 - 1 }, steps);
    // Clamped: 500, 0, 999, 5 (1000.9 floors to 1000 = now: not clamped).
    expect(stats.clockClamped).toBe(4);
    // 2^53 − 1 moves the clock to the largest time, and 5 stays there.
    expect(packets.every((p) => Number.isInteger(p.timeUs) && p.timeUs <= MAX_TIME)).toBe(true);
    expect(packets[packets.length - 1].timeUs).toBe(MAX_TIME);
    for (const bad of [NaN, -1, -Infinity, Infinity, 2 ** 53 + 10]) {
      await expect(run({}, [{ frame: flow(0), t: bad }])).rejects.toThrow(/RangeError: push\(frame, timeUs\): timeUs must be/);
    }
  });

  it('timestamps at 2^53 − 1: deadlines saturate there and still fire', async () => {
    const steps: Step[] = [
      { frame: flow(0), t: 2 ** 53 - 10 },
      { frame: flow(1), t: 2 ** 53 - 5 },
      { advance: 2 ** 53 - 1 },
      { frame: flow(2), t: 2 ** 53 - 1 },
      { frame: flow(3), t: 2 ** 53 - 1 },
      { advance: 2 ** 53 - 1 },
    ];
    const { packets, stats } = await run({ aggregateTimeoutUs: 100 }, steps);
    // Once the clock has saturated, an aggregate started there is already due: the next push or
    // advance sends it (its deadline, 2^53 − 1, is not later than the clock).
    expect(packets.map((p) => [p.segments, p.reason, p.timeUs])).toEqual([
      [2, 'ag-timer', MAX_TIME],
      [1, 'ag-timer', MAX_TIME],
      [1, 'ag-timer', MAX_TIME],
    ]);
    expect(stats.clockClamped).toBe(0);
  });
});

describe('frame sizes', () => {
  const LINKS: LinkType[] = [1, 113, 276, 101];

  it('frames of 0, 1, 13, 14 bytes pass through byte-identical, on every link type, amid a pending aggregate', async () => {
    for (const linkType of LINKS) {
      const tiny = [0, 1, 13, 14, 15, 19, 20, 21].map((n) => {
        const b = new Uint8Array(n);
        if (n > 0) b[0] = 0x45; // raw IP: looks like IPv4
        if (n > 13) b[12] = 0x08; // Ethernet: says IPv4
        return b;
      });
      const steps: Step[] = [
        { frame: seg({ linkType }, 0), t: 0 },
        ...tiny.map((frame, i) => ({ frame, t: i + 1 })),
        { frame: seg({ linkType }, 1), t: 20 },
      ];
      const { packets } = await run({ linkType }, steps);
      expect(packets.map((p) => p.data.length)).toEqual([...tiny.map((b) => b.length), packets[tiny.length].data.length]);
      expect(shape(packets)).toEqual([...tiny.map(() => '1:pass-through'), '2:close']);
    }
  });

  it('a 300 000-byte frame: garbage, or a valid segment followed by padding; both pass through unchanged', async () => {
    const garbage = new Uint8Array(300_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
    const valid = seg({}, 1);
    const padded = new Uint8Array(300_000);
    padded.set(valid);
    const steps: Step[] = [
      { frame: seg({}, 0), t: 0 },
      { frame: garbage, t: 1 },
      { frame: new Uint8Array(300_000), t: 2 },
      { frame: padded, t: 3 }, // belongs to the connection, cannot join: sends the pending one first
      { frame: seg({}, 2), t: 4 },
      { frame: seg({}, 3), t: 5 },
    ];
    const { packets } = await run({}, steps);
    expect(shape(packets)).toEqual(['1:pass-through', '1:pass-through', '1:non-candidate', '1:pass-through', '2:close']);
    expectSameBytes(packets[0].data, garbage, 'packet 0 (garbage)');
    expectSameBytes(packets[3].data, padded, 'packet 3 (padded segment)');
  });

  it('maximum-size segments: IPv4 total length 65535, IPv6 payload length 65535 (a 65 589-byte frame)', async () => {
    for (const ipVersion of [4, 6] as const) {
      const max = ipVersion === 4 ? 65535 - 40 : 65535 - 20;
      const steps: Step[] = [
        { frame: tcpFrame({ ipVersion, seq: 1, payload: max }), t: 0 },
        { frame: tcpFrame({ ipVersion, seq: 1 + max, payload: max }), t: 1 },
        { frame: tcpFrame({ ipVersion, seq: 1 + 2 * max, payload: 100 }), t: 2 },
        { frame: tcpFrame({ ipVersion, seq: 1 + 2 * max + 100, payload: 100 }), t: 3 },
      ];
      const { packets } = await run({}, steps);
      expect(shape(packets)).toEqual(['1:threshold', '1:threshold', '2:close']);
      for (const maxAggregate of [1500, 65534]) {
        const r = await run({ maxAggregate }, steps);
        expect(shape(r.packets).slice(0, 2)).toEqual(['1:pass-through', '1:pass-through']);
      }
    }
  });

  it('every truncation length of a valid frame, on every link type, IPv4 and IPv6', async () => {
    for (const linkType of LINKS) {
      for (const spec of [{ ipVersion: 4 as const }, { ipVersion: 6 as const }, { ipVersion: 4 as const, vlan: 5 }]) {
        if (linkType === 101 && 'vlan' in spec) continue;
        const s: TcpFrameSpec = { ...spec, linkType };
        const second = seg(s, 1, 60);
        for (let keep = 0; keep <= second.length; keep++) {
          const steps: Step[] = [
            { frame: seg(s, 0, 60), t: 0 },
            { frame: second.slice(0, keep), t: 1 },
            { frame: second, t: 2 },
            { frame: seg(s, 2, 60), t: 3 },
          ];
          const items: Item[] = steps.map((x) => ('frame' in x ? { frame: { bytes: x.frame }, t: x.t } : x));
          await checkCase({
            options: { linkType, maxFlows: 2 },
            hashSeedB: 1,
            batched: keep % 2 ? 'wasm' : 'ts',
            splits: [2],
            sink: false,
            views: keep % 8,
            items,
          });
        }
      }
    }
  }, 60_000);

  it('one pushBatch of 3000 frames (more than the 1024-frame staging batch, 2 MB of 64 KiB frames) = one at a time', async () => {
    const steps: Step[] = [];
    const seq = [1, 1, 1]; // three interleaved in-order flows
    for (let i = 0; i < 3000; i++) {
      const big = i % 100 === 0; // 30 frames of 65 495-byte payloads among small ones
      const payload = big ? 65535 - 40 : 1 + (i % 7);
      steps.push({ frame: tcpFrame({ sport: 40000 + (i % 3), seq: seq[i % 3], payload }), t: i });
      seq[i % 3] += payload;
    }
    for (const batched of ['wasm', 'ts'] as EngineKind[]) {
      const items: Item[] = steps.map((x) => ('frame' in x ? { frame: { bytes: x.frame }, t: x.t } : x));
      await checkCase({ options: { maxFlows: 4 }, hashSeedB: 5, batched, splits: [3000], sink: false, views: 0, items });
      await checkCase({ options: { maxFlows: 4 }, hashSeedB: 5, batched, splits: [1023, 1, 1024, 1025], sink: true, views: 2, items });
    }
  }, 60_000);

  it('UDP, ARP and odd frames of the same addresses never disturb a connection', async () => {
    const steps: Step[] = [
      { frame: seg({}, 0), t: 0 },
      { frame: udpFrame({ payload: 100 }), t: 1 },
      { frame: arpFrame({ padding: 18 }), t: 2 },
      { frame: tcpFrame({ seq: 1000 + MSS, payload: MSS, vlan: [1, 2] }), t: 3 }, // QinQ: not a candidate, another key
      { frame: seg({}, 1), t: 4 },
      { frame: tcpFrame({ seq: 1000 + 2 * MSS, payload: MSS, flags: ACK | PSH }), t: 5 },
    ];
    const { packets } = await run({}, steps);
    expect(shape(packets)).toEqual(['1:pass-through', '1:pass-through', '1:pass-through', '3:psh']);
  });
});

describe('hostile options', () => {
  type Choice = { valid: boolean; value: unknown } | undefined;
  const pick = (valid: fc.Arbitrary<unknown>, invalid: fc.Arbitrary<unknown>): fc.Arbitrary<Choice> =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 4, arbitrary: valid.map((value) => ({ valid: true, value })) },
      { weight: 1, arbitrary: invalid.map((value) => ({ valid: false, value })) },
    );
  const u32 = (min: number) => fc.integer({ min, max: 2 ** 32 - 1 });
  // (null counts as omitted: options are filled with `??`.)
  const junk = fc.constantFrom<unknown>(NaN, Infinity, -Infinity, 0.5, -1, '8', true, {}, 2 ** 53);
  const arb = fc.record({
    engine: pick(fc.constantFrom('wasm', 'ts'), fc.constantFrom('WASM', 'js', 1)),
    preset: pick(fc.constantFrom('gro', 'seed'), fc.constantFrom('GRO', 'linux', 0)),
    maxFlows: pick(fc.integer({ min: 1, max: 2048 }), fc.oneof(fc.constantFrom(0, 65537, 1.5), junk)),
    mtu: pick(fc.integer({ min: 68, max: 9000 }), fc.oneof(fc.constantFrom(67, 65536, 1500.5), junk)),
    aggFrac: fc.integer({ min: 0, max: 1000 }),
    aggKind: fc.constantFrom('omit', 'valid', 'below-mtu', 'above', 'junk'),
    thrFrac: fc.integer({ min: 0, max: 1000 }),
    thrKind: fc.constantFrom('omit', 'valid', 'negative', 'above', 'junk'),
    aggregateTimeoutUs: pick(u32(1), fc.oneof(fc.constantFrom(0, 2 ** 32), junk)),
    idleTimeoutMs: pick(u32(1), fc.oneof(fc.constantFrom(0, 2 ** 32), junk)),
    verifyChecksums: pick(fc.boolean(), fc.constantFrom(0, 1, 'yes')),
    fixChecksums: pick(fc.boolean(), fc.constantFrom(0, 1, 'no')),
    hashSeed: pick(u32(0), fc.oneof(fc.constantFrom(2 ** 32, -1, 0.5), junk)),
    linkType: pick(fc.constantFrom(1, 113, 276, 101, 12, 14, 228, 229), fc.constantFrom(0, 108, 147, '1')),
    bogus: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });

  it('random, out-of-range and mistyped options: a RangeError naming an offending option, or a working engine', async () => {
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        const options: Record<string, unknown> = {};
        const invalid: string[] = [];
        for (const name of [
          'engine',
          'preset',
          'maxFlows',
          'mtu',
          'aggregateTimeoutUs',
          'idleTimeoutMs',
          'verifyChecksums',
          'fixChecksums',
          'hashSeed',
          'linkType',
        ] as const) {
          const c = r[name];
          if (c === undefined) continue;
          options[name] = c.value;
          if (!c.valid) invalid.push(name);
        }
        const mtu = r.mtu === undefined ? 1500 : r.mtu.valid ? (r.mtu.value as number) : null;
        let maxAggregate = 65535;
        if (r.aggKind !== 'omit') {
          if (mtu === null) options.maxAggregate = 9000;
          else if (r.aggKind === 'valid') options.maxAggregate = maxAggregate = mtu + Math.floor((r.aggFrac / 1000) * (65535 - mtu));
          else {
            options.maxAggregate = r.aggKind === 'below-mtu' ? mtu - 1 : r.aggKind === 'above' ? 65536 : NaN;
            invalid.push('maxAggregate');
          }
        }
        if (r.thrKind !== 'omit') {
          if (r.thrKind === 'valid') options.threshold = Math.floor((r.thrFrac / 1000) * maxAggregate);
          else {
            options.threshold = r.thrKind === 'negative' ? -1 : r.thrKind === 'above' ? maxAggregate + 1 : 'x';
            if (!(r.thrKind === 'above' && options.maxAggregate === undefined && mtu === null)) invalid.push('threshold');
          }
        }
        if (r.bogus) {
          options.bogus = 1;
          invalid.push('bogus');
        }
        let engine: Engine;
        try {
          engine = await createEngine(options as EngineOptions);
        } catch (e) {
          expect(e, `rejected ${JSON.stringify(options)}`).toBeInstanceOf(RangeError);
          expect(invalid.length, `rejected valid options ${JSON.stringify(options)}: ${(e as Error).message}`).toBeGreaterThan(0);
          expect(
            invalid.some((name) => (e as Error).message.includes(name)),
            (e as Error).message,
          ).toBe(true);
          return;
        }
        expect(invalid, `accepted ${JSON.stringify(options)}`).toEqual([]);
        const link = engine.options.linkType as LinkType;
        for (let i = 0; i < 5; i++) engine.push(seg({ linkType: link }, i, 100), i);
        engine.close();
        expect(engine.stats().packetsIn).toBe(5);
      }),
      { seed: 7, numRuns: 300 },
    );
  }, 60_000);
});
