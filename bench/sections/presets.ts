// Presets: gro next to throughput (CONTRACT §4) on traffic where they cut differently — PSH on
// every write, TCP timestamps that tick, ACKs that advance with a window that moves (a
// bidirectional transfer) — and on plain bulk traffic, where they must cut alike. Both presets
// run on the WASM engine, timed in one group per workload; each row gives the packets out,
// segments per aggregate and Mpps of both.
import { ACK, PSH, tcpFrame, tcpTimestampOption } from '../../bindings/packet/index.js';
import { timeGroup, type OutputShape } from '../harness.js';
import { Markdown, num, rateCell, ratio, mpps, type Figure } from '../report.js';
import { LINE_RATE_GBPS, bulkWorkload, pack, type Size, type Workload } from '../workloads.js';
import { closeAll, engineRunner, figures, segmentsPerAggregate, type BenchContext, type Section } from './context.js';

const PRESETS = ['gro', 'throughput'] as const;
type PresetName = (typeof PRESETS)[number];

/** Frames per pass: ~6 MB at 1448 bytes, as the comparison workloads (hot input). */
const FRAMES: Record<Size, number> = { full: 4000, quick: 4000, tiny: 400 };
/** Segments per application write (PSH on its last), per TSval tick, per ACK advance. */
const EVERY = 4;
const MSS = 1448;

interface Shape {
  /** PSH on the last segment of every EVERY-segment write. */
  psh: boolean;
  /** TSval advances by one every EVERY segments (TSecr too, every 2 × EVERY). */
  tsTicks: boolean;
  /** ACK advances by one MSS and the window moves every EVERY segments (the peer sends data too). */
  ackAdvances: boolean;
}

/** One bulk flow of MSS-byte segments at the benchmark line rate, shaped as `s` says. */
function shapedFlow(name: string, description: string, frames: number, s: Shape): Workload {
  const nsPerByte = 8 / LINE_RATE_GBPS;
  let ns = 0;
  const source = function* () {
    for (let i = 0; i < frames; i++) {
      const tick = Math.floor(i / EVERY);
      const data = tcpFrame({
        src: '10.0.0.1',
        dst: '192.168.0.1',
        sport: 40000,
        dport: 5201,
        seq: (1000 + i * MSS) >>> 0,
        ack: (77_000 + (s.ackAdvances ? tick * MSS : 0)) >>> 0,
        flags: s.psh && i % EVERY === EVERY - 1 ? ACK | PSH : ACK,
        window: s.ackAdvances ? 500 + (tick % 7) : 502,
        ipId: i & 0xffff,
        options: tcpTimestampOption(5000 + (s.tsTicks ? tick : 0), 9000 + (s.tsTicks ? tick >> 1 : 0)),
        payload: MSS,
      });
      yield { data, timeUs: Math.floor(ns / 1000) };
      ns += data.length * nsPerByte;
    }
  };
  return pack(name, description, source(), 1, 1024);
}

/** The workloads of this section, in RESULTS.md order (plain bulk first: the control). */
export function presetWorkloads(size: Size): Workload[] {
  const n = FRAMES[size];
  const flow = `1 bulk flow, ${MSS}-byte segments, TCP timestamps, ${LINE_RATE_GBPS} Gbit/s arrival`;
  return [
    bulkWorkload(size),
    shapedFlow('psh-writes', `${flow}, PSH on every write of ${EVERY} segments`, n, { psh: true, tsTicks: false, ackAdvances: false }),
    shapedFlow('ts-ticking', `${flow}, TSval +1 every ${EVERY} segments`, n, { psh: false, tsTicks: true, ackAdvances: false }),
    shapedFlow('ack-advancing', `${flow}, ACK +1 MSS and a new window every ${EVERY} segments`, n, {
      psh: false,
      tsTicks: false,
      ackAdvances: true,
    }),
    shapedFlow('all-three', `${flow}, PSH, TSval, ACK and window all move every ${EVERY} segments`, n, {
      psh: true,
      tsTicks: true,
      ackAdvances: true,
    }),
  ];
}

export interface PresetRow {
  w: Workload;
  shape: Record<PresetName, OutputShape>;
  f: Record<PresetName, Figure>;
}

export interface Presets extends Section {
  rows: PresetRow[];
}

export async function presetsSection(ctx: BenchContext): Promise<Presets> {
  const rows: PresetRow[] = [];
  for (const w of presetWorkloads(ctx.size)) {
    ctx.log(`presets: ${w.name}`);
    const runners = await Promise.all(PRESETS.map((preset) => engineRunner(w, { kind: 'wasm', engine: { preset } })));
    const shape = Object.fromEntries(PRESETS.map((p, i) => [p, runners[i].check()])) as Record<PresetName, OutputShape>;
    const t = await timeGroup(Object.fromEntries(PRESETS.map((p, i) => [p, () => runners[i].run()])), ctx.timing);
    closeAll(runners);
    rows.push({ w, shape, f: figures(w, t) as Record<PresetName, Figure> });
  }
  const bulk = rows[0];
  if (bulk.shape.gro.packetsOut !== bulk.shape.throughput.packetsOut) {
    ctx.notes.push(
      `presets: on plain bulk traffic gro sent ${bulk.shape.gro.packetsOut} packets, throughput ${bulk.shape.throughput.packetsOut}`,
    );
  }
  return { markdown: render(rows), rows };
}

function render(rows: PresetRow[]): Markdown {
  const md = new Markdown();
  md.h(2, 'Presets: gro and throughput');
  md.p(
    '`throughput` is `gro` with three relaxations (CONTRACT §4): PSH joins and does not end the aggregate; TCP ' +
      'timestamps that only move forward join; an ACK that only moves forward joins, whatever the window. On plain ' +
      'bulk traffic the two cut alike; where a sender pushes every write, its timestamps tick or its ACKs advance ' +
      '(a bidirectional transfer), `gro` cuts where Linux GRO cuts and `throughput` keeps going. WASM engine, ' +
      `checksums verified, pushBatch × 256, a sink; both presets timed in one group per workload. ${rows[0].w.frames.length} ` +
      'frames per pass (the workloads: below the table).',
  );
  md.table(
    [
      'workload',
      'gro: packets out',
      'gro: segments / aggregate',
      'gro Mpps',
      'throughput: packets out',
      'throughput: segments / aggregate',
      'throughput Mpps',
      'throughput / gro (Mpps)',
    ],
    rows.map((r) => [
      r.w.name,
      r.shape.gro.packetsOut,
      num(segmentsPerAggregate(r.shape.gro), 1),
      rateCell(r.f.gro),
      r.shape.throughput.packetsOut,
      num(segmentsPerAggregate(r.shape.throughput), 1),
      rateCell(r.f.throughput),
      ratio(mpps(r.f.throughput) / mpps(r.f.gro)),
    ]),
  );
  md.p(rows.map((r) => `${r.w.name}: ${r.w.description}.`).join(' '));
  return md;
}
