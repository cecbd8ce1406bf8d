// The live Linux GRO run, shared by test/linux-gro.test.ts and bench/compare-linux.ts (npm run
// compare:linux): capture.sh runs FLOWS at once between two network namespaces and captures the
// wire (pre.pcap, the sender's veth with TSO/GSO off) and what Linux GRO made of it (post.pcap,
// the receiver's veth with GRO on). Needs root, iproute2, ethtool and tcpdump.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../../bindings/capture/index.js';
import { flowKey, parseFrame } from '../../bindings/packet/index.js';

export interface FlowSpec {
  name: string;
  ipv6?: boolean;
  bytes: number;
  /** Write this many bytes at a time (TCP_NODELAY), pausing pauseMs between writes; else one bulk write. */
  write?: number;
  pauseMs?: number;
}

/** Started together: three IPv4 bulk transfers, one of small writes with pauses, one IPv6 bulk transfer. */
export const FLOWS: readonly FlowSpec[] = [
  { name: 'IPv4 bulk A, 2 MiB', bytes: 2 << 20 },
  { name: 'IPv4 bulk B, 1 MiB', bytes: 1 << 20 },
  { name: 'IPv4 bulk C, 1 MiB', bytes: 1 << 20 },
  { name: 'IPv4 200-byte writes, 2 ms apart', bytes: 200 * 100, write: 200, pauseMs: 2 },
  { name: 'IPv6 bulk, 2 MiB', ipv6: true, bytes: 2 << 20 },
];

export interface Frame {
  data: Uint8Array;
  timeUs: number;
}

export interface Flow extends FlowSpec {
  index: number;
  /** The client's port. */
  port: number;
  /** flowKey() of the data direction (client → server). */
  key: string;
}

export interface LinuxRun {
  dir: string;
  wirePath: string;
  linuxPath: string;
  wire: Frame[];
  linux: Frame[];
  flows: Flow[];
  /** Captures taken, and why the ones before the last were not kept. */
  attempts: number;
  retries: string[];
}

/** Byte i of flow k (test/linux-gro/flows.mjs writes the same). */
export function flowBytes(k: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + k * 17 + (i >>> 11)) & 0xff;
  return b;
}

/** Every frame of a capture, copied as it is read (a record's bytes are valid only until the next one is read). */
export function load(path: string): Frame[] {
  const frames: Frame[] = [];
  for (const r of readCapture(path)) frames.push({ data: r.data.slice(), timeUs: r.timeUs });
  return frames;
}

/** Per flow key: data packets (TCP with payload), payload bytes, largest payload. */
export function dataByFlow(frames: Iterable<Uint8Array>): Map<string, { packets: number; bytes: number; largest: number }> {
  const out = new Map<string, { packets: number; bytes: number; largest: number }>();
  for (const f of frames) {
    const p = parseFrame(f);
    const n = p?.tcp?.payload.length ?? 0;
    if (!p || n === 0) continue;
    const key = flowKey(p);
    const e = out.get(key) ?? { packets: 0, bytes: 0, largest: 0 };
    e.packets++;
    e.bytes += n;
    e.largest = Math.max(e.largest, n);
    out.set(key, e);
  }
  return out;
}

/**
 * Per flow key, the payload in sequence order with bytes seen before dropped (a retransmission
 * adds nothing), and whether a hole was left (bytes never seen: a capture lost packets).
 */
