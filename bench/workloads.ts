// Benchmark workloads: seeded frames packed into one buffer (as a capture reader hands them out),
// with their times relative to the first frame. Every workload is rebuilt identically from its
// options; nothing is read from disk.
import { generateTraffic, type GenerateOptions } from '../bindings/traffic/generate.js';
import { ACK, tcpFrame, tcpTimestampOption } from '../bindings/packet/index.js';
import { Prng } from '../bindings/traffic/prng.js';
import { Parsed } from '../bindings/twin/parse.js';
import { hashKey, slotCount, FlowTable } from '../bindings/twin/flow-table.js';

export interface Workload {
  name: string;
  /** One line for RESULTS.md: what the traffic is. */
  description: string;
  /** Views into one contiguous buffer. */
  frames: Uint8Array[];
  /** µs since the first frame, non-decreasing. */
  rel: Float64Array;
  /** Sum of frame lengths (what Gbit/s counts). */
  bytes: number;
  /** µs from the first to the last frame. */
  spanUs: number;
  /** maxFlows the engines are created with. */
  maxFlows: number;
  /** Concurrent flows in the traffic. */
  flows: number;
  /** Share of frames that are not candidates (pure ACKs, SYN/FIN without payload, noise). */
  nonCandidates: number;
}

/** Sizes: 'full' for the real run, 'quick' for the ~30 s run, 'tiny' for the smoke test. */
export type Size = 'full' | 'quick' | 'tiny';

/** Seed of every generated workload (RESULTS.md quotes it). */
export const WORKLOAD_SEED = 20240501;
/** A 100 Gbit/s link: frames arrive as fast as a fast NIC delivers them. */
export const LINE_RATE_GBPS = 100;

/**
 * Frames per pass of the comparison workloads: ~6 MB, so a pass stays in the 32 MiB L3 cache,
 * like frames handed over straight from a capture chunk or a NIC ring (hot input).
 */
const HOT_FRAMES: Record<Size, number> = { full: 4000, quick: 4000, tiny: 400 };
/**
 * Frames per pass of the scale sweep: the same at every flow count of the 1 → 10k sweep, so that
 * only the number of flows changes, and two per flow at 10k, so that most flows are live in
 * every pass (fewer frames over 10k random flows would leave many of them out). A pass spans
 * ~2.4 ms of traffic: AgTimer and TCP timestamp ticks end aggregates within it, so the flush at
 * its end shortens few of them. Beyond the sweep (100k flows), still two frames per flow.
 */
const SCALE_FRAMES: Record<Size, number> = { full: 20_000, quick: 20_000, tiny: 1500 };

function scaleFrames(flows: number, size: Size): number {
  return size === 'tiny' ? SCALE_FRAMES.tiny : Math.max(SCALE_FRAMES[size], 2 * flows);
}

/** Pack frames back to back with a 16-byte gap (a pcap record header), like a capture chunk. */
export function pack(
  name: string,
  description: string,
  source: Iterable<{ data: Uint8Array; timeUs: number }>,
  flows: number,
  maxFlows: number,
): Workload {
  const list: { data: Uint8Array; timeUs: number }[] = [...source];
  let total = 0;
  for (const f of list) total += f.data.length + 16;
  const buffer = new Uint8Array(total);
  const frames: Uint8Array[] = [];
  const rel = new Float64Array(list.length);
  const t0 = list.length > 0 ? list[0].timeUs : 0;
  let at = 0;
  let bytes = 0;
  let non = 0;
  const parsed = new Parsed(1, true);
  for (let i = 0; i < list.length; i++) {
    const { data, timeUs } = list[i];
    at += 16;
    buffer.set(data, at);
    frames.push(buffer.subarray(at, at + data.length));
    at += data.length;
    rel[i] = timeUs - t0;
    bytes += data.length;
    if (parsed.parse(data) !== 2 || parsed.payloadLen === 0 || !parsed.verifyPayload(data)) non++;
  }
  return {
    name,
    description,
    frames,
    rel,
    bytes,
    flows,
    maxFlows,
    spanUs: list.length > 0 ? rel[list.length - 1] : 0,
    nonCandidates: list.length > 0 ? non / list.length : 0,
  };
}

