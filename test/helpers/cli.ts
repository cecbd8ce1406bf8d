// Helpers for the CLI tests: run `lro` in-process or as a child process, read captures back,
// build multi-interface pcapng files, and the engine's own output as the reference.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { copyRecord, openCapture, type CaptureInfo, type CaptureRecord } from '../../bindings/capture/index.js';
import { main } from '../../bindings/cli/main.js';
import { LINK_TYPES } from '../../bindings/pipeline/link-types.js';
import { createEngine } from '../../bindings/index.js';
import type { EngineOptions, Packet } from '../../bindings/engine/types.js';
import { differenceLine, firstDifference } from './bytes.js';

export const BIN = fileURLToPath(new URL('../../bin/lro.js', import.meta.url));

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** `lro …` in this process. */
export async function lro(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), progress: null });
  return { code, out, err };
}

/** `node bin/lro.js …` as a child process. */
export function lroProcess(...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Every record of a capture, copied, and the capture's info. */
export function readRecords(path: string): { info: CaptureInfo; records: CaptureRecord[] } {
  const reader = openCapture(path);
  const records: CaptureRecord[] = [];
  for (let r = reader.next(); r !== null; r = reader.next()) records.push(copyRecord(r));
  return { info: reader.info, records };
}

// ------------------------------------------------------------------ pcapng building

function u32(v: DataView, at: number, x: number): void {
  v.setUint32(at, x >>> 0, true);
}

/** SHB (little-endian, section length -1, no options). */
export function shb(): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  u32(v, 0, 0x0a0d0d0a);
  u32(v, 4, 28);
  u32(v, 8, 0x1a2b3c4d);
  v.setUint16(12, 1, true);
  v.setInt32(16, -1, true);
  v.setInt32(20, -1, true);
  u32(v, 24, 28);
  return b;
}

/** IDB with an optional if_tsresol. */
export function idb(linkType: number, tsresol = 6): Uint8Array {
  const len = tsresol === 6 ? 20 : 32;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  u32(v, 0, 1);
  u32(v, 4, len);
  v.setUint16(8, linkType, true);
  u32(v, 12, 262144);
  if (tsresol !== 6) {
    v.setUint16(16, 9, true);
    v.setUint16(18, 1, true);
    b[20] = tsresol;
  }
  u32(v, len - 4, len);
  return b;
}

/** EPB with the record's timestamp words, lengths and tail (options). */
export function epb(iface: number, r: CaptureRecord): Uint8Array {
  const n = r.data.length;
  const tail = r.tail.length ? r.tail : new Uint8Array((4 - (n & 3)) & 3);
  const len = 28 + n + tail.length + 4;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  u32(v, 0, 6);
  u32(v, 4, len);
  u32(v, 8, iface);
  u32(v, 12, r.tsHigh);
  u32(v, 16, r.tsLow);
  u32(v, 20, n);
  u32(v, 24, r.origLen);
  b.set(r.data, 28);
  b.set(tail, 28 + n);
  u32(v, len - 4, len);
  return b;
}

