// CONTRACT §6 invariants, checked with the independent parser in bindings/packet/.
import { expect } from 'vitest';
import { flowKey, parseFrame } from '../../bindings/packet/index.js';
import type { Packet } from '../../bindings/engine/types.js';
import type { Step } from './engines.js';
import { expectSameByteLists, expectSameBytes } from './bytes.js';

export interface InvariantOptions {
  maxAggregate?: number;
  aggregateTimeoutUs?: number;
  fixChecksums?: boolean;
  linkType?: number;
}

function tcpOf(frame: Uint8Array, linkType: number) {
  const p = parseFrame(frame, linkType);
  return p?.tcp ? { p, key: flowKey(p) } : null;
}

/** Invariants 1, 2, 3 and 5 on one run (4 is runBoth's job; 6 and 7: nothing thrown, all out after close). */
export function checkInvariants(steps: Step[], packets: Packet[], o: InvariantOptions = {}): void {
  const linkType = o.linkType ?? 1;
  const maxAggregate = o.maxAggregate ?? 65535;
  const inputs = steps.filter((s): s is { frame: Uint8Array; t: number } => 'frame' in s);
  // 1. Per connection, TCP payload bytes in output order = input order.
  const streamsIn = new Map<string, Buffer[]>();
  const streamsOut = new Map<string, Buffer[]>();
  // 2. Frames that are not TCP come out byte-identical, exactly once, in order.
  const otherIn: Uint8Array[] = [];
  const otherOut: Uint8Array[] = [];
  for (const { frame } of inputs) {
    const t = tcpOf(frame, linkType);
    if (t) append(streamsIn, t.key, t.p.tcp!.payload);
    else otherIn.push(frame);
  }
  for (const packet of packets) {
    const t = tcpOf(packet.data, linkType);
    if (t) append(streamsOut, t.key, t.p.tcp!.payload);
    else otherOut.push(packet.data);
    if (packet.segments >= 2) {
      // 3. Every aggregate is a valid packet.
      expect(t, 'an aggregate parses as TCP').not.toBeNull();
      const p = t!.p;
      expect(p.ipLength).toBeLessThanOrEqual(maxAggregate);
      expect(packet.data.length).toBe(p.l3Offset + (p.ipVersion === 4 ? 0 : 40) + p.ipLength);
      if (o.fixChecksums !== false) {
        expect(p.ipChecksumOk && p.tcpChecksumOk, 'aggregate checksums').toBe(true);
        expect(packet.checksumsFixed).toBe(true);
      }
    }
  }
  expectSameByteLists(otherOut, otherIn, 'non-TCP frame', linkType);
  expect([...streamsOut.keys()].sort()).toEqual([...streamsIn.keys()].sort());
  for (const [key, chunks] of streamsIn) {
    expectSameBytes(Buffer.concat(streamsOut.get(key)!), Buffer.concat(chunks), `payload stream of ${key}`, null);
  }
  // 5. No aggregate later than its AgTimer deadline.
  if (o.aggregateTimeoutUs !== undefined) checkAgTimer(inputs, packets, o.aggregateTimeoutUs, linkType);
}

function append(map: Map<string, Buffer[]>, key: string, bytes: Uint8Array): void {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  list.push(Buffer.from(bytes));
}

/** Each aggregate goes out no later than (arrival of its first segment) + timeout. */
function checkAgTimer(inputs: { frame: Uint8Array; t: number }[], packets: Packet[], timeout: number, linkType: number): void {
  const firstSeen = new Map<string, number[]>(); // key|seq → arrival times
  for (const { frame, t } of inputs) {
    const x = tcpOf(frame, linkType);
    if (!x) continue;
    const id = `${x.key}|${x.p.tcp!.seq}`;
    const list = firstSeen.get(id) ?? [];
    list.push(Math.floor(t));
    firstSeen.set(id, list);
  }
  for (const packet of packets) {
    if (packet.segments < 2) continue;
    const x = tcpOf(packet.data, linkType)!;
    const arrivals = firstSeen.get(`${x.key}|${x.p.tcp!.seq}`) ?? [];
    const start = Math.max(...arrivals.filter((a) => a <= packet.timeUs));
    expect(packet.timeUs - start, 'AgTimer bound').toBeLessThanOrEqual(timeout);
  }
}