/** Receive-path bulk traffic: data segments only (the host's ACKs go the other way). */
function bulk(flows: number, packets: number, extra: GenerateOptions = {}): Iterable<{ data: Uint8Array; timeUs: number }> {
  return generateTraffic({
    seed: WORKLOAD_SEED,
    packets,
    flows,
    mss: 1448,
    lineRateGbps: LINE_RATE_GBPS,
    ackEvery: 0,
    handshake: false,
    ...extra,
  });
}

/** The default table for up to 1000 flows; beyond, 10 % headroom rounded up to 1024. */
function maxFlowsFor(flows: number): number {
  return flows <= 1000 ? 1024 : Math.ceil((flows * 1.1) / 1024) * 1024;
}

function flowLabel(flows: number): string {
  return flows >= 1000 ? `${flows / 1000}k` : String(flows);
}

const BULK_TEXT = `1448-byte segments, TCP timestamps, ${LINE_RATE_GBPS} Gbit/s arrival`;

export function bulkWorkload(size: Size): Workload {
  return pack('bulk', `1 bulk flow, ${BULK_TEXT}`, bulk(1, HOT_FRAMES[size]), 1, 1024);
}

export function flows64Workload(size: Size): Workload {
  return pack('flows-64', `64 interleaved bulk flows (random order), ${BULK_TEXT}`, bulk(64, 2 * HOT_FRAMES[size]), 64, 1024);
}

export function smallWorkload(size: Size): Workload {
  return pack(
    'small',
    `64 flows, payload uniform in 64–200 bytes, ${LINE_RATE_GBPS} Gbit/s arrival`,
    bulk(64, 4 * HOT_FRAMES[size], { smallSegments: [64, 200] }),
    64,
    1024,
  );
}

export function mixedWorkload(size: Size): Workload {
  // Pure ACKs (1 per 4 data segments), handshakes and FINs of short flows, and broken or
  // non-TCP noise: about 30 % of the frames are not candidates.
  return pack(
    'mixed',
    `64 flows of ~200 segments each with handshake and FIN, an ACK per 4 segments, ` +
      `10 % noise (UDP, ARP, bad checksums, truncated), IPv6 on 25 % of flows`,
    generateTraffic({
      seed: WORKLOAD_SEED,
      packets: 2 * HOT_FRAMES[size],
      flows: 64,
      mss: 1448,
      lineRateGbps: LINE_RATE_GBPS,
      ackEvery: 4,
      noise: 0.1,
      flowSegments: 200,
      ipv6: 0.25,
    }),
    64,
    1024,
  );
}

/** The comparison workloads (hot input), in RESULTS.md order. */
export function comparisonWorkloads(size: Size): Workload[] {
  return [bulkWorkload(size), flows64Workload(size), smallWorkload(size), mixedWorkload(size)];
}

/** Flow counts of the scale sweep. */
export const SCALE_FLOWS = [1, 64, 1000, 10_000];

export function scaleWorkload(flows: number, size: Size): Workload {
  const what = flows === 1 ? '1 bulk flow' : `${flows} interleaved bulk flows (random order)`;
  return pack(`scale-${flowLabel(flows)}`, `${what}, ${BULK_TEXT}`, bulk(flows, scaleFrames(flows, size)), flows, maxFlowsFor(flows));
}

/**
 * The scale sweep's control: one flow whose aggregates are as short as those of 10k flows
 * (PSH on every 2nd segment ends each aggregate at 2 segments), to tell the cost of short
 * aggregates from the cost of many flows.
 */
export function scaleControlWorkload(size: Size): Workload {
  return pack(
    'scale-1-psh2',
    `1 bulk flow, PSH on every 2nd segment (aggregates of 2), ${BULK_TEXT}`,
    bulk(1, SCALE_FRAMES[size], { pshEvery: 2 }),
    1,
    1024,
  );
}

// ---------------------------------------------------------------------------------------------
// Adversarial flow keys (CONTRACT §3: the hash is seeded so that crafted keys cannot collide).

/** The seed the attacker knows (the "non-seeded hash" case). */
export const KNOWN_SEED = 0;
export const ADVERSARIAL_FLOWS = 1000;
export const ADVERSARIAL_MAX_FLOWS = 1024;

interface FlowKey {
  src: Uint8Array;
  sport: number;
}

const DST = new Uint8Array([192, 168, 0, 1]);
const DPORT = 5201;
const NO_VLAN = 0x1000;