export function reassemble(frames: Iterable<Uint8Array>): Map<string, { bytes: Buffer; holes: number }> {
  const segments = new Map<string, { seq: number; payload: Uint8Array }[]>();
  for (const f of frames) {
    const p = parseFrame(f);
    if (!p?.tcp || p.tcp.payload.length === 0) continue;
    const key = flowKey(p);
    const list = segments.get(key) ?? [];
    list.push({ seq: p.tcp.seq, payload: p.tcp.payload });
    segments.set(key, list);
  }
  const out = new Map<string, { bytes: Buffer; holes: number }>();
  for (const [key, list] of segments) {
    // Offsets from the first data segment's sequence number (these streams are far below 2^31).
    const first = list[0].seq;
    const at = (seq: number) => (seq - first) | 0;
    const sorted = [...list].sort((a, b) => at(a.seq) - at(b.seq));
    const start = Math.min(0, at(sorted[0].seq));
    const parts: Uint8Array[] = [];
    let next = start;
    let holes = 0;
    for (const { seq, payload } of sorted) {
      const from = at(seq);
      if (from > next) holes++;
      const skip = Math.max(0, next - from);
      if (skip >= payload.length) continue;
      parts.push(payload.subarray(skip));
      next = from + payload.length;
    }
    out.set(key, { bytes: Buffer.concat(parts), holes });
  }
  return out;
}

/**
 * Run the capture, again (up to `attempts` times) when a capture lacks some of a flow's bytes
 * (tcpdump lost packets: its stream in sequence order is not exactly the flow's bytes; a TCP
 * retransmission is fine), or when Linux aggregated nothing at all (its aggregate boundaries
 * depend on NAPI poll timing). Throws when no attempt qualifies, or when a flow did not arrive whole.
 */
export function runLinuxGro(dir: string, attempts = 3): LinuxRun {
  const retries: string[] = [];
  const script = join(import.meta.dirname, 'capture.sh');
  for (let attempt = 1; attempt <= attempts; attempt++) {
    execFileSync('bash', [script, dir, JSON.stringify(FLOWS)], { stdio: 'pipe', timeout: 90_000 });
    const ports = new Map<string, number>();
    for (const line of readFileSync(join(dir, 'flows'), 'utf8').split('\n').filter(Boolean)) {
      const { name, port } = JSON.parse(line) as { name: string; port: number };
      ports.set(name, port);
    }
    const received = JSON.parse(readFileSync(join(dir, 'received'), 'utf8')) as Record<string, number>;
    const flows = FLOWS.map((f, index) => {
      const port = ports.get(f.name);
      if (port === undefined) throw new Error(`flow ${f.name}: the client did not connect`);
      if (received[port] !== f.bytes) throw new Error(`flow ${f.name}: the server received ${received[port]} bytes, not ${f.bytes}`);
      const [client, server] = f.ipv6 ? ['fd77::1', 'fd77::2'] : ['10.77.0.1', '10.77.0.2'];
      return { ...f, index, port, key: `${f.ipv6 ? 6 : 4}|${client}|${port}|${server}|5201|-` };
    });
    const wirePath = join(dir, 'pre.pcap');
    const linuxPath = join(dir, 'post.pcap');
    const wire = load(wirePath);
    const linux = load(linuxPath);
    const onWire = dataByFlow(wire.map((f) => f.data));
    const byLinux = dataByFlow(linux.map((f) => f.data));
    const streams = [reassemble(wire.map((f) => f.data)), reassemble(linux.map((f) => f.data))];
    const incomplete = flows.filter((f) => {
      const bytes = flowBytes(f.index, f.bytes);
      return streams.some((m) => !m.get(f.key)?.bytes.equals(bytes));
    });
    const aggregated = flows.some((f) => (byLinux.get(f.key)?.largest ?? 0) > (onWire.get(f.key)?.largest ?? 0));
    if (incomplete.length === 0 && aggregated) return { dir, wirePath, linuxPath, wire, linux, flows, attempts: attempt, retries };
    retries.push(
      incomplete.length > 0
        ? `attempt ${attempt}: ${incomplete.map((f) => f.name).join(', ')}: a capture lacks some of the flow's bytes (tcpdump lost packets)`
        : `attempt ${attempt}: Linux aggregated nothing`,
    );
  }
  throw new Error(`no usable capture in ${attempts} attempts: ${retries.join('; ')}`);
}
