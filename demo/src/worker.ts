// The demo's worker: the heavy part of a run, off the page's thread. It runs `lro coalesce`'s own
// job (bindings/pipeline/coalesce.ts — reader, engines, ordering, writer) on the dropped file in
// an in-memory file system (shims/fs.ts; node:fs is aliased to it at build time), so the output
// is byte for byte what the CLI writes; samples come from `lro generate`'s writer
// (bindings/traffic/write.ts). The page gets progress, the numbers and plots' data, and the output.
import './shims/globals.js';
import { openCapture } from '../../bindings/capture/index.js';
import { createEngine } from '../../bindings/engine/create.js';
import type { Engine, EngineOptions, Packet } from '../../bindings/engine/types.js';
import { flowKey, parseFrame, type ParsedFrame } from '../../bindings/packet/dissect.js';
import { coalesceFile } from '../../bindings/pipeline/coalesce.js';
import { LINK_TYPES } from '../../bindings/pipeline/link-types.js';
import { writeGenerated } from '../../bindings/traffic/write.js';
import type { ConnectionRow, DemoOptions, DemoResult, FromWorker, RunInput, Timeline, ToWorker } from './protocol.js';
import { SAMPLES } from './samples.js';
import { dropFile, getFile, putFile } from './shims/fs.js';

/** Timelines sent for this many of the busiest connections, at most this many points each way. */
const TIMELINES = 24;
const TIMELINE_POINTS = 6000;