/** SPB (no timestamp: readers give it the previous record's time). */
export function spb(r: CaptureRecord): Uint8Array {
  const n = r.data.length;
  const len = 12 + ((n + 3) & ~3) + 4;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  u32(v, 0, 3);
  u32(v, 4, len);
  u32(v, 8, r.origLen);
  b.set(r.data, 12);
  u32(v, len - 4, len);
  return b;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * One pcapng section with one interface per input pcapng (µs or ns, one interface each),
 * packets merged by time (stable), timestamps and options kept.
 */
export function mergeInterfaces(outPath: string, inputs: string[]): void {
  const parts: Uint8Array[] = [shb()];
  const all: { iface: number; r: CaptureRecord; k: number }[] = [];
  inputs.forEach((path, iface) => {
    const { info, records } = readRecords(path);
    const i = info.interfaces[0];
    parts.push(idb(i.linkType, i.tsresol));
    for (const [k, r] of records.entries()) all.push({ iface, r, k });
  });
  all.sort((a, b) => a.r.timeUs - b.r.timeUs || a.iface - b.iface || a.k - b.k);
  for (const { iface, r } of all) parts.push(epb(iface, r));
  writeFileSync(outPath, concat(parts));
}

// ------------------------------------------------------------------ the reference

/**
 * What the engine itself sends for these records (one interface), pushed one by one. As `lro
 * coalesce` does: a link-header prefix (BSD loopback's family) is cut before the engine and put
 * back from the packet's first record; a link type no engine takes passes every record through.
 */
export async function referencePackets(records: CaptureRecord[], linkType: number, options: EngineOptions): Promise<Packet[]> {
  const link = LINK_TYPES.get(linkType);
  if (!link) return records.map((r, i) => ({ data: r.data, segments: 1, inputIndex: i, reason: 'pass-through' }) as Packet);
  const engine = await createEngine({ engine: 'ts', ...options, linkType: link.engine });
  const out: Packet[] = [];
  const withPrefix = (p: Packet): Packet =>
    link.prefix ? { ...p, data: concat([records[p.inputIndex].data.subarray(0, link.prefix), p.data]) } : p;
  for (const r of records) {
    // The CLI's engine clock: capture times outside [0, 2^53) µs pinned to its ends (CONTRACT §1).
    engine.push(r.data.subarray(Math.min(link.prefix, r.data.length)), Math.min(Math.max(r.timeUs, 0), 2 ** 53 - 1));
    out.push(...engine.drain().map(withPrefix));
  }
  engine.close();
  out.push(...engine.drain().map(withPrefix));
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface MatchReport {
  packets: number;
  passThroughOrSingle: number;
  aggregates: number;
}

/**
 * The output file holds exactly the engine's packets, interface by interface, each at the
 * position of its first segment (the engine's packets ordered by inputIndex); packets of one
 * segment are their input record (timestamp words, origLen, block type, options), the others
 * are new records stamped with their first segment's timestamp. Across interfaces the output
 * keeps the input's order of first segments. Returns counts; throws a descriptive Error on the
 * first difference.
 */
export async function checkAgainstEngine(input: string, output: string, options: EngineOptions = {}): Promise<MatchReport> {
  const a = readRecords(input);
  const b = readRecords(output);
  const report: MatchReport = { packets: 0, passThroughOrSingle: 0, aggregates: 0 };
  const ids = [...new Set(a.records.map((r) => r.interfaceId))];
  if (b.records.some((r) => !ids.includes(r.interfaceId))) throw new Error('output has packets on an interface without input');
  // Position in the whole input of each interface's k-th record, to check the order across interfaces.
  const positions = new Map<number, number[]>();
  for (const [k, r] of a.records.entries()) {
    const list = positions.get(r.interfaceId);
    if (list) list.push(k);
    else positions.set(r.interfaceId, [k]);
  }
  const outputPosition = new Map<CaptureRecord, number>();
  for (const id of ids) {
    const ins = a.records.filter((r) => r.interfaceId === id);
    const outs = b.records.filter((r) => r.interfaceId === id);
    const expected = (await referencePackets(ins, ins[0].linkType, options)).sort((x, y) => x.inputIndex - y.inputIndex);
    if (outs.length !== expected.length)
      throw new Error(`interface ${id}: ${outs.length} packets written, the engine sent ${expected.length}`);
    expected.forEach((p, i) => {
      const o = outs[i];
      outputPosition.set(o, positions.get(id)![p.inputIndex]);
      if (hex(o.data) !== hex(p.data)) {
        throw new Error(
          `interface ${id}, packet ${i}: bytes differ from the engine's (${p.reason}, ${p.segments} segments): ` +
            differenceLine(firstDifference(o.data, p.data, ins[0].linkType)!),
        );
      }
      const src = ins[p.inputIndex];
      if (p.segments === 1) {
        // An SPB cut by a snap length the output raised is written as an EPB at the time the reader gave it.
        const cutSpb = src.kind === 3 && o.kind === 6 && o.timeUs === src.timeUs && o.data.length < src.origLen;
        const same =
          o.origLen === src.origLen &&
          (cutSpb || (o.tsHigh === src.tsHigh && o.tsLow === src.tsLow && o.kind === src.kind && hex(o.tail) === hex(src.tail)));
        if (!same)
          throw new Error(
            `interface ${id}, packet ${i} (${p.reason}): not written as its original record (ts ${o.tsHigh}:${o.tsLow} vs ${src.tsHigh}:${src.tsLow})`,
          );
        report.passThroughOrSingle++;
      } else {
        // A first segment in a simple packet block (no timestamp) makes the aggregate one too.
        const stamped = src.kind === 3 ? o.kind === 3 : o.tsHigh === src.tsHigh && o.tsLow === src.tsLow;
        if (!stamped)
          throw new Error(`interface ${id}, packet ${i}: time ${o.timeUs}, its first segment (input ${p.inputIndex}) has ${src.timeUs}`);
        if (o.origLen !== o.data.length) throw new Error(`interface ${id}, packet ${i}: origLen ${o.origLen} ≠ ${o.data.length}`);
        report.aggregates++;
      }
      report.packets++;
    });
  }
  // Across interfaces (and sections): output records in the order of their first segments.
  let last = -1;
  for (const [k, o] of b.records.entries()) {
    const at = outputPosition.get(o)!;
    if (at < last) throw new Error(`output record ${k} starts at input ${at}, before the previous record's ${last}`);
    last = at;
  }
  return report;
}