/** The engine's key words for an untagged IPv4 flow (twin/parse.ts layout). */
function keyWords(k: FlowKey, out: Uint32Array): Uint32Array {
  out.fill(0);
  out[0] = (4 << 16) | NO_VLAN;
  // Bytes as they sit in the frame, read as little-endian words (both engines do this).
  out[1] = ((k.sport >>> 8) | ((k.sport & 0xff) << 8) | ((DPORT >>> 8) << 16) | ((DPORT & 0xff) << 24)) >>> 0;
  out[2] = (k.src[0] | (k.src[1] << 8) | (k.src[2] << 16) | (k.src[3] << 24)) >>> 0;
  out[6] = (DST[0] | (DST[1] << 8) | (DST[2] << 16) | (DST[3] << 24)) >>> 0;
  return out;
}

/**
 * `count` keys whose hash under `seed` lands in one home slot of a table for `maxFlows` flows:
 * a single probe cluster, so the n-th key costs n probes to find.
 */
export function collidingKeys(seed: number, count: number, maxFlows: number): FlowKey[] {
  const mask = slotCount(maxFlows) - 1;
  const words = new Uint32Array(10);
  const keys: FlowKey[] = [];
  let target = -1;
  for (let n = 0; keys.length < count; n++) {
    // Distinct sources 10.x.y.z; the port varies too, as an attacker's would.
    const k = { src: new Uint8Array([10, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]), sport: 1024 + (n % 60000) };
    const slot = hashKey(keyWords(k, words), seed) & mask;
    if (target < 0) target = slot;
    if (slot === target) keys.push(k);
  }
  return keys;
}

/** `count` ordinary keys (distinct sources and seeded random ports). */
export function randomKeys(count: number): FlowKey[] {
  const rng = new Prng(WORKLOAD_SEED ^ 0x5a5a);
  return Array.from({ length: count }, (_, n) => ({
    src: new Uint8Array([10, 2, (n >>> 8) & 0xff, n & 0xff]),
    sport: rng.int(32768, 60999),
  }));
}

/** Linear-probing statistics of `keys` in a table of `maxFlows` under `seed` (the twin's own table). */
export function probeStats(keys: FlowKey[], seed: number, maxFlows: number): { mean: number; max: number } {
  const table = new FlowTable(maxFlows, seed);
  const words = new Uint32Array(10);
  const hashes: number[] = [];
  for (const k of keys) {
    keyWords(k, words);
    if (table.lookup(words) !== -1) throw new Error('probeStats: a key given twice');
    table.insert(words);
    hashes.push(hashKey(words, seed));
  }
  const mask = table.slots.length - 1;
  let sum = 0;
  let max = 0;
  for (let f = 0; f < keys.length; f++) {
    let probes = 1;
    for (let i = hashes[f] & mask; table.slots[i] !== f + 1; i = (i + 1) & mask) probes++;
    sum += probes;
    max = Math.max(max, probes);
  }
  return { mean: sum / keys.length, max };
}

/** Check that keyWords() is what the engine's parser produces for a frame of that key. */
export function checkKeyLayout(k: FlowKey): boolean {
  const p = new Parsed(1, true);
  p.parse(tcpFrame({ src: k.src, dst: DST, sport: k.sport, dport: DPORT, payload: 10 }));
  const w = keyWords(k, new Uint32Array(10));
  return p.key.every((v, i) => v === w[i]);
}

/** Bulk flows with the given keys, frames in seeded random order at the benchmark line rate. */
export function keyedWorkload(name: string, description: string, keys: FlowKey[], size: Size): Workload {
  const packets = Math.max(2 * HOT_FRAMES[size], keys.length * 2);
  const rng = new Prng(WORKLOAD_SEED);
  const seq = keys.map(() => rng.next());
  const nsPerByte = 8 / LINE_RATE_GBPS;
  let ns = 0;
  const frames = function* () {
    for (let i = 0; i < packets; i++) {
      const f = rng.int(0, keys.length - 1);
      const tsval = Math.floor(ns / 1e6);
      const data = tcpFrame({
        src: keys[f].src,
        dst: DST,
        sport: keys[f].sport,
        dport: DPORT,
        seq: seq[f],
        ack: 1,
        flags: ACK,
        options: tcpTimestampOption(tsval, 1),
        payload: 1448,
      });
      seq[f] = (seq[f] + 1448) >>> 0;
      yield { data, timeUs: Math.floor(ns / 1000) };
      ns += data.length * nsPerByte;
    }
  };
  return pack(name, description, frames(), keys.length, ADVERSARIAL_MAX_FLOWS);
}
