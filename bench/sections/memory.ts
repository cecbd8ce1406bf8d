// Memory of both engines: per tracked flow (its record, table slots, timer links and, with the
// default maxPending = maxFlows, a pending-aggregate descriptor), the staging ring, the fixed part,
// and 100k flows. Rendered right after the scale table (under its heading).
import { createEngine } from '../../bindings/index.js';
import type { WasmEngine } from '../../bindings/engine/wasm.js';
import type { Engine, EngineOptions } from '../../bindings/engine/types.js';
import { DEFAULT_RING_BYTES } from '../../bindings/engine/options.js';
import { Markdown, num } from '../report.js';
import type { BenchContext, Section } from './context.js';

interface Memory {
  wasmPerFlow: number;
  wasmPerRingByte: number;
  wasmFixed: number;
  tsPerFlow: number;
  tsPerRingByte: number;
  /** "created: … MiB" or "rejected: …" */
  hundredK: string;
  tsHundredK: number;
}

export async function memorySection(ctx: BenchContext): Promise<Section> {
  ctx.log('memory per flow');
  return { markdown: render(await memoryPerFlow()) };
}

function bytesCell(b: number): string {
  return `${Math.round(b)} B (${(b / 1024).toFixed(1)} KiB)`;
}

const MIB = 2 ** 20;

function render(memory: Memory): Markdown {
  const md = new Markdown();
  md.table(
    ['memory', 'WASM engine', 'TS twin'],
    [
      ['per tracked flow (maxFlows 1024 → 16384, maxPending = maxFlows)', bytesCell(memory.wasmPerFlow), bytesCell(memory.tsPerFlow)],
      [
        `staging ring per byte of ringBytes (default ${DEFAULT_RING_BYTES / MIB} MiB)`,
        `${num(memory.wasmPerRingByte, 2)} B`,
        `${num(memory.tsPerRingByte, 2)} B`,
      ],
      ['fixed part (default ring excluded)', `${num(memory.wasmFixed / MIB, 2)} MiB`, '—'],
      ['100k flows, defaults (maxPending = maxFlows, 16 MiB ring)', memory.hundredK, `≈ ${num(memory.tsHundredK / MIB, 0)} MiB`],
    ],
  );
  md.p(
    'A tracked flow costs its record, its table slots, its timer links and a pending-aggregate descriptor ' +
      '(maxPending, default maxFlows: 40 bytes and a stack slot each). A pending aggregate keeps its segments where they ' +
      'were staged, in the staging ring (ringBytes), and is gathered once when sent, so memory follows the traffic held ' +
      '(bounded by the ring, which the AgTimer drains), not maxFlows × 64 KiB; the fixed part includes the 64 build areas ' +
      '(≈ 4 MiB) where the first aggregates pending at once are built as they grow.',
  );
  return md;
}

async function memoryPerFlow(): Promise<Memory> {
  const wasmAt = async (options: EngineOptions) => {
    const e = (await createEngine(options)) as WasmEngine;
    const bytes = e.memoryBytes();
    e.close();
    return bytes;
  };
  const tsAt = async (options: EngineOptions) => {
    const e: Engine = await createEngine({ ...options, engine: 'ts' });
    const bytes = reachableBufferBytes(e);
    e.close();
    return bytes;
  };
  const base = await wasmAt({ maxFlows: 1024 });
  const wasmPerFlow = ((await wasmAt({ maxFlows: 16384 })) - base) / (16384 - 1024);
  const wasmPerRingByte = ((await wasmAt({ maxFlows: 1024, ringBytes: 2 * DEFAULT_RING_BYTES })) - base) / DEFAULT_RING_BYTES;
  const wasmFixed = base - 1024 * wasmPerFlow - DEFAULT_RING_BYTES * wasmPerRingByte;
  const tsBase = await tsAt({ maxFlows: 1024 });
  const tsPerFlow = ((await tsAt({ maxFlows: 16384 })) - tsBase) / (16384 - 1024);
  const tsPerRingByte = ((await tsAt({ maxFlows: 1024, ringBytes: 2 * DEFAULT_RING_BYTES })) - tsBase) / DEFAULT_RING_BYTES;
  let hundredK: string;
  try {
    hundredK = `created: ${num((await wasmAt({ maxFlows: 100_000 })) / MIB, 0)} MiB`;
  } catch (err) {
    hundredK = `rejected: ${(err as Error).message}`;
  }
  return {
    wasmPerFlow,
    wasmPerRingByte,
    wasmFixed,
    tsPerFlow,
    tsPerRingByte,
    hundredK,
    tsHundredK: tsBase + (1e5 - 1024) * tsPerFlow,
  };
}

/** Bytes of every ArrayBuffer reachable from `root` through object properties (the TS twin's tables). */
function reachableBufferBytes(root: unknown): number {
  const seen = new Set<object>();
  const buffers = new Set<ArrayBufferLike>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (ArrayBuffer.isView(v)) buffers.add(v.buffer);
    else if (v instanceof ArrayBuffer) buffers.add(v);
    else stack.push(...Object.values(v));
  }
  let bytes = 0;
  for (const b of buffers) bytes += b.byteLength;
  return bytes;
}
