// Host-side effect: what the engine hands on (packets, segments per aggregate) for the comparison
// and scale workloads, and end to end: a simple JS TCP consumer on raw frames vs behind the engine.
import { TcpConsumer } from '../consumer.js';
import { timeGroup, type Runner } from '../harness.js';
import { Markdown, nsCell, nsPerFrame, num, pct, rateCell, ratio, type Figure } from '../report.js';
import { flows64Workload, type Workload } from '../workloads.js';
import type { ComparisonRow } from './comparison.js';
import { closeAll, engineRunner, figures, segmentsPerAggregate, type BenchContext, type Section } from './context.js';
import type { ScaleRow } from './scale.js';

interface E2E {
  w: Workload;
  f: Record<string, Figure>;
  delivered: Record<string, number>;
  expected: number;
}

export interface EndToEnd extends Section {
  /** Bulk: ns per input frame of the verifying consumer on raw frames, of the WASM engine alone, and raw over behind the WASM engine. */
  bulkRawNs: number;
  bulkEngineOnlyNs: number;
  bulkGain: number;
}

/** The simple consumer fed the raw frames. */
class RawConsumerRunner implements Runner {
  readonly consumer: TcpConsumer;

  constructor(
    private readonly w: Workload,
    verify: boolean,
  ) {
    this.consumer = new TcpConsumer(verify);
  }

  run(): void {
    this.consumer.rewind();
    for (const f of this.w.frames) this.consumer.receive(f);
  }

  close(): void {}
}

/** The simple consumer behind an engine (the engine verified every segment it aggregated). */
async function consumerBehindEngine(w: Workload, kind: 'wasm' | 'ts', verify: boolean): Promise<{ runner: Runner; consumer: TcpConsumer }> {
  const consumer = new TcpConsumer(verify);
  const engine = await engineRunner(w, {
    kind,
    verify,
    sink: (data, meta) => consumer.receive(data, verify && meta.reason !== 'pass-through'),
  });
  return {
    consumer,
    runner: {
      run: () => {
        consumer.rewind();
        engine.run();
      },
      close: () => engine.close(),
    },
  };
}

/** Total TCP payload of the workload's frames (what a consumer should deliver per pass). */
function payloadBytes(w: Workload): number {
  let n = 0;
  for (const f of w.frames) {
    const l3 = 14;
    const l4 = l3 + (f[l3] & 15) * 4;
    n += l3 + ((f[l3 + 2] << 8) | f[l3 + 3]) - l4 - (f[l4 + 12] >> 4) * 4;
  }
  return n;
}

export async function endToEndSection(ctx: BenchContext, comparison: ComparisonRow[], scale: ScaleRow[]): Promise<EndToEnd> {
  // 7. End to end: a JS TCP consumer on raw frames vs behind the engine --------------------------
  ctx.log('end to end');
  const e2e: E2E[] = [];
  for (const w of [comparison[0].w, flows64Workload(ctx.size)]) {
    const paths: Record<string, { runner: Runner; consumer: TcpConsumer }> = {};
    for (const verify of [true, false]) {
      const raw = new RawConsumerRunner(w, verify);
      paths[`raw-${verify}`] = { runner: raw, consumer: raw.consumer };
      paths[`wasm-${verify}`] = await consumerBehindEngine(w, 'wasm', verify);
      if (verify) paths[`ts-${verify}`] = await consumerBehindEngine(w, 'ts', verify);
    }
    const engineOnly = await engineRunner(w, { kind: 'wasm' }); // the engine's own cost, same group
    paths['engine-only'] = { runner: engineOnly, consumer: new TcpConsumer(false) };
    const delivered: Record<string, number> = {};
    for (const [k, p] of Object.entries(paths)) {
      const before = p.consumer.delivered;
      p.runner.run();
      delivered[k] = p.consumer.delivered - before;
    }
    const t = await timeGroup(Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, () => p.runner.run()])), ctx.timing);
    e2e.push({ w, delivered, expected: payloadBytes(w), f: figures(w, t) });
    closeAll(Object.values(paths).map((p) => p.runner));
  }
  const bulk = e2e[0];
  return {
    markdown: render(comparison, scale, e2e),
    bulkRawNs: nsPerFrame(bulk.f['raw-true']),
    bulkEngineOnlyNs: nsPerFrame(bulk.f['engine-only']),
    bulkGain: nsPerFrame(bulk.f['raw-true']) / nsPerFrame(bulk.f['wasm-true']),
  };
}