const post = (message: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

/** The current input: its name and path in the in-memory file system. */
let current: { name: string; path: string } | null = null;

async function loadInput(input: RunInput): Promise<{ name: string; path: string }> {
  if (input.kind === 'again') {
    if (!current) throw new Error('no input yet: drop a file or pick a sample');
    return current;
  }
  if (current) dropFile(current.path);
  if (input.kind === 'file') {
    current = { name: input.name, path: `/in/${input.name}` };
    putFile(current.path, new Uint8Array(input.bytes));
  } else {
    const s = SAMPLES[input.sample];
    current = { name: s.name, path: `/in/${s.name}` };
    post({ type: 'progress', phase: 'generating', fraction: 0 });
    await writeGenerated(current.path, s.gen, s.file);
  }
  return current;
}

function outputName(name: string, format: 'pcap' | 'pcapng'): string {
  const base = name.replace(/\.(pcapng|pcap|cap|dmp)$/i, '');
  return `${base}.coalesced.${format}`;
}

class Analysis {
  readonly histogram: number[] = [];
  readonly rows = new Map<string, ConnectionRow>();
  readonly timelines = new Map<string, Timeline>();
  /** First sequence number seen per connection (offsets are taken from it). */
  private readonly seqBase = new Map<string, number>();
  t0 = Number.NaN;
  /** Time spent in output(), inside the coalescing run (the page subtracts it from the job's time). */
  outputMs = 0;

  row(key: string, p: ParsedFrame, iface: number): ConnectionRow {
    let r = this.rows.get(key);
    if (!r) {
      const v6 = p.ipVersion === 6;
      const host = (a: string, port: number) => (v6 ? `[${a}]:${port}` : `${a}:${port}`);
      const tcp = p.tcp!;
      const vlan = p.vlans.length > 0 ? ` vlan ${p.vlans.join('.')}` : '';
      r = {
        key,
        label: `${host(p.src, tcp.sport)} → ${host(p.dst, tcp.dport)}${vlan}${iface > 0 ? ` (if ${iface})` : ''}`,
        packetsIn: 0,
        bytesIn: 0,
        packetsOut: 0,
        bytesOut: 0,
        aggregates: 0,
        segments: 0,
        reasons: {},
      };
      this.rows.set(key, r);
    }
    return r;
  }

  private timeline(key: string): Timeline {
    let t = this.timelines.get(key);
    if (!t) {
      t = { key, inT: [], inSeq: [], inLen: [], outT: [], outSeq: [], outLen: [], outSegments: [], outReason: [], truncated: false };
      this.timelines.set(key, t);
    }
    return t;
  }

  private offset(key: string, seq: number): number {
    let base = this.seqBase.get(key);
    if (base === undefined) {
      base = seq;
      this.seqBase.set(key, seq);
    }
    return (seq - base) >>> 0;
  }

  input(iface: number, linkType: number, data: Uint8Array, timeUs: number): void {
    if (Number.isNaN(this.t0)) this.t0 = timeUs;
    const p = parseFrame(data, linkType);
    if (!p?.tcp) return;
    const key = `${iface}|${flowKey(p)}`;
    const r = this.row(key, p, iface);
    r.packetsIn++;
    r.bytesIn += data.length;
    const len = p.tcp.payload.length;
    if (len === 0) return;
    const t = this.timeline(key);
    if (t.inT.length >= TIMELINE_POINTS) {
      t.truncated = true;
      return;
    }
    t.inT.push(timeUs - this.t0);
    t.inSeq.push(this.offset(key, p.tcp.seq));
    t.inLen.push(len);
  }

  output(iface: number, linkType: number, data: Uint8Array, meta: Omit<Packet, 'data'>): void {
    if (meta.reason !== 'pass-through') this.histogram[meta.segments] = (this.histogram[meta.segments] ?? 0) + 1;
    const p = parseFrame(data, linkType);
    if (!p?.tcp) return;
    const key = `${iface}|${flowKey(p)}`;
    const r = this.row(key, p, iface);
    r.packetsOut++;
    r.bytesOut += data.length;
    if (meta.reason !== 'pass-through') {
      r.aggregates++;
      r.segments += meta.segments;
    }
    r.reasons[meta.reason] = (r.reasons[meta.reason] ?? 0) + 1;
    const len = p.tcp.payload.length;
    const t = this.timelines.get(key);
    if (len === 0 || !t) return;
    if (t.outT.length >= TIMELINE_POINTS) {
      t.truncated = true;
      return;
    }
    t.outT.push(meta.timeUs - this.t0);
    t.outSeq.push(this.offset(key, p.tcp.seq));
    t.outLen.push(len);
    t.outSegments.push(meta.segments);
    t.outReason.push(meta.reason);
  }
}

/** Engines whose output the analysis sees too: their sink is wrapped. */
function tappedEngines(analysis: Analysis, ifaceOf: () => number): (o: EngineOptions) => Promise<Engine> {
  return async (o) => {
    const engine = await createEngine(o);
    const iface = ifaceOf();
    const linkType = o.linkType ?? 1;
    const setSink = engine.setSink.bind(engine);
    engine.setSink = (sink) =>
      setSink(
        sink === null
          ? null
          : (data, meta) => {
              const a = performance.now();
              analysis.output(iface, linkType, data, meta);
              analysis.outputMs += performance.now() - a;
              sink(data, meta);
            },
      );
    return engine;
  };
}

async function run(input: RunInput, options: DemoOptions): Promise<void> {
  const { name, path } = await loadInput(input);
  const size = getFile(path)!.length;
  const analysis = new Analysis();

  // The input's connections and segments, from the records as read.
  post({ type: 'progress', phase: 'analysing', fraction: 0 });
  const reader = openCapture(path);
  const order: number[] = []; // interfaces in the order of their first packet: the order their engines are made
  let records = 0;
  for (let rec = reader.next(); rec !== null; rec = reader.next()) {
    if (++records % 16384 === 0) post({ type: 'progress', phase: 'analysing', fraction: rec.offset / size });
    const link = LINK_TYPES.get(rec.linkType);
    if (link) analysis.input(rec.interfaceId, link.engine, rec.data, rec.timeUs);
    if (!order.includes(rec.interfaceId)) order.push(rec.interfaceId);
  }
  let nextIface = 0;

  // `lro coalesce` itself. Engines are created in the order interfaces first send a packet.
  const outPath = '/out/coalesced';
  dropFile(outPath);
  const t0 = performance.now();
  const result = await coalesceFile({
    input: path,
    output: outPath,
    engine: { ...options },
    createEngine: tappedEngines(analysis, () => order[nextIface++] ?? 0),
    onProgress: (offset) => post({ type: 'progress', phase: 'coalescing', fraction: offset / size }),
  });
  const elapsedMs = performance.now() - t0 - analysis.outputMs;
  const output = getFile(outPath)!;
  dropFile(outPath);

  const connections = [...analysis.rows.values()].sort((a, b) => b.packetsIn - a.packetsIn || a.label.localeCompare(b.label));
  const timelines = connections
    .slice(0, TIMELINES)
    .map((c) => analysis.timelines.get(c.key))
    .filter((t): t is Timeline => t !== undefined);
  const copy = output.slice().buffer;
  const histogram = Array.from({ length: analysis.histogram.length }, (_, i) => analysis.histogram[i] ?? 0);
  const res: DemoResult = {
    name,
    outputName: outputName(name, result.format),
    format: result.format,
    options,
    inputBytes: size,
    outputBytes: output.length,
    interfaces: result.interfaces.length,
    elapsedMs,
    stats: result.stats,
    histogram,
    connections,
    timelines,
  };
  post({ type: 'result', result: res, output: copy }, [copy]);
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.type !== 'run') return;
  run(m.input, m.options).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};