function render(rows: ComparisonRow[], scale: ScaleRow[], e2e: E2E[]): Markdown {
  const md = new Markdown();
  md.h(2, 'Host-side effect');
  md.table(
    ['workload', 'frames in', 'packets out', 'segments / aggregate (mean)', 'largest aggregate', 'frames in aggregates'],
    [
      ...rows.map((r) => [
        r.w.name,
        r.w.frames.length,
        r.shapes.wasm.packetsOut,
        num(segmentsPerAggregate(r.shapes.wasm), 1),
        r.shapes.wasm.maxSegments,
        pct(r.shapes.wasm.segmentsInAggregates / r.w.frames.length),
      ]),
      ...scale.map((s) => [
        s.w.name,
        s.w.frames.length,
        s.shape.packetsOut,
        num(segmentsPerAggregate(s.shape), 1),
        s.shape.maxSegments,
        pct(s.shape.segmentsInAggregates / s.w.frames.length),
      ]),
    ],
  );
  md.p(
    'The naive aggregator makes the same aggregates: ' +
      rows
        .map((r) => `${r.w.name} ${r.shapes.naive.packetsOut} packets (${num(segmentsPerAggregate(r.shapes.naive), 1)} segs/agg)`)
        .join(', ') +
      '.',
  );
  md.h(3, 'End to end: a simple JS TCP consumer, raw frames vs behind the engine');
  md.p(
    'bench/consumer.ts parses each packet, verifies its TCP checksum (when on; with the fastest JS checksum, the ' +
      "twin's), finds the connection in a Map and copies the payload in order into the connection's stream ring. " +
      'Behind the engine it skips verification of aggregates, which the engine verified segment by segment (as ' +
      "Linux trusts GRO packets: CHECKSUM_UNNECESSARY); the engine's own cost is included. Rates are input frames " +
      'per second.',
  );
  const e2eRows: (string | number)[][] = [];
  for (const e of e2e) {
    const ok = Object.entries(e.delivered).every(([k, d]) => k === 'engine-only' || d === e.expected);
    for (const [k, label] of [
      ['raw-true', 'consumer on raw frames, verifying'],
      ['wasm-true', 'WASM engine → consumer'],
      ['ts-true', 'TS twin → consumer'],
      ['raw-false', 'consumer on raw frames, no verification'],
      ['wasm-false', 'WASM engine (no verification) → consumer'],
    ] as const) {
      const base = k.endsWith('true') ? e.f['raw-true'] : e.f['raw-false'];
      e2eRows.push([
        e.w.name,
        label,
        rateCell(e.f[k]),
        nsCell(e.f[k]),
        ratio(nsPerFrame(base) / nsPerFrame(e.f[k])),
        `${e.delivered[k]}${ok ? '' : ` (expected ${e.expected})`}`,
      ]);
    }
  }
  md.table(['workload', 'path', 'Mpps', 'ns per input frame', 'speed-up vs raw', 'payload bytes delivered per pass'], e2eRows);
  md.p(
    "The engine's own cost bounds the gain: " +
      e2e
        .map((e) => {
          const raw = nsPerFrame(e.f['raw-true']);
          const alone = nsPerFrame(e.f['engine-only']);
          return (
            `on ${e.w.name} the verifying consumer spends ${num(raw, 0)} ns per raw frame and the WASM engine alone ` +
            `(same group, no consumer) ${num(alone, 0)} ns, so a consumer behind it could be at most ${ratio(raw / alone)} ` +
            `faster even if it cost nothing; measured ${ratio(raw / nsPerFrame(e.f['wasm-true']))}`
          );
        })
        .join('; ') +
      ". The rest goes to the consumer's per-aggregate work and its per-byte copy into the stream; " +
      'without verification the raw consumer is cheaper and the possible gain smaller.',
  );
  return md;
}
